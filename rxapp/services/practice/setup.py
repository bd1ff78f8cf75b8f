"""The first run: creating the practice and its owner on an empty installation, and the owner's
getting-started checklist.

While no practice exists, `/setup` (api.py) asks for a one-time setup code that
`python -m rxapp.manage setup-code` prints (the app also logs one once at start). A new code retires
the older unused ones; only the SHA-256 is stored. Setting up claims the code with one
`UPDATE ... WHERE unused AND no practice exists`, so of two people racing with one code, or with two
codes, exactly one practice is made; afterwards `/setup` is a 404 and every code is dead.
`create_practice` does the same for scripted installs (`manage create-practice`) and returns an
invite link for the owner instead of taking their password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import exists, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    AvailabilityBlock,
    Client,
    Practice,
    PractitionerProfile,
    Role,
    SetupCode,
    User,
    ZoomConnection,
)
from rxapp.services.audit import trail
from rxapp.services.identity import accounts, auth, one_time
from rxapp.services.identity.passwords import hash_password, password_problem
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.practice.settings import POS_CODES
from rxapp.services.timezones import is_valid

NAME_MAX = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SetupRefused(Exception):
    """The setup code is not valid, or the installation has its practice already."""

    def __init__(self) -> None:
        super().__init__("That setup code is not valid. Print a new one with: python -m rxapp.manage setup-code")


class SetupInvalid(Exception):
    """The form has problems: field -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class PracticeForm:
    practice_name: str
    timezone: str
    country: str  # ISO 3166 alpha-2: the region of phone numbers typed without a country code
    address: str
    pos_code: str  # the telehealth place-of-service code
    owner_name: str
    owner_email: str
    password: str = ""  # /setup only; `create_practice` invites the owner instead
    password_again: str = ""


def countries() -> list[str]:
    """Every region `phonenumbers` knows, as the form offers them (e.g. "US", "GB")."""
    return sorted(phonenumbers.SUPPORTED_REGIONS)


def needs_setup() -> bool:
    """True while the installation has no practice (the first run)."""
    with unit_of_work() as session:
        return session.exec(select(Practice.id)).first() is None


def new_setup_code() -> str | None:
    """A fresh one-time setup code (the older unused ones stop working); None once a practice exists."""
    with unit_of_work() as session:
        if session.exec(select(Practice.id)).first() is not None:
            return None
        session.execute(update(SetupCode).where(col(SetupCode.used_at).is_(None)).values(used_at=now()))
        code = one_time.new_secret(12)
        session.add(SetupCode(code_hash=one_time.digest(code)))
        return code


def code_works(code: str) -> bool:
    """Whether this code would open the setup now (the page asks before showing the form's errors)."""
    with unit_of_work() as session:
        return session.exec(select(SetupCode.id).where(SetupCode.code_hash == one_time.digest(code.strip() or "-"),
                                                      col(SetupCode.used_at).is_(None))).first() is not None \
            and session.exec(select(Practice.id)).first() is None


