"""Demo data for `make run`: one practice, its people and clients. Idempotent; never in production."""

from __future__ import annotations

from sqlmodel import Session, select

from rxapp.db import unit_of_work
from rxapp.models import Client, Practice, PractitionerProfile, Role, TrustedPractitioner, User
from rxapp.services.passwords import hash_password
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
    ("alex@demo.client", "Alex Rivera", "+15555550101", "America/Chicago", "dr.lee@demo.clinic"),
    ("sam@demo.client", "Sam Taylor", "+15555550102", "America/New_York", "dr.lee@demo.clinic"),
    ("jo@demo.client", "Jo Kim", "+15555550103", "America/Los_Angeles", "dr.patel@demo.clinic"),
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
        practice = Practice(name=PRACTICE_NAME, timezone="America/New_York", sms_credits=100,
                            telehealth_location_name="Demo Practice Telehealth")
        session.add(practice)
        session.flush()
        pid = practice.id or 0
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


def demo_sign_ins() -> list[tuple[str, str]]:
    """(email, role) of every demo account, for `make run` to print."""
    return [(e, r.value) for e, _, r in STAFF_USERS] + [(c[0], "client") for c in CLIENTS]
