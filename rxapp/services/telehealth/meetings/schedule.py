"""Scheduling a telehealth meeting from the Meetings page: validate, warn about overlaps, save,
tell the patient.

A meeting is a telehealth appointment: the appointment is saved first with its Zoom meeting row
(sync state PENDING_CREATE) and the Zoom meeting is created right after by `sync.py`, so Zoom
being slow or down never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Meeting,
    Practice,
    PractitionerProfile,
    SyncState,
    TrustedPractitioner,
    User,
    ZoomConnection,
    ZoomConnectionStatus,
)
from rxapp.services import phrases
from rxapp.services.audit import trail
from rxapp.services.notify import reminders
from rxapp.services.notify.outbox import queue_email
from rxapp.services.notify.reminders import links
from rxapp.services.permissions import Action, NotAllowed, Principal, require
from rxapp.services.scheduling import booking_lock
from rxapp.services.telehealth.meeting_list import meeting_search_text
from rxapp.services.telehealth.meetings import emails
from rxapp.services.telehealth.zoom.errors import ZoomNeedsReconnect, ZoomNotAllowed, ZoomNotConnected
from rxapp.services.timezones import format_local, is_valid
from rxapp.settings import get_settings

TOPIC_MAX, DESCRIPTION_MAX = 200, 2000
DURATIONS = (15, 30, 45, 50, 60, 75, 90, 120)
YEARS_AHEAD = 2  # a later date is a typo (or 9999-12-31), not a booking


def too_long(limit: int, length: int) -> str:
    """The message for a text over its limit (the form shows it as the user types, too)."""
    return f"Use at most {limit:,} characters ({length:,} now)."


def latest_day(today: date) -> date:
    """The last day a meeting may be scheduled on, YEARS_AHEAD years after `today`."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


