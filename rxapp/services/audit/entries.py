"""The audit page's query: who did what and when in the practice, for owners and managers.

Entries are written by `services.audit.trail.record`; this module reads them, newest first, filtered by
person, kind of action and dates (in the viewer's timezone), a keyset page at a time (on
(created_at, id), so a deep page costs what the first one does), and as CSV rows for the export.
Details are shown only for keys known to be harmless: whatever a caller once put in an entry,
nothing that looks like a secret leaves the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, tuple_
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AuditEvent, Client, User
from rxapp.services import phrases
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.timezones import format_local, is_valid
from rxapp.text import spreadsheet_safe

# What each recorded action means to a reader, grouped for the action filter.
ACTION_LABELS: dict[str, str] = {
    "user.signed_in": "Signed in",
    "user.signed_out": "Signed out",
    "user.session_ended": "Signed out one of their other sessions",
    "user.other_sessions_ended": "Signed out everywhere else",
    "user.mfa_enabled": "Two-step sign-in turned on",
    "user.mfa_disabled": "Two-step sign-in turned off",
    "user.mfa_reset": "Two-step sign-in reset by the owner",
    "user.mfa_recovery_used": "Signed in with a recovery code",
    "clients.imported": "Clients imported from a file",
    "calendar_feed.created": "Calendar feed link made",
    "calendar_feed.stopped": "Calendar feed stopped",
    "practice.created": "Practice set up",
    "practice.signed_up": "Practice created at sign-up",
    "practice.email_confirmed": "Owner's email confirmed",
    "practice.confirmation_resent": "Email confirmation link sent again",
    "practice.exported": "Practice data downloaded",
    "practice.mfa_required": "Two-step sign-in required for staff",
    "practice.mfa_not_required": "Two-step sign-in no longer required",
    "account.locked": "Account locked after failed sign-ins",
    "password_reset.requested": "Password reset requested",
    "user.password_reset": "Password reset",
    "portal_invite.sent": "Portal invite sent",
    "portal_invite.accepted": "Portal invite accepted",
    "zoom.connected": "Zoom connected",
    "zoom.disconnected": "Zoom disconnected",
    "zoom.needs_reconnect": "Zoom needs reconnecting",
    "zoom.deauthorized": "Zoom app removed in Zoom",
    "meeting.scheduled": "Meeting created",
    "meeting.started": "Meeting started",
    "meeting.start_failed": "Meeting start failed at Zoom",
    "meeting.ended": "Meeting ended",
    "meeting.cancelled": "Meeting cancelled",
    "meeting.deleted": "Meeting deleted",
    "meeting.waiting_room_entered": "Client entered the waiting room",
    "meeting.client_joined": "Client joined the session",
    "zoom.meeting.started": "Zoom: meeting started",
    "zoom.meeting.ended": "Zoom: meeting ended",
    "zoom.meeting.updated": "Zoom: meeting moved or changed",
    "zoom.meeting.deleted": "Zoom: meeting deleted",
    "zoom.meeting.participant_joined": "Zoom: participant joined",
    "zoom.meeting.participant_joined_waiting_room": "Zoom: participant in the waiting room",
    "practice.settings_changed": "Practice settings changed",
    "practitioner.telehealth_changed": "Telehealth turned on or off",
    "practice.sms_credits_added": "SMS credits added",
    "practice.sms_threshold_changed": "SMS low-balance threshold changed",
    "client.sms_opted_out": "Client's text messages turned off",
    "client.sms_opted_in": "Client's text messages turned on",
    "profile.timezone_changed": "Own timezone changed",
    "trust.granted": "Client trusted a practitioner",
    "trust.revoked": "Client stopped trusting a practitioner",
    "team_invite.accepted": "Team invite accepted",
    "zoom.connect_refused": "Zoom connection refused (account held by a colleague)",
    "meeting.sync_retried": "Meeting sent to Zoom again",
    "zoom.meeting.participant_left": "Zoom: participant left",
    "zoom.meeting.participant_left_waiting_room": "Zoom: participant left the waiting room",
    "meeting.running_late": "Client told the practitioner is running late",
    "appointment.booked": "Appointment booked",
    "appointment.changed": "Appointment changed",
    "appointment.cancelled": "Appointment cancelled",
    "appointment.confirmed": "Client confirmed an appointment",
    "appointment.completed": "Appointment recorded as completed",
    "appointment.no_show": "Appointment recorded as a no-show",
    "availability.saved": "Availability changed",
    "waitlist.added": "Client put on the waitlist",
    "waitlist.offered": "Waitlist: a time offered",
    "waitlist.booked": "Waitlist: an offered time booked",
    "waitlist.removed": "Client taken off the waitlist",
    "client.added": "Client added",
    "client.updated": "Client record edited",
    "client.archived": "Client archived",
    "client.restored": "Client restored",
    "client.email_reminders_opt_out": "Client's reminder emails turned off",
    "client.email_reminders_opt_in": "Client's reminder emails turned on",
    "practice.self_booking_changed": "Self-booking settings changed",
    "profile.updated": "Practitioner profile changed",
    "team.invited": "Team member invited",
    "team.invite_resent": "Team invite sent again",
    "team.role_changed": "Team member's role changed",
    "team.deactivated": "Team member deactivated",
    "team.reactivated": "Team member reactivated",
}
# The action filter offers these groups too (an action "meeting.x" belongs to "meeting.").
ACTION_GROUPS: dict[str, str] = {"user.": "All sign-in activity", "zoom.": "All Zoom activity",
                                 "meeting.": "All meeting activity", "appointment.": "All appointment activity",
                                 "client.": "All client record activity", "team.": "All team activity",
                                 "practice.": "All practice settings activity",
                                 "waitlist.": "All waitlist activity"}
# Detail keys shown to readers, with their readable names; anything else (present or future) stays
# in the database, so nothing that looks like a secret leaves the server.
DETAIL_LABELS: dict[str, str] = {
    "enabled": "Turned on", "practitioner_id": "Practitioner",
    "meetings_needing_attention": "Meetings needing attention",
    "topic": "Topic", "start_at": "Start", "status": "Status", "reason": "Reason", "allow_zoom": "Zoom allowed",
    "standard_reminder_days": "Reminder days before",
    "telehealth_reminder_minutes": "Telehealth reminder minutes before",
    "telehealth_reminder_includes_link": "Zoom link in reminders", "telehealth_location_name": "Telehealth location",
    "telehealth_location_address": "Telehealth location address", "default_pos_code": "Place of service code",
    "notify_client_when_started": "Tell the client when the session starts", "address": "Practice address",
    "ask_clients_to_confirm": "Ask clients to confirm", "sms_credits": "SMS credits", "amount": "Amount",
    "threshold": "Low-balance threshold", "timezone": "Timezone", "email": "Email", "client_id": "Client",
    "client_name": "Client", "practitioner_name": "Practitioner", "overlaps": "Overlaps other appointments",
    "recorded_after": "Recorded after the visit", "errors": "Rows with problems", "skipped": "Skipped",
    "updated": "Updated", "added": "Added", "everyone": "Everyone's appointments",
    "feed_full_names": "Feeds name clients in full", "owner_email": "Owner",
    "replaced": "Replaced", "scopes": "Zoom permissions", "expires_at": "Expires", "warning": "Warning",
    "force": "Forced", "role": "Role", "occurrences": "Appointments", "telehealth": "Telehealth",
    "changed": "Changed", "by": "By", "sessions_ended": "Sessions ended", "requeued": "Meetings handed back to Zoom",
    "refused": "Refused", "display_name": "Display name", "credentials": "Credentials",
    "default_length_minutes": "Default length (minutes)", "self_booking_enabled": "Self-booking on",
    "self_booking_any_practitioner": "Clients may book any practitioner",
    "cancellation_window_hours": "Cancellation window (hours)", "cancellation_message": "Cancellation message",
    "blocks": "Weekly hours", "overrides": "Date overrides", "lengths": "Lengths", "interval": "Interval (minutes)",
    "minutes": "Minutes late", "told": "Told", "start": "Time offered",
    "buffer_before": "Buffer before (minutes)", "buffer_after": "Buffer after (minutes)",
    "notice_hours": "Notice (hours)", "horizon_days": "Horizon (days)", "max_per_day": "Maximum per day",
    "new_clients_may_self_book": "New clients may self-book"}
# Two keys read as one change: "Role: practitioner → manager".
PAIRS: dict[tuple[str, str], str] = {("before", "after"): "Role", ("practitioner_before", "practitioner_after"):
                                     "Practitioner"}
SAFE_DETAIL_KEYS = frozenset(DETAIL_LABELS) | {k for pair in PAIRS for k in pair}
MAX_PAGE_SIZE = 100
CSV_HEADER = ["time", "timezone", "who", "action", "action code", "subject", "details"]


@dataclass(frozen=True)
class AuditFilters:
    actor_user_id: int | None = None
    action: str = ""  # an ACTION_LABELS key, an ACTION_GROUPS key, or "" for all
    date_from: date | None = None  # inclusive, in `timezone`
    date_to: date | None = None  # inclusive, in `timezone`
    timezone: str = "UTC"
    after: str = ""  # AuditPage.next_cursor
    before: str = ""  # AuditPage.previous_cursor (wins over `after`)
    page_size: int = 50


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime  # aware, UTC
    when: str  # `at` in the viewer's timezone
    who: str
    action: str
    action_label: str
    subject: str
    details: str


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    has_previous: bool
    has_next: bool
    previous_cursor: str
    next_cursor: str


class InvalidAuditFilter(ValueError):
    """A filter the page cannot apply; the message says why."""


def people(principal: Principal) -> list[tuple[int, str]]:
    """(user id, "name (role)") of everyone in the practice, by name: the person filter's choices."""
    require(principal, Action.VIEW_AUDIT)
    with unit_of_work() as session:
        rows = session.exec(select(User.id, User.full_name, User.role)
                            .where(User.practice_id == principal.practice_id)
                            .order_by(col(User.full_name), col(User.id))).all()
    return [(user_id or 0, f"{name} ({str(role).capitalize()})") for user_id, name, role in rows]


