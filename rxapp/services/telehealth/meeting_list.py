"""The Meetings page's query: a principal's telehealth appointments (meetings), filtered,
searched, sorted and paginated.

Practitioners see only their own meetings; owners and managers see the whole practice. The
status shown on a row and the status filter both come from `display_status`, so what a row
says and what the filter finds cannot drift apart.

Pages are read by keyset on (start_at, id): a page is "the next N after this row" (or "before"),
so every page costs an index seek and N rows however deep it is, and nothing is counted; the
page says whether there is a previous and a next one instead of a total (the page's own statement
asks whether rows lie on the cursor's other side, so a page is one round trip).

The SQL is built once per shape of question (`_Shape`: which filters are set, how many search
words) with the values as parameters, so asking for a page builds no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Exists,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    false,
    literal_column,
    or_,
    tuple_,
)
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import reading, reading_planned_for_values
from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, SyncState, User
from rxapp.models.types import FLAGGED_SYNC_STATES
from rxapp.services import phrases
from rxapp.services.permissions import Action, Principal, can, require
from rxapp.services.practice import profiles
from rxapp.services.telehealth.meetings import attendance
from rxapp.services.telehealth.meetings.attendance import Summary
from rxapp.services.telehealth.meetings.decisions import DisplayStatus, display_status
from rxapp.services.timezones import is_valid
from rxapp.text import fold

DISPLAY_STATUSES: dict[DisplayStatus, str] = {status: status.label for status in DisplayStatus}
MAX_PAGE_SIZE = 100
# More words than this in a search box is a paste, not a search; the rest are ignored.
MAX_SEARCH_WORDS = 8
# "Upcoming" keeps today's finished sessions in view for a while; older ones are "past".
RECENT = timedelta(hours=12)
PERIODS = {"upcoming": "Upcoming", "today": "Today", "past": "Past", "all": "All dates"}


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
    period: str = "all"  # "upcoming" (from 12 hours ago on), "today", "past" (before 12 hours ago) or "all"
    timezone: str = ""  # whose day "today" is ("": the viewer's own timezone)


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
    attendance: Summary | None = None  # from Zoom's participant events (started and ended sessions)
    outcome_recorded: bool = False  # someone recorded completed or no-show
    client_in_portal: bool = False  # the client opened the portal's waiting room of this live session


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
    return fold("\n".join((topic, description, patient_name)))


def list_meetings(principal: Principal, filters: MeetingFilters) -> MeetingPage:
    """One page of the meetings the principal may see, matching `filters`, by start time.

    A cursor past the end (its rows gone meanwhile) gives the last page; a cursor that is not one
    of ours gives the first. Raises `NotAllowed` for anyone without the Meetings page,
    `ValueError` for an unknown status.
    """
    practitioner_id = _practitioner_scope(principal, filters.practitioner_id)
    if filters.status is not None and filters.status not in DISPLAY_STATUSES:
        raise ValueError(f"unknown meeting status {filters.status!r}")
    words = fold(filters.search).split()[:MAX_SEARCH_WORDS]
    period = filters.period if filters.period in ("upcoming", "today", "past") else "all"
    shape = _Shape(filters.status, practitioner_id is not None, filters.client_id is not None, period, len(words))
    page_size = min(max(filters.page_size, 1), MAX_PAGE_SIZE)
    values: dict[str, Any] = {"practice_id": principal.practice_id, "page_limit": page_size + 1,
                              **{f"word_{i}": _like_escaped(word) for i, word in enumerate(words)}}
    if practitioner_id is not None:
        values["practitioner_id"] = practitioner_id
    if filters.client_id is not None:
        values["client_id"] = filters.client_id
    if period == "today":
        values["since"], values["until"] = _day_of(now(), filters.timezone or profiles.viewer_timezone(principal))
    elif period != "all":
        values["since"] = now() - RECENT
    before, after = decode_cursor(filters.before), decode_cursor(filters.after)
    newest = filters.newest_first
    with reading_planned_for_values() as conn:
        if before is not None:  # read backwards from the cursor, then show in page order
            rows, has_next = _read(conn, shape, values, before, not newest)
            has_previous, rows = len(rows) > page_size, rows[:page_size][::-1]
        else:
            rows, has_previous = _read(conn, shape, values, after, newest)
            has_next, rows = len(rows) > page_size, rows[:page_size]
            if not rows and has_previous:  # past the end: the last page instead
                rows, _ = _read(conn, shape, values, None, not newest)
                has_previous, rows = len(rows) > page_size, rows[:page_size][::-1]
        rows = _with_attendance(conn, rows)
    return MeetingPage(rows=rows, page_size=page_size, has_previous=has_previous, has_next=has_next,
                       previous_cursor=encode_cursor(rows[0]) if has_previous and rows else "",
                       next_cursor=encode_cursor(rows[-1]) if has_next and rows else "")


_UNDER_WAY = (DisplayStatus.IN_PROGRESS, DisplayStatus.ENDED, DisplayStatus.NO_SHOW)


def _day_of(moment: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The day (midnight to midnight, in `timezone`) holding `moment`, as UTC bounds."""
    zone = ZoneInfo(timezone if is_valid(timezone) else "UTC")
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, time.min, zone)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)