class MeetingInvalid(Exception):
    """Bad input; `errors` maps each form field to a message for next to that field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class MeetingDraft:
    topic: str
    description: str
    date: str  # YYYY-MM-DD
    hour: str  # HH:MM
    timezone: str
    client_id: int | None
    duration_minutes: int = 50


@dataclass(frozen=True)
class Scheduled:
    meeting_id: int | None  # None when only warned (overlap not confirmed yet)
    overlaps: list[str]


def trusted_patients(principal: Principal) -> list[tuple[int, str]]:
    """The clients who chose this practitioner as a trusted professional, by name."""
    require(principal, Action.HOST_MEETINGS)
    with unit_of_work() as session:
        rows = session.exec(
            select(Client.id, Client.full_name)
            .join(TrustedPractitioner, col(TrustedPractitioner.client_id) == Client.id)
            .where(TrustedPractitioner.practitioner_id == principal.user_id,
                   Client.practice_id == principal.practice_id, col(Client.archived_at).is_(None))
            .order_by(col(Client.full_name))
        ).all()
        return [(cid or 0, name) for cid, name in rows]


def zoom_readiness(session: Session, principal: Principal) -> ZoomNotConnected | None:
    """Why this practitioner cannot have Zoom meetings created now, as a typed error whose message
    is for the user (`ZoomNeedsReconnect`: a Reconnect button helps), or None."""
    practice = session.get(Practice, principal.practice_id)
    if practice is None or not practice.allow_zoom:
        return ZoomNotAllowed("Your practice has not allowed Zoom integration, so no Zoom meeting can be created.")
    profile = session.get(PractitionerProfile, principal.user_id)
    if profile is None or not profile.telehealth_enabled:
        return ZoomNotAllowed("Telehealth is not enabled for you. Ask an owner or manager.")
    connection = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == principal.user_id)
                              ).first()
    if connection is None:
        return ZoomNotConnected("Zoom is not connected. Connect it on the Meeting tab of your profile first.")
    if connection.status == ZoomConnectionStatus.NEEDS_RECONNECT:
        return ZoomNeedsReconnect("Error refreshing access token: reconnect Zoom on the Meeting tab of your profile.")
    return None


def zoom_blocker(principal: Principal) -> ZoomNotConnected | None:
    """Why new Zoom meetings cannot be created for this user now, typed (None when they can, or
    when the user is not a practitioner at all)."""
    with unit_of_work() as session:
        if session.get(PractitionerProfile, principal.user_id) is None:
            return None
        return zoom_readiness(session, principal)


def zoom_problem(principal: Principal) -> str:
    """The message of `zoom_blocker` ('' when there is none)."""
    return str(zoom_blocker(principal) or "")


def _start_utc(draft: MeetingDraft, errors: dict[str, str]) -> datetime | None:
    if not is_valid(draft.timezone):
        errors["timezone"] = "Choose a timezone from the list."
    try:
        day = date.fromisoformat(draft.date)
    except ValueError:
        errors["date"] = "Enter a date." if not draft.date else "Enter a date as YYYY-MM-DD."
        return None
    try:
        clock = time.fromisoformat(draft.hour)
    except ValueError:
        errors["hour"] = "Enter a time." if not draft.hour else "Enter a time as HH:MM."
        return None
    if "timezone" in errors:
        return None
    zone = ZoneInfo(draft.timezone)
    # Before any arithmetic: a far date (9999-12-31) must be refused, not overflow.
    last = latest_day(now().astimezone(zone).date())
    if day > last:
        errors["date"] = f"Choose a date within {YEARS_AHEAD} years, on or before {last:%d %b %Y}."
        return None
    local = datetime.combine(day, clock, zone)
    start = local.astimezone(ZoneInfo("UTC"))
    if start.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        errors["hour"] = f"{draft.hour} does not exist on that day in {draft.timezone} (the clocks change)."
        return None
    if start <= now():
        errors["date" if day < now().astimezone(zone).date() else "hour"] = "The start is in the past."
        return None
    return start


def validate(session: Session, principal: Principal, draft: MeetingDraft) -> tuple[datetime, Client]:
    """Every problem with the draft at once (raises `MeetingInvalid`), else (UTC start, patient)."""
    errors: dict[str, str] = {}
    topic = draft.topic.strip()
    if not topic:
        errors["topic"] = "Enter a topic."
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = too_long(TOPIC_MAX, len(topic))
    description = draft.description.strip()  # what is stored
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = too_long(DESCRIPTION_MAX, len(description))
    if not 1 <= draft.duration_minutes <= 1440:
        errors["duration"] = "Choose a length between 1 minute and 24 hours."
    start = _start_utc(draft, errors)
    client = session.get(Client, draft.client_id) if draft.client_id else None
    trusted = client is not None and client.practice_id == principal.practice_id and session.exec(
        select(TrustedPractitioner.id).where(TrustedPractitioner.client_id == client.id,
                                             TrustedPractitioner.practitioner_id == principal.user_id)).first()
    if not trusted:
        errors["patient"] = "Choose one of your patients (clients who chose you as a trusted professional)."
    elif client is not None and client.archived_at is not None:
        errors["patient"] = f"{client.full_name} is archived: restore them on the Clients page first."
    readiness = zoom_readiness(session, principal)
    if readiness is not None:
        errors["zoom"] = str(readiness)
    if errors or start is None or client is None:
        raise MeetingInvalid(errors or {"form": "Check the form."})
    return start, client


def overlapping(session: Session, practitioner_id: int, start: datetime, minutes: int,
                exclude_ids: frozenset[int] = frozenset()) -> list[str]:
    """Live appointments of the practitioner that overlap [start, start+minutes), described in the
    practitioner's timezone (one Zoom licence runs one meeting at a time; one person sees one
    client at a time)."""
    end = start + timedelta(minutes=minutes)
    candidates = session.exec(select(Appointment, Client.full_name)
                              .join(Client, col(Client.id) == Appointment.client_id).where(
        Appointment.practitioner_id == practitioner_id, Appointment.start_at < end,
        Appointment.start_at > start - timedelta(hours=24),
        col(Appointment.status).in_([AppointmentStatus.BOOKED, AppointmentStatus.IN_PROGRESS]))).all()
    profile = session.get(PractitionerProfile, practitioner_id)
    tz = profile.timezone if profile else "UTC"
    return [f"{a.topic or client_name} at {format_local(a.start_at, tz)}" for a, client_name in candidates
            if a.id not in exclude_ids and a.end_at > start]


def meeting_facts(session: Session, appointment: Appointment) -> emails.MeetingFacts:
    """What the client's emails about this appointment say."""
    client = session.get(Client, appointment.client_id)
    practitioner = session.get(User, appointment.practitioner_id)
    practice = session.get(Practice, appointment.practice_id)
    assert client is not None and practitioner is not None and practice is not None
    return emails.MeetingFacts(
        meeting_id=appointment.id or 0, title=phrases.visit_title(appointment.topic, appointment.telehealth),
        practitioner_name=practitioner.full_name, practice_name=practice.name, client_name=client.full_name,
        client_email=client.email or "", client_timezone=client.timezone, start_at=appointment.start_at,
        duration_minutes=appointment.duration_minutes, portal_url=get_settings().portal_url,
        telehealth=appointment.telehealth, location=practice.in_person_place if not appointment.telehealth else "",
        sequence=appointment.ics_sequence, status=AppointmentStatus(appointment.status),
        confirm_url=links.url(links.CONFIRM, appointment.id or 0, client.id or 0)
        if practice.ask_clients_to_confirm and appointment.confirmed_at is None
        and AppointmentStatus(appointment.status) == AppointmentStatus.BOOKED else "",
        booked_by_client=client.user_id is not None and appointment.created_by_user_id == client.user_id)