def list_entries(principal: Principal, filters: AuditFilters) -> AuditPage:
    """One page of the practice's audit trail, newest first. Raises `NotAllowed` for anyone but
    owners and managers, `InvalidAuditFilter` for an unknown action or reversed dates."""
    conditions = _conditions(principal, filters)
    size = min(max(filters.page_size, 1), MAX_PAGE_SIZE)
    before, after = _decode(filters.before), _decode(filters.after)
    with unit_of_work() as session:
        if before is not None:  # the newer page: read upwards from the cursor, show newest first
            rows = _rows(session, [*conditions, _key() > _at(before)], newest_first=False, limit=size + 1)
            has_previous, rows = len(rows) > size, rows[:size][::-1]
            has_next = _any(session, [*conditions, _key() <= _at(before)])
        else:
            keyset = [_key() < _at(after)] if after is not None else []
            rows = _rows(session, [*conditions, *keyset], newest_first=True, limit=size + 1)
            has_next, rows = len(rows) > size, rows[:size]
            has_previous = after is not None and _any(session, [*conditions, _key() >= _at(after)])
        entries = _entries(session, rows, filters.timezone)
    return AuditPage(entries=entries, has_previous=has_previous and bool(entries), has_next=has_next,
                     previous_cursor=_encode(rows[0]) if has_previous and rows else "",
                     next_cursor=_encode(rows[-1]) if has_next and rows else "")


