"""Demo data for `make run`: one practice, its people and clients. Idempotent; never in production."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from rxapp.db import unit_of_work
from rxapp.models import (
    Client,
    CreditKind,
    Practice,
    PractitionerProfile,
    Role,
    SmsCreditEntry,
    TrustedPractitioner,
    User,
)
from rxapp.services.identity.passwords import hash_password
from rxapp.settings import get_settings

DEMO_PASSWORD = "telehealth-demo"
PRACTICE_NAME = "Demo Practice"

STAFF_USERS: tuple[tuple[str, str, Role], ...] = (
    ("owner@demo.clinic", "Olivia Owner", Role.OWNER),
    ("manager@demo.clinic", "Morgan Manager", Role.MANAGER),
    ("dr.lee@demo.clinic", "Dr. Dana Lee", Role.PRACTITIONER),
    ("dr.patel@demo.clinic", "Dr. Priya Patel", Role.PRACTITIONER),
    ("frontdesk@demo.clinic", "Frankie Frontdesk", Role.STAFF),
)
# email, name, phone, timezone, trusted practitioner
CLIENTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("alex@demo.client", "Alex Rivera", "+13125550101", "America/Chicago", "dr.lee@demo.clinic"),
    ("sam@demo.client", "Sam Taylor", "+12125550102", "America/New_York", "dr.lee@demo.clinic"),
    ("jo@demo.client", "Jo Kim", "+12135550103", "America/Los_Angeles", "dr.patel@demo.clinic"),
)


def _user(session: Session, practice_id: int, email: str, name: str, role: Role, password_hash: str) -> User:
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(practice_id=practice_id, email=email, full_name=name, role=role, password_hash=password_hash)
        session.add(user)
        session.flush()
    return user


def load_demo_data() -> bool:
    """Create the demo practice unless it exists; returns True when something was created."""
    if get_settings().is_production:
        raise RuntimeError("Demo data is never loaded in production")
    with unit_of_work() as session:
        if session.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).first():
            return False
        practice = Practice(name=PRACTICE_NAME, timezone="America/New_York",
                            address="120 Harbor Street, Suite 4, Boston, MA 02110",
                            telehealth_location_name="Demo Practice Telehealth")
        session.add(practice)
        session.flush()
        pid = practice.id or 0
        session.add(SmsCreditEntry(practice_id=pid, kind=CreditKind.GRANT, amount=100, note="Demo credits"))
        pw = hash_password(DEMO_PASSWORD)
        users = {email: _user(session, pid, email, name, role, pw) for email, name, role in STAFF_USERS}
        for email, tz in (("dr.lee@demo.clinic", "America/New_York"), ("dr.patel@demo.clinic", "Europe/London")):
            session.add(PractitionerProfile(user_id=users[email].id or 0, practice_id=pid, timezone=tz,
                                            telehealth_enabled=True))
        for email, name, phone, tz, trusted in CLIENTS:
            portal_user = _user(session, pid, email, name, Role.CLIENT, pw)
            first, last = name.split(" ", 1)
            client = Client(practice_id=pid, full_name=name, first_name=first, last_name=last, email=email,
                            phone=phone, timezone=tz, user_id=portal_user.id)
            session.add(client)
            session.flush()
            session.add(TrustedPractitioner(practice_id=pid, client_id=client.id or 0,
                                            practitioner_id=users[trusted].id or 0))
        return True


# The demo week (`make run`): (practitioner, client, weekday 0=Monday, local time, minutes, telehealth,
# weekly occurrences, cancel reason). Times are the practitioner's own.
DEMO_WEEK: tuple[tuple[str, str, int, str, int, bool, int, str], ...] = (
    ("dr.lee@demo.clinic", "sam@demo.client", 0, "09:00", 50, False, 1, ""),
    ("dr.lee@demo.clinic", "alex@demo.client", 1, "11:00", 50, True, 6, ""),  # the weekly series
    ("dr.lee@demo.clinic", "sam@demo.client", 2, "15:00", 50, False, 1, "Client unwell"),
    ("dr.lee@demo.clinic", "jo@demo.client", 3, "09:30", 30, False, 1, ""),
    ("dr.lee@demo.clinic", "alex@demo.client", 4, "10:00", 50, True, 1, ""),
    ("dr.patel@demo.clinic", "jo@demo.client", 0, "14:00", 60, False, 1, ""),
    ("dr.patel@demo.clinic", "jo@demo.client", 2, "15:00", 50, True, 1, ""),
    ("dr.patel@demo.clinic", "sam@demo.client", 3, "10:00", 50, False, 1, ""),
    ("dr.patel@demo.clinic", "alex@demo.client", 4, "16:00", 45, True, 1, ""),
)


def load_demo_week() -> int:
    """A living calendar for `make run`: this week's appointments of Dr. Lee and Dr. Patel, in person
    and by telehealth, one weekly series and one cancelled visit. Past ones are completed; future
    telehealth ones wait for Zoom (pending until the practice allows Zoom and the practitioner
    connects, then created by the sync job). Idempotent: nothing is added once the practice has
    appointments. Returns how many were added."""
    from rxapp.clock import now
    from rxapp.models import Appointment, AppointmentStatus, Meeting, SyncState
    from rxapp.services.scheduling.appointments import IN_PERSON_POS
    from rxapp.services.scheduling.zoom_follow import zoom_problem_for
    from rxapp.services.telehealth.meeting_list import meeting_search_text

    if get_settings().is_production:
        raise RuntimeError("Demo data is never loaded in production")
    added = 0
    with unit_of_work() as session:
        practice = session.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).first()
        if practice is None or session.exec(select(Appointment.id).where(
                Appointment.practice_id == practice.id)).first() is not None:
            return 0
        people = {u.email: u for u in session.exec(select(User).where(User.practice_id == practice.id))}
        clients = {c.email: c for c in session.exec(select(Client).where(Client.practice_id == practice.id))}
        for email, client_email, weekday, hour, minutes, telehealth, weeks, cancel_reason in DEMO_WEEK:
            practitioner, client = people[email], clients[client_email]
            profile = session.get(PractitionerProfile, practitioner.id)
            zone = ZoneInfo(profile.timezone if profile else practice.timezone)
            today = now().astimezone(zone).date()
            monday = today - timedelta(days=today.weekday())
            series = str(uuid.uuid4()) if weeks > 1 else None
            for week in range(weeks):
                day = monday + timedelta(days=weekday, weeks=week)
                start = datetime.combine(day, time.fromisoformat(hour), zone).astimezone(UTC)
                past = start + timedelta(minutes=minutes) <= now()
                status = AppointmentStatus.CANCELLED if cancel_reason else \
                    AppointmentStatus.COMPLETED if past else AppointmentStatus.BOOKED
                appointment = Appointment(
                    practice_id=practice.id or 0, practitioner_id=practitioner.id or 0, client_id=client.id or 0,
                    start_at=start, duration_minutes=minutes, timezone=str(zone), telehealth=telehealth,
                    pos_code=practice.default_pos_code if telehealth else IN_PERSON_POS, status=status,
                    cancel_reason=cancel_reason, series_id=series,
                    outcome_recorded_at=start + timedelta(minutes=minutes) if past and not cancel_reason else None,
                    search_text=meeting_search_text("", "", client.full_name),
                    created_by_user_id=people["frontdesk@demo.clinic"].id)
                session.add(appointment)
                session.flush()
                if telehealth:
                    waiting = status == AppointmentStatus.BOOKED
                    problem = zoom_problem_for(session, practice.id or 0, practitioner.id or 0) if waiting else ""
                    session.add(Meeting(id=appointment.id or 0,
                                        sync_state=SyncState.NEEDS_ATTENTION if problem else
                                        SyncState.PENDING_CREATE if waiting else SyncState.SYNCED,
                                        last_sync_error=f"Zoom meeting pending: {problem}." if problem else ""))
                added += 1
    return added


# Published hours for `make run`, so the portal has slots: (practitioner, weekdays, start, end, mode),
# local times in the practitioner's zone (Lee New York, Patel London).
DEMO_AVAILABILITY: tuple[tuple[str, tuple[int, ...], str, str, str], ...] = (
    ("dr.lee@demo.clinic", (0, 2, 4), "09:00", "12:00", "both"),
    ("dr.lee@demo.clinic", (0, 2, 4), "13:00", "17:00", "in_person"),
    ("dr.lee@demo.clinic", (1, 3), "09:00", "13:00", "telehealth"),
    ("dr.patel@demo.clinic", (0, 1, 2, 3), "10:00", "16:00", "both"),
)


def load_demo_availability() -> int:
    """Weekday hours and booking rules (50 minutes every 30, 24 h notice, 60 days ahead) for Dr. Lee
    and Dr. Patel, for a practitioner who has none yet. Returns how many blocks were added."""
    from rxapp.models import AvailabilityBlock, BookingRule

    if get_settings().is_production:
        raise RuntimeError("Demo data is never loaded in production")
    added = 0
    with unit_of_work() as session:
        practice = session.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).first()
        if practice is None:
            return 0
        people = {u.email: u.id or 0 for u in session.exec(select(User).where(User.practice_id == practice.id))}
        for email in {row[0] for row in DEMO_AVAILABILITY}:
            practitioner_id = people[email]
            if session.exec(select(AvailabilityBlock.id).where(
                    AvailabilityBlock.practitioner_id == practitioner_id)).first() is not None or \
                    session.get(BookingRule, practitioner_id) is not None:
                continue
            session.add(BookingRule(practitioner_id=practitioner_id, practice_id=practice.id or 0))
            for who, weekdays, start, end, mode in DEMO_AVAILABILITY:
                if who != email:
                    continue
                begin, finish = time.fromisoformat(start), time.fromisoformat(end)
                for weekday in weekdays:
                    session.add(AvailabilityBlock(practice_id=practice.id or 0, practitioner_id=practitioner_id,
                                                  weekday=weekday, start_minute=begin.hour * 60 + begin.minute,
                                                  end_minute=finish.hour * 60 + finish.minute, mode=mode))
                    added += 1
    return added


def demo_sign_ins() -> list[tuple[str, str]]:
    """(email, role) of every demo account, for `make run` to print."""
    return [(e, r.value) for e, _, r in STAFF_USERS] + [(c[0], "client") for c in CLIENTS]