def schedule_meeting(principal: Principal, draft: MeetingDraft, *, overlap_confirmed: bool = False) -> Scheduled:
    """Save a new meeting for the signed-in practitioner and email the patient.

    Returns the new id, or only the overlaps (id None) when the start overlaps other meetings
    and the practitioner has not confirmed yet. Raises `MeetingInvalid`, `NotAllowed`.
    """
    require(principal, Action.HOST_MEETINGS)
    with unit_of_work() as session:
        booking_lock.lock_practitioner(session, principal.user_id)  # no double booking (first statement)
        if session.get(PractitionerProfile, principal.user_id) is None:
            raise NotAllowed("only practitioners host meetings")
        start, client = validate(session, principal, draft)
        overlaps = overlapping(session, principal.user_id, start, draft.duration_minutes)
        if overlaps and not overlap_confirmed:
            return Scheduled(meeting_id=None, overlaps=overlaps)
        topic, description = draft.topic.strip(), draft.description.strip()
        practice = session.get(Practice, principal.practice_id)
        appointment = Appointment(
            practice_id=principal.practice_id, practitioner_id=principal.user_id, client_id=client.id or 0,
            topic=topic, notes=description, start_at=start, duration_minutes=draft.duration_minutes,
            timezone=draft.timezone, telehealth=True, pos_code=practice.default_pos_code if practice else "10",
            status=AppointmentStatus.BOOKED, created_by_user_id=principal.user_id,
            changed_by_user_id=principal.user_id, search_text=meeting_search_text(topic, description, client.full_name))
        session.add(appointment)
        session.flush()
        session.add(Meeting(id=appointment.id or 0, sync_state=SyncState.PENDING_CREATE, next_sync_at=now()))
        reminders.plan(session, appointment)
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="meeting.scheduled", subject_type="meeting", subject_id=appointment.id or 0,
                     overlaps=len(overlaps))
        if client.email:
            queue_email(session, practice_id=principal.practice_id, key=f"meeting-scheduled:{appointment.id}",
                        email=emails.scheduled(meeting_facts(session, appointment)))
        return Scheduled(meeting_id=appointment.id, overlaps=overlaps)
