"""Emailed single-use links: portal invites for clients, team invites for the practice's people,
password resets for everyone, and the email confirmation of an owner who signed up (24 hours).

A link carries a random token; the database keeps only its SHA-256 (`AccountToken`). A link
works once, for 48 hours (claimed through `one_time`), and a newer link of the same kind
replaces the older unused ones. Setting a password through either link revokes the account's
sign-in sessions and clears its sign-in lockout. An invite only ever sets up an account that
has no password yet: a client who already has one gets a password reset instead, so that an
invite can never take over an existing account.
"""

from __future__ import annotations

import html
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import AccountToken, Client, LoginThrottle, Practice, Role, User
from rxapp.services.audit import trail
from rxapp.services.identity import auth, one_time, sessions
from rxapp.services.identity.passwords import hash_password, password_problem
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.permissions import Action, Principal, require
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

INVITE = "portal_invite"
RESET = "password_reset"
TEAM_INVITE = "team_invite"
CONFIRM_EMAIL = "verify_email"
LINK_LIFETIME = timedelta(hours=48)
# A practice's owner who signed up confirms their email within a day (a new link can be sent).
CONFIRM_LIFETIME = timedelta(hours=24)
# Forgot-password requests for one account send at most one email per interval (no mail bombing).
_RESET_EMAIL_INTERVAL = timedelta(minutes=1)

FORGOT_PASSWORD_ANSWER = ("If an account exists for that email, we sent a link to set a new password. "
                          "It works once, for 48 hours.")


class LinkProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


_PROBLEM_MESSAGES = {
    (INVITE, LinkProblem.UNKNOWN): "This invite link is not valid. Ask your practice to send a new one.",
    (INVITE, LinkProblem.EXPIRED): "This invite link has expired. Ask your practice to send a new one.",
    (INVITE, LinkProblem.USED): "This invite link was already used. Ask your practice to send a new one.",
    (RESET, LinkProblem.UNKNOWN): "This password reset link is not valid. Request a new one.",
    (RESET, LinkProblem.EXPIRED): "This password reset link has expired. Request a new one.",
    (RESET, LinkProblem.USED): "This password reset link was already used. Request a new one.",
    (TEAM_INVITE, LinkProblem.UNKNOWN): "This invite link is not valid. Ask your practice to send a new one.",
    (TEAM_INVITE, LinkProblem.EXPIRED): "This invite link has expired. Ask your practice to send a new one.",
    (TEAM_INVITE, LinkProblem.USED): "This invite link was already used. Sign in with your password, or use "
                                     "Forgot password on the sign-in page.",
    (CONFIRM_EMAIL, LinkProblem.UNKNOWN): "This confirmation link is not valid. Sign in and send a new one from "
                                          "Getting started.",
    (CONFIRM_EMAIL, LinkProblem.EXPIRED): "This confirmation link has expired. Sign in and send a new one from "
                                          "Getting started.",
    (CONFIRM_EMAIL, LinkProblem.USED): "This confirmation link was already used. Sign in to continue.",
}


class LinkUnusable(Exception):
    """The link is unknown, expired (or replaced by a newer one) or already used; `reason` says which."""

    def __init__(self, purpose: str, reason: LinkProblem) -> None:
        super().__init__(_PROBLEM_MESSAGES[(purpose, reason)])
        self.reason = reason


class InviteRefused(Exception):
    """The client cannot get (or accept) a portal invite; the message says why, for the user."""


class PasswordRejected(Exception):
    """The new password breaks the password rules; the message says which."""


@dataclass(frozen=True)
class InviteSent:
    """Who was emailed; `password_reset` when the client already had an account and got a reset link."""

    client_name: str
    email: str
    password_reset: bool = False


@dataclass(frozen=True)
class LinkInfo:
    """What a link's page shows before the password is set."""

    email: str
    practice_name: str


def _link(kind: str, token: str) -> str:
    return f"{get_settings().app_url.rstrip('/')}/{kind}/{token}"


def _new_token(session: Session, *, purpose: str, practice_id: int, at: datetime, user_id: int | None,
               client_id: int | None, created_by: int | None,
               lifetime: timedelta = LINK_LIFETIME) -> tuple[str, AccountToken]:
    """A fresh link token; the older unused ones of the same purpose and subject stop working."""
    owner = (col(AccountToken.client_id) == client_id) if purpose == INVITE else (
        col(AccountToken.user_id) == user_id)
    session.execute(update(AccountToken)
                    .where(col(AccountToken.purpose) == purpose, owner, col(AccountToken.used_at).is_(None),
                           col(AccountToken.expires_at) > at)
                    .values(expires_at=at))
    token = one_time.new_secret()
    row = AccountToken(practice_id=practice_id, purpose=purpose, token_hash=one_time.digest(token), user_id=user_id,
                       client_id=client_id, created_by_user_id=created_by, expires_at=at + lifetime,
                       created_at=at)
    session.add(row)
    session.flush()
    return token, row