def _with_attendance(conn: Connection, rows: list[MeetingRow]) -> list[MeetingRow]:
    """The page's sessions under way, ended or about to start with their attendance, and whether an
    outcome is recorded (two small queries for the page, none when no row is near)."""
    at = now()
    ids = [r.id for r in rows if r.status in _UNDER_WAY or abs(r.start_at - at) < RECENT]
    if not ids:
        return rows
    with Session(conn) as session:
        found, recorded = attendance.summaries(session, ids), attendance.outcomes_recorded(session, ids)
    return [replace(r, attendance=found.get(r.id), outcome_recorded=r.id in recorded) if r.id in ids else r
            for r in rows]


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


# The cursor's (start_at, id) as parameters of the page's statement.
_AT = tuple_(bindparam("at_start", type_=Appointment.__table__.c.start_at.type), bindparam("at_id", type_=Integer))


def _beyond(descending: bool, *, inclusive: bool = False) -> ColumnElement[bool]:
    """Rows after the cursor (`_AT`) in (start_at, id) order (before it when `descending`): a row-value
    comparison, which the (..., start_at, id) indexes serve as a range."""
    key = tuple_(col(Appointment.start_at), col(Appointment.id))
    if descending:
        return key <= _AT if inclusive else key < _AT
    return key >= _AT if inclusive else key > _AT


def patients_for_filter(principal: Principal, practitioner_id: int | None = None) -> list[tuple[int, str]]:
    """(client id, name) of every client with a meeting the principal may see, by name: the
    choices of the patient filter. Raises `NotAllowed` like `list_meetings`."""
    practitioner_id = _practitioner_scope(principal, practitioner_id)
    values = {"practice_id": principal.practice_id}
    if practitioner_id is not None:
        values["practitioner_id"] = practitioner_id
    has_meeting = _matching(_Shape(None, practitioner_id is not None, False, "all", 0)) \
        .where(col(Appointment.client_id) == Client.id).exists()
    with reading() as conn:
        found = conn.execute(
            select(Client.id, Client.full_name)
            .where(Client.practice_id == principal.practice_id, has_meeting)
            .order_by(col(Client.full_name), col(Client.id)), values
        ).all()
    return [(client_id or 0, name) for client_id, name in found]


def _telehealth(query: Select[Any]) -> Select[Any]:
    """Telehealth appointments with their Zoom meeting rows: the rows of the Meetings page."""
    return query.join(Meeting, col(Meeting.id) == Appointment.id).where(col(Appointment.telehealth).is_(True))