def parse_filters(query: Mapping[str, str], timezone: str) -> AuditFilters:
    """Filters from the page's URL query (`person`, `action`, `from`, `to`, `after`, `before`);
    raises `InvalidAuditFilter` with a message for the page."""
    person = query.get("person", "")
    if person and not person.isdigit():
        raise InvalidAuditFilter("Choose a person from the list.")
    days: list[date | None] = []
    for key, name in (("from", "start"), ("to", "end")):
        text = query.get(key, "")
        try:
            days.append(date.fromisoformat(text) if text else None)
        except ValueError:
            raise InvalidAuditFilter(f"The {name} date is not a date (use the date picker).") from None
    return AuditFilters(actor_user_id=int(person) if person else None, action=query.get("action", ""),
                        date_from=days[0], date_to=days[1], timezone=timezone, after=query.get("after", "")[:40],
                        before=query.get("before", "")[:40])


def export_rows(principal: Principal, filters: AuditFilters, batch: int = 500) -> Iterator[list[str]]:
    """Every matching entry as CSV cells (header first), newest first, read in keyset batches.
    Cells that a spreadsheet would run as a formula are quoted with a leading apostrophe.
    Checks the permission and filters at once (raises `NotAllowed`, `InvalidAuditFilter`)."""
    return _export(_conditions(principal, filters), filters, batch)


