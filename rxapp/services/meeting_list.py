"""The Meetings page's query: a principal's telehealth appointments (meetings), filtered,
searched, sorted and paginated.

Practitioners see only their own meetings; owners and managers see the whole practice. The
status shown on a row and the status filter both come from `display_status`, so what a row
says and what the filter finds cannot drift apart.

Pages are read by keyset on (start_at, id): a page is "the next N after this row" (or "before"),
so every page costs an index seek and N rows however deep it is, and nothing is counted; the
page says whether there is a previous and a next one instead of a total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, false, or_, tuple_
from sqlmodel import col, select

from rxapp.db import reading, unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, SyncState, User
from rxapp.services.clock import now
from rxapp.services.meetings.decisions import DisplayStatus, display_status
from rxapp.services.permissions import Action, Principal, can, require

DISPLAY_STATUSES: dict[DisplayStatus, str] = {status: status.label for status in DisplayStatus}
MAX_PAGE_SIZE = 100
# More words than this in a search box is a paste, not a search; the rest are ignored.
MAX_SEARCH_WORDS = 8
# "Upcoming" keeps today's finished sessions in view for a while; older ones are "past".
RECENT = timedelta(hours=12)
PERIODS = {"upcoming": "Upcoming", "past": "Past", "all": "All dates"}


@dataclass(frozen=True)
class MeetingFilters:
    practitioner_id: int | None = None  # owners/managers may filter; practitioners get their own
    client_id: int | None = None
    status: str | None = None  # a DISPLAY_STATUSES key, or None for all
    search: str = ""  # every word must appear in the topic, description or patient name
    after: str = ""  # a MeetingPage.next_cursor: the page after that row
    before: str = ""  # a MeetingPage.previous_cursor: the page before that row (wins over `after`)
    page_size: int = 20
    newest_first: bool = False
    period: str = "all"  # "upcoming" (from 12 hours ago on), "past" (before that) or "all"


@dataclass(frozen=True)
class MeetingRow:
    id: int
    practitioner_id: int
    practitioner_name: str
    client_id: int
    patient_name: str
    topic: str
    description: str
    start_at: datetime  # aware, UTC
    duration_minutes: int
    timezone: str
    status: DisplayStatus
    cancel_reason: str
    sync_error: str
    has_zoom: bool
    client_waiting: bool  # before the start: the client opened the waiting room, or Zoom has them in its own
    confirmed: bool = False  # the client confirmed (a reminder's Confirm link or a YES reply)


@dataclass(frozen=True)
class MeetingPage:
    rows: list[MeetingRow]
    page_size: int
    has_previous: bool
    has_next: bool
    previous_cursor: str  # for MeetingFilters.before ("" on the first page)
    next_cursor: str  # for MeetingFilters.after ("" on the last page)


def meeting_search_text(topic: str, description: str, patient_name: str) -> str:
    """The value for `Appointment.search_text`: set it whenever a meeting's topic, description or
    client changes, and on every meeting of a client whose name changes."""
    return "\n".join((topic, description, patient_name)).casefold()


def list_meetings(principal: Principal, filters: MeetingFilters) -> MeetingPage:
    """One page of the meetings the principal may see, matching `filters`, by start time.

    A cursor past the end (its rows gone meanwhile) gives the last page; a cursor that is not one
    of ours gives the first. Raises `NotAllowed` for anyone without the Meetings page,
    `ValueError` for an unknown status.
    """
    conditions = _visible(principal, filters.practitioner_id)
    matching = _telehealth(select(Appointment.id)) if filters.status is None else _with_status(filters.status)
    if filters.client_id is not None:
        conditions.append(col(Appointment.client_id) == filters.client_id)
    if filters.period == "upcoming":
        conditions.append(col(Appointment.start_at) >= now() - RECENT)
    elif filters.period == "past":
        conditions.append(col(Appointment.start_at) < now() - RECENT)
    conditions.extend(col(Appointment.search_text).contains(word, autoescape=True)
                      for word in filters.search.casefold().split()[:MAX_SEARCH_WORDS])
    page_size = min(max(filters.page_size, 1), MAX_PAGE_SIZE)
    before, after = decode_cursor(filters.before), decode_cursor(filters.after)
    newest = filters.newest_first
    matching = matching.where(*conditions)
    with reading() as session:
        if before is not None:  # read backwards from the cursor, then show in page order
            rows = _page_rows(session, matching.where(_beyond(before, not newest)), not newest, page_size + 1)
            has_previous, rows = len(rows) > page_size, rows[:page_size][::-1]
            has_next = _exists(session, matching.where(_beyond(before, newest, inclusive=True)))
        else:
            keyset = [_beyond(after, newest)] if after is not None else []
            rows = _page_rows(session, matching.where(*keyset), newest, page_size + 1)
            has_next, rows = len(rows) > page_size, rows[:page_size]
            has_previous = after is not None and _exists(session, matching.where(_beyond(after, not newest,
                                                                                         inclusive=True)))
            if not rows and has_previous:  # past the end: the last page instead
                rows = _page_rows(session, matching, not newest, page_size + 1)
                has_previous, rows = len(rows) > page_size, rows[:page_size][::-1]
    return MeetingPage(rows=rows, page_size=page_size, has_previous=has_previous, has_next=has_next,
                       previous_cursor=encode_cursor(rows[0]) if has_previous and rows else "",
                       next_cursor=encode_cursor(rows[-1]) if has_next and rows else "")


def encode_cursor(row: MeetingRow) -> str:
    """The opaque position of a row in the list: its start (microseconds since 1970) and id."""
    return f"{int(row.start_at.timestamp() * 1_000_000)}-{row.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """(start_at, id) of a cursor from `encode_cursor`; None for "" or anything else."""
    micros, _, meeting_id = cursor.partition("-")
    if not (micros.isdigit() and meeting_id.isdigit()) or len(micros) > 18 or len(meeting_id) > 18:
        return None
    try:
        return datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(meeting_id)
    except (OverflowError, OSError, ValueError):
        return None


def _beyond(cursor: tuple[datetime, int], descending: bool, *, inclusive: bool = False) -> ColumnElement[bool]:
    """Rows after the cursor in (start_at, id) order (before it when `descending`): a row-value
    comparison, which the (..., start_at, id) indexes serve as a range."""
    key = tuple_(col(Appointment.start_at), col(Appointment.id))
    at = tuple_(bindparam(None, cursor[0], type_=Appointment.__table__.c.start_at.type), bindparam(None, cursor[1]))
    if descending:
        return key <= at if inclusive else key < at
    return key >= at if inclusive else key > at


def _exists(session: Connection, matching: Select[Any]) -> bool:
    # Ordered like the list, so the planner seeks the same index rather than scanning the table.
    query = matching.order_by(col(Appointment.start_at), col(Appointment.id)).limit(1)
    return session.execute(query).first() is not None


def patients_for_filter(principal: Principal, practitioner_id: int | None = None) -> list[tuple[int, str]]:
    """(client id, name) of every client with a meeting the principal may see, by name: the
    choices of the patient filter. Raises `NotAllowed` like `list_meetings`."""
    conditions = _visible(principal, practitioner_id)
    has_meeting = _telehealth(select(Appointment.id)).where(col(Appointment.client_id) == Client.id,
                                                            *conditions).exists()
    with unit_of_work() as session:
        found = session.exec(
            select(Client.id, Client.full_name)
            .where(Client.practice_id == principal.practice_id, has_meeting)
            .order_by(col(Client.full_name), col(Client.id))
        ).all()
    return [(client_id or 0, name) for client_id, name in found]


def _telehealth(query: Select[Any]) -> Select[Any]:
    """Telehealth appointments with their Zoom meeting rows: the rows of the Meetings page."""
    return query.join(Meeting, col(Meeting.id) == Appointment.id).where(col(Appointment.telehealth).is_(True))


@cache  # SQL constructs are immutable: built once per status, extended per call with `.where`
def _with_status(key: str) -> Select[Any]:
    """The ids of the telehealth appointments whose display status is `key` (see `_telehealth`).

    A status made only of rare sync states (Needs attention, Syncing) is read from those few
    meetings rather than by walking the practice's meetings in start order looking for them: a
    materialised set of their (id, sync state), read from the sync-state index alone, that the
    appointments are joined to. About 1% of the 100,000 meetings of `make bench` need attention;
    walking for a page of 21 visited ~2,400 appointments and their meetings (7-12 ms on PostgreSQL,
    6-27 ms on SQLite with a search), the set ~1,000 index entries."""
    rare = _rare_sync_states(key)
    if not rare:
        return _telehealth(select(Appointment.id)).where(_status_condition(key, Meeting.__table__.c.sync_state))
    flagged = select(Meeting.id, Meeting.sync_state).where(col(Meeting.sync_state).in_(rare)) \
        .cte("flagged").prefix_with("MATERIALIZED")
    return select(Appointment.id).join(flagged, flagged.c.id == Appointment.id) \
        .where(col(Appointment.telehealth).is_(True), _status_condition(key, flagged.c.sync_state))


def _visible(principal: Principal, practitioner_id: int | None) -> list[ColumnElement[bool]]:
    """Conditions limiting meetings to what the principal may see, for the practitioner asked."""
    require(principal, Action.VIEW_MEETINGS)
    if not can(principal, Action.VIEW_PRACTICE_MEETINGS):
        practitioner_id = principal.user_id
    conditions = [col(Appointment.practice_id) == principal.practice_id]
    if practitioner_id is not None:
        conditions.append(col(Appointment.practitioner_id) == practitioner_id)
    return conditions


@cache
def _status_pairs(key: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """(appointment statuses, sync states) pairs whose every combination `display_status` shows as
    `key`: asked of `display_status` for every combination, so the filter cannot disagree with the rows."""
    if key not in DISPLAY_STATUSES:
        raise ValueError(f"unknown meeting status {key!r}")
    statuses_by_syncs: dict[tuple[str, ...], list[str]] = {}
    for status in AppointmentStatus:
        syncs = tuple(sorted(s.value for s in SyncState if display_status(status, s) == key))
        if syncs:
            statuses_by_syncs.setdefault(syncs, []).append(status.value)
    return tuple((tuple(statuses), syncs) for syncs, statuses in statuses_by_syncs.items())


def _status_condition(key: str, sync_state: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL for "display_status(appointment.status, `sync_state`) == key" (`_status_pairs`)."""
    clauses: list[ColumnElement[bool]] = []
    for statuses, syncs in _status_pairs(key):
        parts: list[ColumnElement[bool]] = []
        if len(statuses) < len(AppointmentStatus):
            parts.append(col(Appointment.status).in_(statuses))
        if len(syncs) < len(SyncState):
            parts.append(sync_state.in_(syncs))
        clauses.append(and_(*parts))
    return or_(*clauses) if clauses else false()