@cache  # SQL constructs are immutable: built once per status, extended per shape with `.where`
def _with_status(key: str) -> Select[Any]:
    """The ids of the telehealth appointments whose display status is `key` (see `_telehealth`).

    A status made only of flagged sync states (Needs attention, Syncing) is read from the
    appointment's copy of them (`Appointment.sync_flag`), whose partial index holds those few
    meetings in list order: a page reads about its own rows rather than every flagged meeting of the
    practice (1% of 1,000,000 in `make bench`) sorted by start, or a walk of all meetings in start
    order looking for them."""
    flagged = _flagged_sync_states(key)
    if not flagged:
        return _telehealth(select(Appointment.id)).where(_status_condition(key, Meeting.__table__.c.sync_state))
    sync_flag = Appointment.__table__.c.sync_flag
    return select(Appointment.id).where(sync_flag.in_(flagged), col(Appointment.telehealth).is_(True),
                                        _status_condition(key, sync_flag))


def _practitioner_scope(principal: Principal, practitioner_id: int | None) -> int | None:
    """Whose meetings the principal sees when asking for `practitioner_id` (None: the whole practice):
    practitioners only ever their own. Raises `NotAllowed` for anyone without the Meetings page."""
    require(principal, Action.VIEW_MEETINGS)
    return practitioner_id if can(principal, Action.VIEW_PRACTICE_MEETINGS) else principal.user_id


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


def _flagged_sync_states(key: str) -> tuple[str, ...]:
    """Every sync state status `key` may have, when all of them are flagged (Needs attention, Syncing); else ()."""
    syncs = {s for _, pair_syncs in _status_pairs(key) for s in pair_syncs}
    return tuple(sorted(syncs)) if syncs and syncs <= {s.value for s in FLAGGED_SYNC_STATES} else ()


@dataclass(frozen=True)
class _Shape:
    """What the SQL of a page depends on besides its values. Each shape's statements are built once
    and run with the values as parameters: a page builds no SQL, SQLAlchemy finds it compiled, and
    PostgreSQL sees the same text each time (planned with the values, as before)."""
    status: str | None  # a DISPLAY_STATUSES key, or None for all
    practitioner: bool  # :practitioner_id
    client: bool  # :client_id
    period: str  # "upcoming" (start_at >= :since), "past" (start_at < :since) or "all"
    words: int  # :word_0 ... (LIKE patterns, `_like_escaped`)


def _like_escaped(word: str) -> str:
    """`word` for `LIKE '%' || word || '%' ESCAPE '/'`: its own %, _ and / match themselves."""
    return word.replace("/", "//").replace("%", "/%").replace("_", "/_")


@lru_cache(maxsize=512)
def _matching(shape: _Shape) -> Select[Any]:
    """The ids of the meetings of this shape, with the values as parameters."""
    matching = _telehealth(select(Appointment.id)) if shape.status is None else _with_status(shape.status)
    conditions = [col(Appointment.practice_id) == bindparam("practice_id")]
    if shape.practitioner:
        conditions.append(col(Appointment.practitioner_id) == bindparam("practitioner_id"))
    if shape.client:
        conditions.append(col(Appointment.client_id) == bindparam("client_id"))
    since = bindparam("since", type_=Appointment.__table__.c.start_at.type)
    if shape.period == "upcoming":
        conditions.append(col(Appointment.start_at) >= since)
    elif shape.period == "today":
        conditions.extend((col(Appointment.start_at) >= since,
                           col(Appointment.start_at) < bindparam("until", type_=Appointment.__table__.c.start_at.type)))
    elif shape.period == "past":
        conditions.append(col(Appointment.start_at) < since)
    searched: ColumnElement[str] = col(Appointment.search_text)
    if shape.status is not None and _flagged_sync_states(shape.status):
        # Among the few flagged meetings each word is checked on the rows walked in list order: as a
        # plain column PostgreSQL chose its trigram index instead, matching the words across the
        # whole practice before keeping the flagged ones (38 ms at 1,000,000 meetings, 2 words).
        searched = searched.concat(literal_column("''"))
    conditions.extend(searched.contains(bindparam(f"word_{i}", type_=String), escape="/")
                      for i in range(shape.words))
    return matching.where(*conditions)


def _order(descending: bool) -> tuple[ColumnElement[Any], ...]:
    return (col(Appointment.start_at).desc(), col(Appointment.id).desc()) if descending else \
        (col(Appointment.start_at), col(Appointment.id))


