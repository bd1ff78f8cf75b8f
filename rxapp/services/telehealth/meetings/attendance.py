"""Who attended a telehealth session, from Zoom's participant events.

Zoom reports `meeting.participant_joined` / `participant_left` and the same for its waiting room,
late, twice and in any order. As an event arrives (`recognise`, before it is stored) its participant
is recognised: the host (Zoom's user id of the meeting's host, or the practitioner's email), the
client (the name our join link gives Zoom, or the client's name or email as Zoom reports it), or
"a participant". Only that word is kept: never a name or an email. Each join and leave becomes an
`Attendance` span keyed by a hash of Zoom's participant_uuid, so a leave finds its join whichever
comes first, and a repeated event changes nothing.

`summaries` turns spans into what the pages show ("Client joined 10:02, left 10:51 (49 min)") and
what the outcome offer needs: after the session ends, Completed when the client attended, No-show
when they never joined. Nothing here sets the outcome.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.models import Appointment, Attendance, Client, Meeting, User
from rxapp.services.telehealth.zoom import webhooks
from rxapp.text import fold

HOST, CLIENT, PARTICIPANT = "host", "client", "participant"
MEETING, WAITING = "meeting", "waiting"


def _meeting_of(session: Session, obj: dict[str, Any]) -> tuple[Appointment, Meeting] | None:
    try:
        zoom_id = int(obj.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    found = session.exec(select(Appointment, Meeting).join(Meeting, col(Meeting.id) == Appointment.id)
                         .where(Meeting.zoom_meeting_id == zoom_id)).first()
    return (found[0], found[1]) if found else None


def recognise(session: Session, obj: dict[str, Any]) -> str:
    """host, client or participant, for the participant of an event's `object` (as Zoom sent it)."""
    found = _meeting_of(session, obj)
    person = obj.get("participant") or {}
    if found is None:
        return PARTICIPANT
    appointment, meeting = found
    zoom_user = str(person.get("participant_user_id") or person.get("id") or "")
    email = str(person.get("email") or "").strip().lower()
    if zoom_user and zoom_user in (str(obj.get("host_id") or ""), meeting.zoom_host_user_id or ""):
        return HOST
    practitioner = session.get(User, appointment.practitioner_id)
    if email and practitioner is not None and email == practitioner.email:
        return HOST
    client = session.get(Client, appointment.client_id)
    if client is None:
        return PARTICIPANT
    name = fold(str(person.get("user_name") or ""))
    names = {fold(client.full_name), fold(f"{client.first_name} {client.last_name}"),
             fold(f"{client.preferred_name} {client.last_name}")} - {""}
    if (email and email == (client.email or "").strip().lower()) or (name and name in names):
        return CLIENT
    return PARTICIPANT


webhooks.RECOGNISERS[:] = [recognise]


def parse_time(value: Any) -> datetime | None:
    """A time as Zoom's events write it ("2026-12-01T15:02:00Z"), aware UTC; None when absent or not one."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _key(person: dict[str, Any]) -> str:
    raw = str(person.get("participant_uuid") or person.get("user_id") or "")
    return hashlib.sha256(raw.encode()).hexdigest()


def record(session: Session, appointment: Appointment, obj: dict[str, Any], place: str, joining: bool,
           event_time: datetime) -> bool:
    """Apply one participant event to the spans; False when it changes nothing (a repeat)."""
    person = obj.get("participant") or {}
    at = parse_time(person.get("join_time") or person.get("date_time") or person.get("leave_time")) or event_time
    key, who = _key(person), str(person.get("role") or PARTICIPANT)
    spans = list(session.exec(select(Attendance).where(
        Attendance.appointment_id == appointment.id, Attendance.participant_key == key, Attendance.place == place)))
    if joining:
        if any(s.joined_at == at for s in spans):
            return False
        # A leave that came first: the span it opened (left after this join, no join yet) is this one's.
        early = [s for s in spans if s.joined_at is None and s.left_at is not None and s.left_at >= at]
        if early:
            span = min(early, key=lambda s: s.left_at or at)
            span.joined_at, span.who = at, who if who != PARTICIPANT else span.who
            return True
        session.add(Attendance(appointment_id=appointment.id or 0, who=who, place=place, participant_key=key,
                               joined_at=at))
        return True
    if any(s.left_at == at for s in spans):
        return False
    open_spans = [s for s in spans if s.left_at is None and s.joined_at is not None and s.joined_at <= at]
    if open_spans:
        span = max(open_spans, key=lambda s: s.joined_at or at)
        span.left_at, span.who = at, who if who != PARTICIPANT else span.who
        return True
    session.add(Attendance(appointment_id=appointment.id or 0, who=who, place=place, participant_key=key,
                           left_at=at))
    return True


@dataclass(frozen=True)
class Presence:
    """One person's time in the meeting: first join, last leave (None while still in), minutes."""

    joined_at: datetime
    left_at: datetime | None
    minutes: int