def _usable(session: Session, token: str, purpose: str, at: datetime) -> AccountToken:
    """The link's row when it can still be used (for showing its page); raises `LinkUnusable`."""
    row = session.exec(select(AccountToken).where(AccountToken.token_hash == one_time.digest(token),
                                                  AccountToken.purpose == purpose)).first() if token else None
    if row is None:
        raise LinkUnusable(purpose, LinkProblem.UNKNOWN)
    if row.used_at is not None:
        raise LinkUnusable(purpose, LinkProblem.USED)
    if row.expires_at <= at:
        raise LinkUnusable(purpose, LinkProblem.EXPIRED)
    return row


def _claim(session: Session, token: str, purpose: str, at: datetime) -> AccountToken:
    """Use up the link, exactly once however many tabs submit at the same time; the first
    statement of the transaction. Raises `LinkUnusable` saying why it cannot be used."""
    token_id = one_time.claim(session, AccountToken.token_hash, token, col(AccountToken.purpose) == purpose, at=at)
    if token_id is None:
        _usable(session, token, purpose, at)  # raises with the reason
        raise LinkUnusable(purpose, LinkProblem.USED)
    row = session.get(AccountToken, token_id)
    assert row is not None
    return row


def _set_password(session: Session, user: User, password_hash: str, at: datetime) -> None:
    """New password; every existing sign-in of the account ends and its lockout is lifted."""
    user.password_hash, user.updated_at = password_hash, at
    sessions.end_all(session, user.id or 0, at=at)
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.email) == user.email))


def _checked_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise PasswordRejected(problem)
    return hash_password(password)


def _practice_name(session: Session, practice_id: int) -> str:
    practice = session.get(Practice, practice_id)
    return practice.name if practice else "your practice"


# Portal invites


def _invite_account(session: Session, client: Client) -> tuple[User | None, str]:
    """The client's portal user (None when accepting will create it) and its sign-in email.

    Raises `InviteRefused` when the client has no email, the account is deactivated, or the
    email already belongs to someone else's account.
    """
    if client.user_id is not None:
        user = session.get(User, client.user_id)
        if user is not None:
            if not user.is_active:
                raise InviteRefused(f"{client.full_name}'s portal account is deactivated, so it cannot be invited.")
            return user, user.email
    email = auth.normalize_email(client.email or "")
    if not email:
        raise InviteRefused(f"{client.full_name} has no email address. Add one to the client record before "
                            "sending a portal invite.")
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        # Never whose account (another practice's client, a team member …): only that it cannot be used.
        raise InviteRefused(f"{email} cannot be used for a new portal account, so {client.full_name} cannot be "
                            "invited with it. Ask the client for another email address.")
    return None, email


