"""Several practices on one installation: `/signup` creates a practice and its owner when
`PRACTICE_SIGNUP=open` (a 404 when `closed`, the default).

The owner is signed in at once and can set the practice up, but must confirm their email (a
one-time link, 24 hours, `accounts.confirm_email`) before the practice sends anything to anyone
else: until then the outbox holds every message of the practice except the owner's own account
mail (`outbox._due`), and they go once the email is confirmed. A practice made by the installation's
operator (the first run's /setup, `manage create-practice`, the demo) is confirmed from the start.

Every practice's data stays inside it: each use case filters by the signed-in person's practice,
and an id of another practice is refused like an unknown id (tests/integration/test_practice_isolation.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Notification, NotificationStatus, Practice, Role, User
from rxapp.services.audit import trail
from rxapp.services.identity import accounts, auth
from rxapp.services.identity.passwords import hash_password
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.practice.setup import PracticeForm, SetupInvalid, new_practice, validate
from rxapp.settings import get_settings

# A new confirmation link at most this often (no mail bombing through the resend button).
RESEND_INTERVAL = timedelta(minutes=1)
EMAIL_TAKEN = "Someone already signs in with this email. Sign in, or use Forgot password on the sign-in page."


def signup_open() -> bool:
    return get_settings().practice_signup == "open"


class SignupClosed(Exception):
    """This installation does not take new practices (`PRACTICE_SIGNUP=closed`)."""


def sign_up(form: PracticeForm) -> str:
    """Create a practice (unconfirmed) and its owner, email the confirmation link; returns a sign-in
    ticket for the owner. Raises `SignupClosed` or `SetupInvalid` (field -> message; nothing made)."""
    if not signup_open():
        raise SignupClosed()
    errors = validate(form, with_password=True)
    if errors:
        raise SetupInvalid(errors)
    password_hash = hash_password(form.password)
    email = auth.normalize_email(form.owner_email)
    try:
        with unit_of_work() as session:
            if session.exec(select(User.id).where(User.email == email)).first() is not None:
                raise SetupInvalid({"owner_email": EMAIL_TAKEN})
            owner = new_practice(session, form, password_hash, confirmed=False)
            trail.record(session, practice_id=owner.practice_id, actor_user_id=owner.id, action="practice.signed_up",
                         subject_type="practice", subject_id=owner.practice_id)
            accounts.queue_email_confirmation(session, owner)
            return auth.issue_ticket(session, owner)
    except IntegrityError:  # the same email signed up in another tab at the same moment
        raise SetupInvalid({"owner_email": EMAIL_TAKEN}) from None


@dataclass(frozen=True)
class Confirmation:
    confirmed: bool
    email: str  # where the link went (the owner's)
    waiting: int  # messages held until the email is confirmed


def confirmation(principal: Principal) -> Confirmation:
    """Whether the practice's email is confirmed, for the owner's Getting started page."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        if practice.email_verified_at is not None:
            return Confirmation(True, "", 0)
        owner = session.exec(select(User.email).where(User.practice_id == principal.practice_id,
                                                      User.role == Role.OWNER).order_by(col(User.id))).first()
        waiting = session.exec(select(func.count()).select_from(Notification).where(
            Notification.practice_id == principal.practice_id, col(Notification.account).is_(False),
            Notification.status == NotificationStatus.PENDING)).one()
        return Confirmation(False, owner or "", waiting)


class ResendRefused(Exception):
    """Not now (a link went less than a minute ago), or nothing to confirm; the message says which."""


def resend_confirmation(principal: Principal) -> str:
    """A new confirmation link to the owner (the owner only; at most once a minute); says where it went."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        owner = session.get(User, principal.user_id)
        assert practice is not None and owner is not None
        if practice.email_verified_at is not None:
            raise ResendRefused("Your practice's email is confirmed already.")
        if owner.role != Role.OWNER:
            raise ResendRefused("Only the practice's owner confirms its email.")
        last = accounts.last_confirmation_sent(session, owner.id or 0)
        if last is not None and last > now() - RESEND_INTERVAL:
            raise ResendRefused("A link went less than a minute ago. Check your inbox (and spam folder), then try "
                                "again in a minute.")
        accounts.queue_email_confirmation(session, owner)
        trail.record(session, practice_id=owner.practice_id, actor_user_id=owner.id,
                     action="practice.confirmation_resent", subject_type="practice", subject_id=owner.practice_id)
        return owner.email