# Sync states a meeting passes through or gets stuck in: always a small share of a practice's meetings.
_RARE_SYNC_STATES = frozenset({SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE, SyncState.NEEDS_ATTENTION})


def _rare_sync_states(key: str) -> tuple[str, ...]:
    """Every sync state status `key` may have, when all of them are rare (Needs attention, Syncing); else ()."""
    syncs = {s for _, pair_syncs in _status_pairs(key) for s in pair_syncs}
    return tuple(sorted(syncs)) if syncs and syncs <= {s.value for s in _RARE_SYNC_STATES} else ()


# The names, as one-row lookups beside each of the page's rows rather than joins: PostgreSQL plans
# the page in about half the time (planning was most of a plain page's cost). Built once.
_PRACTITIONER_NAME = select(User.full_name).where(col(User.id) == Appointment.practitioner_id).scalar_subquery()
_PATIENT_NAME = select(Client.full_name).where(col(Client.id) == Appointment.client_id).scalar_subquery()


def _page_rows(session: Connection, matching: Select[Any], descending: bool, limit: int) -> list[MeetingRow]:
    # The page's ids first, from the appointment table, so the planner walks a start-time
    # index; the names are looked up for those few rows only.
    order = (col(Appointment.start_at).desc(), col(Appointment.id).desc()) if descending else \
        (col(Appointment.start_at), col(Appointment.id))
    page_ids = matching.order_by(*order).limit(limit).subquery()
    found = session.execute(
        select(Appointment.id, Appointment.practitioner_id, _PRACTITIONER_NAME, Appointment.client_id,
               _PATIENT_NAME, Appointment.topic, Appointment.notes, Appointment.start_at,
               Appointment.duration_minutes, Appointment.timezone, Appointment.status, Meeting.sync_state,
               Appointment.cancel_reason, Meeting.last_sync_error, Meeting.zoom_meeting_id,
               Meeting.client_waiting_since, Meeting.zoom_waiting_room_at, Appointment.confirmed_at)
        .join(page_ids, page_ids.c.id == Appointment.id)
        .join(Meeting, col(Meeting.id) == Appointment.id)
        .order_by(*order)
    ).all()
    return [MeetingRow(id=m_id, practitioner_id=practitioner_id, practitioner_name=practitioner_name,
                       client_id=client_id, patient_name=patient_name, topic=topic, description=description,
                       start_at=start_at, duration_minutes=duration, timezone=timezone,
                       status=display_status(status, sync_state), cancel_reason=cancel_reason,
                       sync_error=sync_error, has_zoom=zoom_meeting_id is not None,
                       client_waiting=status == AppointmentStatus.BOOKED and bool(waiting_since or zoom_waiting),
                       confirmed=confirmed_at is not None)
            for (m_id, practitioner_id, practitioner_name, client_id, patient_name, topic, description, start_at,
                 duration, timezone, status, sync_state, cancel_reason, sync_error, zoom_meeting_id, waiting_since,
                 zoom_waiting, confirmed_at) in found]