@dataclass(frozen=True)
class Summary:
    client: Presence | None  # None: the client never joined the meeting
    host: Presence | None
    others: int  # participants who were neither
    client_state: str  # "" (not in Zoom), "waiting" (Zoom's waiting room), "meeting", "left"

    @property
    def client_attended(self) -> bool:
        return self.client is not None


def _presence(spans: list[Attendance], until: datetime, running: bool) -> Presence | None:
    """Joined spans merged (a rejoin does not count twice), open ones running to `until` (now while
    the meeting runs, else its end)."""
    intervals = sorted((s.joined_at, s.left_at or until) for s in spans if s.joined_at is not None)
    if not intervals:
        return None
    total, (start, end) = timedelta(), intervals[0]
    for a, b in intervals[1:]:
        if a > end:
            total += end - start
            start, end = a, b
        else:
            end = max(end, b)
    total += max(end - start, timedelta())
    still_in = running and any(s.left_at is None for s in spans if s.joined_at is not None)
    last_left = max((s.left_at for s in spans if s.left_at is not None), default=None)
    return Presence(intervals[0][0], None if still_in else (last_left or until), round(total.total_seconds() / 60))


def summaries(session: Session, appointment_ids: list[int]) -> dict[int, Summary]:
    """What each session's attendance says (sessions without any event are absent), in two queries."""
    if not appointment_ids:
        return {}
    spans: dict[int, list[Attendance]] = defaultdict(list)
    for span in session.exec(select(Attendance).where(col(Attendance.appointment_id).in_(appointment_ids))
                             .order_by(col(Attendance.id))):
        spans[span.appointment_id].append(span)
    if not spans:
        return {}
    ended = dict(session.exec(select(Meeting.id, Meeting.ended_at).where(col(Meeting.id).in_(list(spans)))).all())
    out: dict[int, Summary] = {}
    for appointment_id, rows in spans.items():
        running = ended.get(appointment_id) is None
        until = ended.get(appointment_id) or now()
        in_meeting = [s for s in rows if s.place == MEETING]
        client = [s for s in in_meeting if s.who == CLIENT]
        others = {s.participant_key for s in in_meeting if s.who == PARTICIPANT}
        out[appointment_id] = Summary(
            client=_presence(client, until, running),
            host=_presence([s for s in in_meeting if s.who == HOST], until, running),
            others=len(others), client_state=_client_state(rows, ended.get(appointment_id)))
    return out


def _client_state(rows: list[Attendance], ended_at: datetime | None) -> str:
    """Where the client is now, by their latest span."""
    mine = [s for s in rows if s.who == CLIENT]
    if not mine:
        return ""
    latest = max(mine, key=lambda s: max(s.joined_at or s.left_at or datetime.min.replace(tzinfo=UTC),
                                         s.left_at or datetime.min.replace(tzinfo=UTC)))
    if latest.left_at is not None or ended_at is not None:
        return "left" if any(s.place == MEETING and s.joined_at for s in mine) else ""
    return "meeting" if latest.place == MEETING else "waiting"


def describe(summary: Summary | None, timezone: str) -> str:
    """"Client joined 10:02, left 10:51 (49 min)", or what is known."""
    if summary is None or summary.client is None:
        return ""
    zone = ZoneInfo(timezone)
    client = summary.client
    joined = client.joined_at.astimezone(zone).strftime("%H:%M")
    if client.left_at is None:
        return f"Client joined {joined}, in the meeting now ({client.minutes} min so far)"
    return f"Client joined {joined}, left {client.left_at.astimezone(zone).strftime('%H:%M')} ({client.minutes} min)"


COMPLETED, NO_SHOW = "completed", "no_show"


def offer(ended: bool, outcome_recorded: bool, summary: Summary | None) -> str:
    """The outcome to offer in one click once a session has ended and none is recorded: completed
    when the client attended, no_show when they never joined; "" otherwise."""
    if not ended or outcome_recorded:
        return ""
    return COMPLETED if summary is not None and summary.client_attended else NO_SHOW


def outcomes_recorded(session: Session, appointment_ids: list[int]) -> set[int]:
    return set(session.exec(select(Appointment.id).where(col(Appointment.id).in_(appointment_ids),
                                                         col(Appointment.outcome_recorded_at).is_not(None))).all())