def _export(conditions: list[ColumnElement[bool]], filters: AuditFilters, batch: int) -> Iterator[list[str]]:
    yield CSV_HEADER
    cursor: tuple[datetime, int] | None = None
    while True:
        with unit_of_work() as session:
            keyset = [_key() < _at(cursor)] if cursor is not None else []
            rows = _rows(session, [*conditions, *keyset], newest_first=True, limit=batch)
            entries = _entries(session, rows, filters.timezone)
        for entry in entries:
            yield [_cell(v) for v in (entry.when, filters.timezone, entry.who, entry.action_label, entry.action,
                                      entry.subject, entry.details)]
        if len(rows) < batch:
            return
        cursor = (rows[-1].created_at, rows[-1].id or 0)


def _conditions(principal: Principal, filters: AuditFilters) -> list[ColumnElement[bool]]:
    require(principal, Action.VIEW_AUDIT)
    conditions: list[ColumnElement[bool]] = [col(AuditEvent.practice_id) == principal.practice_id]
    if filters.actor_user_id is not None:
        conditions.append(col(AuditEvent.actor_user_id) == filters.actor_user_id)
    if filters.action in ACTION_GROUPS:
        conditions.append(col(AuditEvent.action).startswith(filters.action, autoescape=True))
    elif filters.action in ACTION_LABELS:
        conditions.append(col(AuditEvent.action) == filters.action)
    elif filters.action:
        raise InvalidAuditFilter("Choose an action from the list.")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidAuditFilter("The start date is after the end date.")
    zone = ZoneInfo(filters.timezone if is_valid(filters.timezone) else "UTC")
    if filters.date_from:
        conditions.append(col(AuditEvent.created_at) >= _utc(filters.date_from, zone))
    if filters.date_to:
        conditions.append(col(AuditEvent.created_at) < _utc(filters.date_to + timedelta(days=1), zone))
    return conditions