@lru_cache(maxsize=512)
def _other_side(shape: _Shape, descending: bool) -> Exists:
    """Whether a matching row lies at the cursor or on its other side: whether the page read from the
    cursor in this direction has neighbours the other way. Ordered like the list, so the planner
    seeks the same index rather than scanning the table."""
    return _matching(shape).where(_beyond(not descending, inclusive=True)).order_by(*_order(not descending)) \
        .limit(1).exists()


# The names, as one-row lookups beside each of the page's rows rather than joins: PostgreSQL plans
# the page in about half the time (planning was most of a plain page's cost). Built once.
_PRACTITIONER_NAME = select(User.full_name).where(col(User.id) == Appointment.practitioner_id).scalar_subquery()
_PATIENT_NAME = select(Client.full_name).where(col(Client.id) == Appointment.client_id).scalar_subquery()


@lru_cache(maxsize=1024)
def _page_statement(shape: _Shape, descending: bool, from_cursor: bool) -> Select[Any]:
    """Up to :page_limit rows of this shape in start order (from the cursor `_AT` on, exclusive, when
    `from_cursor`, each row then also saying `_other_side`). The page's ids come first, from the
    appointment table, so the planner walks a start-time index; the names are looked up for those
    few rows only."""
    matching = _matching(shape).where(_beyond(descending)) if from_cursor else _matching(shape)
    page_ids = matching.order_by(*_order(descending)).limit(bindparam("page_limit", type_=Integer)).subquery()
    other_side = _other_side(shape, descending) if from_cursor else false()
    return (select(Appointment.id, Appointment.practitioner_id, _PRACTITIONER_NAME, Appointment.client_id,
                   _PATIENT_NAME, Appointment.topic, Appointment.notes, Appointment.start_at,
                   Appointment.duration_minutes, Appointment.timezone, Appointment.status, Meeting.sync_state,
                   Appointment.cancel_reason, Meeting.last_sync_error, Meeting.zoom_meeting_id,
                   Meeting.client_waiting_since, Meeting.zoom_waiting_room_at, Appointment.confirmed_at, other_side)
            .join(page_ids, page_ids.c.id == Appointment.id)
            .join(Meeting, col(Meeting.id) == Appointment.id)
            .order_by(*_order(descending)))


def _read(conn: Connection, shape: _Shape, values: dict[str, Any], cursor: tuple[datetime, int] | None,
          descending: bool) -> tuple[list[MeetingRow], bool]:
    """The rows after `cursor` (all from the start when None) in this direction, up to
    :page_limit, and whether any matching row lies at the cursor or beyond it the other way
    (False without a cursor). One statement; a second only when no row comes back."""
    if cursor is not None:
        values = {**values, "at_start": cursor[0], "at_id": cursor[1]}
    found = conn.execute(_page_statement(shape, descending, cursor is not None), values).all()
    if found:
        other_side = bool(found[0][-1])
    else:
        other_side = cursor is not None and bool(conn.execute(select(_other_side(shape, descending)), values).scalar())
    rows = [MeetingRow(id=m_id, practitioner_id=practitioner_id, practitioner_name=practitioner_name,
                       client_id=client_id, patient_name=patient_name, topic=phrases.visit_title(topic, True),
                       description=description,
                       start_at=start_at, duration_minutes=duration, timezone=timezone,
                       status=display_status(status, sync_state), cancel_reason=cancel_reason,
                       sync_error=sync_error, has_zoom=zoom_meeting_id is not None,
                       client_waiting=status == AppointmentStatus.BOOKED and bool(waiting_since or zoom_waiting),
                       client_in_portal=AppointmentStatus(status).is_live and waiting_since is not None,
                       confirmed=confirmed_at is not None)
            for (m_id, practitioner_id, practitioner_name, client_id, patient_name, topic, description, start_at,
                 duration, timezone, status, sync_state, cancel_reason, sync_error, zoom_meeting_id, waiting_since,
                 zoom_waiting, confirmed_at, _) in found]
    return rows, other_side