def _link_email(to: str, subject: str, name: str, why: str, action: str, link: str, lifetime: timedelta,
                if_not: str) -> OutgoingEmail:
    """One of the emails that carry a single-use link: the greeting, why it came, the link (as a button
    and as text), how long it works, and what to do when it was not expected."""
    hours = int(lifetime.total_seconds() // 3600)
    text = (f"Hello {name},\n\n{why}\n\n{action} here (the link works once, for {hours} hours):\n{link}\n\n"
            f"{if_not}\n")
    h, href = html.escape, html.escape(link, quote=True)
    body = (f"<p>Hello {h(name)},</p><p>{h(why)}</p><p><a href=\"{href}\">{h(action)}</a> (the link works once, "
            f"for {hours} hours).</p><p>If the button does not work, copy this address into your browser:<br>"
            f"{h(link)}</p><p>{h(if_not)}</p>")
    return OutgoingEmail(to=to, subject=subject, text=text, html=body)


def _invite_email(to: str, client_name: str, practice_name: str, link: str) -> OutgoingEmail:
    return _link_email(to, f"Your invite to the {practice_name} client portal", client_name,
                       f"{practice_name} invites you to its client portal, where you can see your sessions and join "
                       "telehealth visits.", "Set your password", link, LINK_LIFETIME,
                       "If you did not expect this email, you can ignore it.")


def send_portal_invite(principal: Principal, client_id: int) -> InviteSent:
    """Email the client a link to set a portal password; older unused invites stop working.

    A client who already has a portal account (with a password) gets a password reset link
    instead (`InviteSent.password_reset`): an invite never replaces an existing password.
    Raises `NotAllowed` without `SEND_PORTAL_INVITE`, `InviteRefused` for an unknown client
    (or one of another practice), a client without email, or an email taken by another account.
    """
    require(principal, Action.SEND_PORTAL_INVITE)
    at = now()
    with unit_of_work() as session:
        client = session.get(Client, client_id)
        if client is None or client.practice_id != principal.practice_id:
            raise InviteRefused("That client was not found.")
        user, _ = _invite_account(session, client)
        if user is not None and user.password_hash:
            _queue_reset(session, user, at, requested_by=principal.user_id)
            return InviteSent(client_name=client.full_name, email=user.email, password_reset=True)
        to = (client.email or "").strip() or (user.email if user else "")
        token, row = _new_token(session, purpose=INVITE, practice_id=client.practice_id, at=at,
                                user_id=user.id if user else None, client_id=client.id,
                                created_by=principal.user_id)
        email = _invite_email(to, client.full_name, _practice_name(session, client.practice_id),
                              _link("invite", token))
        queue_email(session, practice_id=client.practice_id, key=f"account-token:{row.id}", email=email)
        trail.record(session, practice_id=client.practice_id, actor_user_id=principal.user_id,
                     action="portal_invite.sent", subject_type="client", subject_id=client.id or "")
        return InviteSent(client_name=client.full_name, email=to)


def clients_with_open_invites(principal: Principal, client_ids: list[int]) -> set[int]:
    """Which of these clients have an invite that is still waiting to be used (for "Resend")."""
    require(principal, Action.SEND_PORTAL_INVITE)
    if not client_ids:
        return set()
    with unit_of_work() as session:
        return set(session.exec(select(AccountToken.client_id).where(
            AccountToken.practice_id == principal.practice_id, AccountToken.purpose == INVITE,
            col(AccountToken.client_id).in_(client_ids), col(AccountToken.used_at).is_(None),
            AccountToken.expires_at > now())).all())


def _invited_client(session: Session, row: AccountToken) -> Client:
    client = session.get(Client, row.client_id) if row.client_id else None
    if client is None:
        raise LinkUnusable(INVITE, LinkProblem.UNKNOWN)
    return client


_ALREADY_SET_UP = ("You already have a portal account for {email}. Sign in with your password, or use "
                   "Forgot password on the sign-in page to choose a new one.")


def _account_to_set_up(session: Session, client: Client) -> tuple[User | None, str]:
    """Like `_invite_account`, and refused when the account already has a password."""
    user, email = _invite_account(session, client)
    if user is not None and user.password_hash:
        raise InviteRefused(_ALREADY_SET_UP.format(email=email))
    return user, email


def check_invite(token: str) -> LinkInfo:
    """The account an invite link sets up. Raises `LinkUnusable` or `InviteRefused` (also when
    the account already has a password)."""
    with unit_of_work() as session:
        row = _usable(session, token, INVITE, now())
        client = _invited_client(session, row)
        _, email = _account_to_set_up(session, client)
        return LinkInfo(email=email, practice_name=_practice_name(session, client.practice_id))


def accept_invite(token: str, password: str) -> str:
    """Set the client's portal password (creating the portal user if needed) and use up the link.

    Returns a sign-in ticket for `/auth/session`. Raises `PasswordRejected`, `LinkUnusable`
    or `InviteRefused` (the account already has a password: an invite never replaces one).
    """
    password_hash = _checked_password(password)
    at = now()
    with unit_of_work() as session:
        row = _claim(session, token, INVITE, at)
        client = _invited_client(session, row)
        user, email = _account_to_set_up(session, client)
        if user is None:
            user = User(practice_id=client.practice_id, email=email, full_name=client.full_name,
                        role=Role.CLIENT, created_at=at, updated_at=at)
            session.add(user)
            session.flush()
            client.user_id = user.id
        _set_password(session, user, password_hash, at)
        trail.record(session, practice_id=client.practice_id, actor_user_id=user.id,
                     action="portal_invite.accepted", subject_type="client", subject_id=client.id or "")
        return auth.issue_ticket(session, user)


# Password resets


def _reset_email(to: str, name: str, practice_name: str, link: str) -> OutgoingEmail:
    return _link_email(to, f"Reset your {practice_name} password", name,
                       f"Someone asked to reset the password of your {practice_name} account.", "Choose a new password",
                       link, LINK_LIFETIME, "If it was not you, ignore this email: your password stays as it is.")


# Forgot-password requests are handled one after another, after the answer has been given.
_RESET_REQUESTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-reset")


def _handle_reset_request(email: str) -> None:
    try:
        request_password_reset(email)
    except Exception:
        log.exception("A forgot-password request failed")


def forgot_password(email: str) -> str:
    """Take a forgot-password request and answer at once (`FORGOT_PASSWORD_ANSWER`).

    The lookup and the email happen afterwards, on a queue, whether or not an account has this
    email: the answer takes the same time and says the same either way, so it reveals nothing.
    """
    _RESET_REQUESTS.submit(_handle_reset_request, email)
    return FORGOT_PASSWORD_ANSWER


def request_password_reset(email: str) -> str:
    """Email a reset link when an active account has this email; otherwise do nothing.

    Returns the same answer either way (`FORGOT_PASSWORD_ANSWER`). Its time differs (a write
    or none): the browser reaches it only through `forgot_password`.
    """
    key = auth.normalize_email(email)
    at = now()
    with unit_of_work() as session:
        user = session.exec(select(User).where(User.email == key)).first() if key else None
        if user is None or not user.is_active:
            return FORGOT_PASSWORD_ANSWER
        recent = session.exec(select(AccountToken.id).where(
            AccountToken.purpose == RESET, AccountToken.user_id == user.id,
            AccountToken.created_at > at - _RESET_EMAIL_INTERVAL)).first()
        if recent is not None:
            return FORGOT_PASSWORD_ANSWER
        _queue_reset(session, user, at, requested_by=None)
    return FORGOT_PASSWORD_ANSWER


def _queue_reset(session: Session, user: User, at: datetime, requested_by: int | None) -> None:
    """A new reset link for `user` (older unused ones stop working), emailed through the outbox."""
    token, row = _new_token(session, purpose=RESET, practice_id=user.practice_id, at=at, user_id=user.id,
                            client_id=None, created_by=requested_by)
    queue_email(session, practice_id=user.practice_id, key=f"account-token:{row.id}",
                email=_reset_email(user.email, user.full_name, _practice_name(session, user.practice_id),
                                   _link("reset-password", token)), account=True)
    trail.record(session, practice_id=user.practice_id, actor_user_id=requested_by,
                 action="password_reset.requested", subject_type="user", subject_id=user.id or "")


def _reset_user(session: Session, row: AccountToken) -> User:
    user = session.get(User, row.user_id) if row.user_id else None
    if user is None or not user.is_active:
        raise LinkUnusable(RESET, LinkProblem.UNKNOWN)
    return user


def check_reset(token: str) -> LinkInfo:
    """The account a reset link is for. Raises `LinkUnusable`."""
    with unit_of_work() as session:
        user = _reset_user(session, _usable(session, token, RESET, now()))
        return LinkInfo(email=user.email, practice_name=_practice_name(session, user.practice_id))


def reset_password(token: str, password: str) -> None:
    """Set a new password through a reset link and use up the link; the user then signs in normally.

    Every existing session of the account is revoked and its lockout cleared. Raises
    `PasswordRejected` or `LinkUnusable`.
    """
    password_hash = _checked_password(password)
    at = now()
    with unit_of_work() as session:
        row = _claim(session, token, RESET, at)
        user = _reset_user(session, row)
        _set_password(session, user, password_hash, at)
        trail.record(session, practice_id=user.practice_id, actor_user_id=user.id, action="user.password_reset",
                     subject_type="user", subject_id=user.id or "")


# Team invites: the invited person's user row exists already (services.practice.team), without a password.


def _team_invite_email(to: str, name: str, role: str, practice_name: str, link: str) -> OutgoingEmail:
    return _link_email(to, f"Join the {practice_name} team", name,
                       f"{practice_name} invites you to join its team as {role}.", "Choose your password", link,
                       LINK_LIFETIME, "If you did not expect this email, you can ignore it.")


def queue_team_invite(session: Session, user: User, invited_by: int | None) -> str:
    """A new team invite link for `user` (older unused ones stop working), emailed through the
    outbox in the caller's transaction; returns the link (a scripted install prints it)."""
    at = now()
    token, row = _new_token(session, purpose=TEAM_INVITE, practice_id=user.practice_id, at=at, user_id=user.id,
                            client_id=None, created_by=invited_by)
    link = _link("team-invite", token)
    queue_email(session, practice_id=user.practice_id, key=f"account-token:{row.id}",
                email=_team_invite_email(user.email, user.full_name, Role(user.role).value,
                                         _practice_name(session, user.practice_id), link))
    return link


def _invited_member(session: Session, row: AccountToken) -> User:
    """The team member a link sets up; `InviteRefused` once they are deactivated or set up already."""
    user = session.get(User, row.user_id) if row.user_id else None
    if user is None or user.role == Role.CLIENT or user.practice_id != row.practice_id:
        raise LinkUnusable(TEAM_INVITE, LinkProblem.UNKNOWN)
    if not user.is_active:
        raise InviteRefused(f"The account {user.email} was deactivated by your practice, so this invite no "
                            "longer works.")
    if user.password_hash:
        raise InviteRefused(f"You already chose a password for {user.email}. Sign in with it, or use Forgot "
                            "password on the sign-in page.")
    return user


def check_team_invite(token: str) -> LinkInfo:
    """The account a team invite link sets up. Raises `LinkUnusable` or `InviteRefused`."""
    with unit_of_work() as session:
        user = _invited_member(session, _usable(session, token, TEAM_INVITE, now()))
        return LinkInfo(email=user.email, practice_name=_practice_name(session, user.practice_id))


def accept_team_invite(token: str, password: str) -> str:
    """Set the invited team member's password and use up the link (claimed once, atomically).

    Returns a sign-in ticket for `/auth/session`. Raises `PasswordRejected`, `LinkUnusable`
    or `InviteRefused` (deactivated meanwhile, or a password was already set).
    """
    password_hash = _checked_password(password)
    at = now()
    with unit_of_work() as session:
        row = _claim(session, token, TEAM_INVITE, at)
        user = _invited_member(session, row)
        _set_password(session, user, password_hash, at)
        trail.record(session, practice_id=user.practice_id, actor_user_id=user.id, action="team_invite.accepted",
                     subject_type="user", subject_id=user.id or "")
        return auth.issue_ticket(session, user)


# The email confirmation of an owner who created their practice at /signup (services.practice.signup).


def _confirm_email(to: str, name: str, practice_name: str, link: str) -> OutgoingEmail:
    return _link_email(to, f"Confirm your email for {practice_name}", name,
                       f"Please confirm that this is your email, so that {practice_name} can start sending reminders "
                       "and invites.", "Confirm my email", link, CONFIRM_LIFETIME,
                       "If you did not create this practice, ignore this email: nothing will be sent in its name.")


def queue_email_confirmation(session: Session, user: User) -> None:
    """A new confirmation link for the owner `user` (older unused ones stop working), emailed as
    account mail (it goes although the practice is not confirmed yet)."""
    at = now()
    token, row = _new_token(session, purpose=CONFIRM_EMAIL, practice_id=user.practice_id, at=at, user_id=user.id,
                            client_id=None, created_by=user.id, lifetime=CONFIRM_LIFETIME)
    queue_email(session, practice_id=user.practice_id, key=f"account-token:{row.id}", account=True,
                email=_confirm_email(user.email, user.full_name, _practice_name(session, user.practice_id),
                                     _link("confirm-email", token)))


def last_confirmation_sent(session: Session, user_id: int) -> datetime | None:
    return session.exec(select(AccountToken.created_at).where(
        AccountToken.purpose == CONFIRM_EMAIL, AccountToken.user_id == user_id)
        .order_by(col(AccountToken.created_at).desc())).first()


def _confirming_owner(session: Session, row: AccountToken) -> User:
    user = session.get(User, row.user_id) if row.user_id else None
    if user is None or not user.is_active or user.role != Role.OWNER or user.practice_id != row.practice_id:
        raise LinkUnusable(CONFIRM_EMAIL, LinkProblem.UNKNOWN)
    return user


def check_email_confirmation(token: str) -> LinkInfo:
    """Whose email a confirmation link confirms. Raises `LinkUnusable`."""
    with unit_of_work() as session:
        user = _confirming_owner(session, _usable(session, token, CONFIRM_EMAIL, now()))
        return LinkInfo(email=user.email, practice_name=_practice_name(session, user.practice_id))


def confirm_email(token: str) -> LinkInfo:
    """Use up the confirmation link (claimed once, atomically) and mark the practice confirmed: its
    waiting messages go out. Raises `LinkUnusable`."""
    at = now()
    with unit_of_work() as session:
        row = _claim(session, token, CONFIRM_EMAIL, at)
        user = _confirming_owner(session, row)
        session.execute(update(Practice).where(col(Practice.id) == user.practice_id,
                                               col(Practice.email_verified_at).is_(None))
                        .values(email_verified_at=at))
        trail.record(session, practice_id=user.practice_id, actor_user_id=user.id, action="practice.email_confirmed",
                     subject_type="practice", subject_id=user.practice_id)
        return LinkInfo(email=user.email, practice_name=_practice_name(session, user.practice_id))