def _utc(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in `zone`, in UTC."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _key() -> ColumnElement:
    return tuple_(col(AuditEvent.created_at), col(AuditEvent.id))


def _at(cursor: tuple[datetime, int]) -> ColumnElement:
    return tuple_(bindparam(None, cursor[0], type_=AuditEvent.__table__.c.created_at.type),
                  bindparam(None, cursor[1]))


def _rows(session: Session, conditions: list[ColumnElement[bool]], *, newest_first: bool,
          limit: int) -> list[AuditEvent]:
    order = (col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc()) if newest_first else \
        (col(AuditEvent.created_at), col(AuditEvent.id))
    return list(session.exec(select(AuditEvent).where(*conditions).order_by(*order).limit(limit)))


def _any(session: Session, conditions: list[ColumnElement[bool]]) -> bool:
    query = select(AuditEvent.id).where(*conditions).order_by(col(AuditEvent.created_at)).limit(1)
    return session.exec(query).first() is not None


def _encode(row: AuditEvent) -> str:
    return f"{int(row.created_at.timestamp() * 1_000_000)}-{row.id}"


def _decode(cursor: str) -> tuple[datetime, int] | None:
    micros, _, entry_id = cursor.partition("-")
    if not (micros.isdigit() and entry_id.isdigit()) or len(micros) > 18 or len(entry_id) > 18:
        return None
    try:
        return datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(entry_id)
    except (OverflowError, OSError, ValueError):
        return None


def _entries(session: Session, rows: list[AuditEvent], timezone: str) -> list[AuditEntry]:
    """Rows made readable: names for ids (one query per kind for the whole page), safe details."""
    details = {r.id: _details(r.detail) for r in rows}
    user_ids = {r.actor_user_id for r in rows if r.actor_user_id} | \
        {int(r.subject_id) for r in rows if r.subject_type == "user" and r.subject_id.isdigit()} | \
        {int(v) for d in details.values() for k, v in d.items() if k.startswith("practitioner") and v.isdigit()}
    client_ids = {int(r.subject_id) for r in rows if r.subject_type == "client" and r.subject_id.isdigit()}
    meeting_ids = {int(r.subject_id) for r in rows if r.subject_type == "meeting" and r.subject_id.isdigit()}
    users = dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(user_ids))).all()) \
        if user_ids else {}
    clients = dict(session.exec(select(Client.id, Client.full_name).where(col(Client.id).in_(client_ids))).all()) \
        if client_ids else {}
    topics = {i: phrases.visit_title(topic, telehealth) for i, topic, telehealth in session.exec(
        select(Appointment.id, Appointment.topic, Appointment.telehealth)
        .where(col(Appointment.id).in_(meeting_ids))).all()} if meeting_ids else {}
    names = {"user": users, "client": clients, "meeting": topics}
    found = []
    for row in rows:
        detail = details[row.id]
        subject = ""
        if row.subject_type:
            known = names.get(row.subject_type, {}).get(int(row.subject_id)) if row.subject_id.isdigit() else None
            if row.subject_type == "meeting":
                known = known or detail.get("topic")
            subject = f"{row.subject_type.capitalize()} #{row.subject_id}" + (f": {known}" if known else "")
        who = users.get(row.actor_user_id, f"User #{row.actor_user_id}") if row.actor_user_id else "System"
        found.append(AuditEntry(
            id=row.id or 0, at=row.created_at, when=format_local(row.created_at, timezone, "%Y-%m-%d %H:%M:%S"),
            who=who, action=row.action, action_label=ACTION_LABELS.get(row.action, row.action), subject=subject,
            details=readable_details(detail, users)))
    return found


def _value(value: str) -> str:
    return {"True": "yes", "False": "no", "": "(none)"}.get(value, value)


def readable_details(detail: Mapping[str, str], users: Mapping[int, str] | None = None) -> str:
    """An entry's safe details as a reader says them: "Role: practitioner → manager; Overlaps other
    appointments: no". People's ids are named when known."""
    names = users or {}

    def shown(key: str, value: str) -> str:
        if key.startswith("practitioner") and value.isdigit():
            return names.get(int(value), f"User #{value}")
        return _value(value)

    parts, used = [], set()
    for (before, after), label in PAIRS.items():
        if before in detail and after in detail:
            used |= {before, after}
            if detail[before] != detail[after]:
                parts.append(f"{label}: {shown(before, detail[before])} \u2192 {shown(after, detail[after])}")
    parts += [f"{DETAIL_LABELS[k]}: {shown(k, v)}" for k, v in sorted(detail.items()) if k not in used and
              k in DETAIL_LABELS]
    return "; ".join(parts)


def _details(raw: str) -> dict[str, str]:
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {k: (", ".join(map(str, v)) if isinstance(v, list) else str(v))[:200]
            for k, v in parsed.items() if k in SAFE_DETAIL_KEYS}


_cell = spreadsheet_safe