def validate(form: PracticeForm, *, with_password: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not form.practice_name.strip() or len(form.practice_name.strip()) > NAME_MAX:
        errors["practice_name"] = f"Enter the practice's name (at most {NAME_MAX} characters)."
    if not is_valid(form.timezone):
        errors["timezone"] = "Choose the practice's timezone from the list."
    if form.country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = "Choose the practice's country from the list."
    if len(form.address) > 500:
        errors["address"] = "Use at most 500 characters."
    if form.pos_code not in POS_CODES:
        errors["pos_code"] = "Choose 02 or 10."
    if not form.owner_name.strip() or len(form.owner_name.strip()) > NAME_MAX:
        errors["owner_name"] = f"Enter the owner's name (at most {NAME_MAX} characters)."
    if not _EMAIL.match(form.owner_email.strip()) or len(form.owner_email.strip()) > 320:
        errors["owner_email"] = "Enter an email address like name@example.com."
    if with_password:
        problem = password_problem(form.password)
        if problem:
            errors["password"] = problem
        elif form.password != form.password_again:
            errors["password_again"] = "The two passwords differ."
    return errors


def new_practice(session: Session, form: PracticeForm, password_hash: str | None, *, confirmed: bool = True) -> User:
    """The practice and its owner (flushed); `confirmed=False` for a practice made at /signup."""
    practice = Practice(name=form.practice_name.strip(), timezone=form.timezone, country=form.country,
                        address=form.address.strip(), default_pos_code=form.pos_code)
    session.add(practice)
    session.flush()
    if not confirmed:  # after the INSERT: the column's default fills in a None given to the constructor
        practice.email_verified_at = None
    owner = User(practice_id=practice.id or 0, email=auth.normalize_email(form.owner_email),
                 full_name=form.owner_name.strip(), role=Role.OWNER, password_hash=password_hash)
    session.add(owner)
    session.flush()
    trail.record(session, practice_id=practice.id or 0, actor_user_id=owner.id, action="practice.created",
                 subject_type="practice", subject_id=practice.id or 0, owner_email=owner.email)
    return owner


def set_up(code: str, form: PracticeForm) -> str:
    """The first run's form: claims the setup code, creates the practice and its owner; returns a
    sign-in ticket for the owner. Raises `SetupInvalid` (nothing claimed) or `SetupRefused`."""
    errors = validate(form, with_password=True)
    if errors:
        raise SetupInvalid(errors)
    password_hash = hash_password(form.password)
    with unit_of_work() as session:
        claimed = session.execute(
            update(SetupCode).where(col(SetupCode.code_hash) == one_time.digest(code.strip() or "-"),
                                    col(SetupCode.used_at).is_(None), ~exists(sa_select(Practice.id)))
            .values(used_at=now()))
        if claimed.rowcount != 1:
            raise SetupRefused()
        session.execute(update(SetupCode).where(col(SetupCode.used_at).is_(None)).values(used_at=now()))
        owner = new_practice(session, form, password_hash)
        return auth.issue_ticket(session, owner)


def create_practice(form: PracticeForm) -> str:
    """A practice and its owner for scripted installs (more than one practice is fine here); the owner
    chooses a password through the returned invite link (also emailed). Raises `SetupInvalid`."""
    errors = validate(form, with_password=False)
    with unit_of_work() as session:
        if not errors and session.exec(select(User.id).where(
                User.email == auth.normalize_email(form.owner_email))).first() is not None:
            errors["owner_email"] = "Someone already signs in with this email."
        if errors:
            raise SetupInvalid(errors)
        owner = new_practice(session, form, None)
        session.execute(update(SetupCode).where(col(SetupCode.used_at).is_(None)).values(used_at=now()))
        return accounts.queue_team_invite(session, owner, None)


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    href: str


def checklist(principal: Principal) -> list[Step]:
    """The owner's first steps, each done or not, with where to do it."""
    require(principal, Action.PRACTICE_SETTINGS)
    pid = principal.practice_id
    with unit_of_work() as session:
        practice = session.get(Practice, pid)
        assert practice is not None

        def some(query) -> bool:
            return session.exec(query.limit(1)).first() is not None

        connected = some(select(ZoomConnection.id).join(User, col(User.id) == ZoomConnection.practitioner_id)
                         .where(User.practice_id == pid))
        team = some(select(User.id).where(User.practice_id == pid, User.role != Role.CLIENT,
                                          User.id != principal.user_id))
        availability = some(select(AvailabilityBlock.id).where(AvailabilityBlock.practice_id == pid))
        practitioners = some(select(PractitionerProfile.user_id).where(PractitionerProfile.practice_id == pid))
        clients = some(select(Client.id).where(Client.practice_id == pid))
        reminders = bool(practice.phone or practice.address)
    return [Step("Allow Zoom and connect it", practice.allow_zoom and connected, "/settings"),
            Step("Invite your team", team and practitioners, "/team"),
            Step("Publish availability", availability, "/availability"),
            Step("Set reminders and SMS (the practice's address and phone)", reminders, "/settings"),
            Step("Import or add your clients", clients, "/clients")]
