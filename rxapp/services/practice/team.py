"""The practice's team: its people (never its clients), invited, re-roled, deactivated, reactivated.

Owners and managers run the team; only an owner makes (or changes) a manager or an owner, and
nobody changes their own role or deactivates themselves. The last active owner stays an active
owner. Every change takes the practice's team lock first, so two changes at the same moment
(two owners demoting each other) are checked one after the other.

Deactivating a person ends every sign-in of theirs at once, disconnects their Zoom (through
`services.telehealth.zoom.connections.disconnect`, which revokes our grant and deletes nothing at Zoom) and
leaves their future appointments in place: `future_visits` lists them for re-assignment.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    AccountToken,
    Appointment,
    AppointmentStatus,
    Client,
    Practice,
    PractitionerProfile,
    Role,
    User,
    ZoomConnection,
)
from rxapp.services.audit import trail
from rxapp.services.identity import accounts, auth, sessions
from rxapp.services.permissions import Action, NotAllowed, Principal, require
from rxapp.services.practice import profiles
from rxapp.services.telehealth.zoom import connections
from rxapp.services.telehealth.zoom.errors import ZoomError, ZoomNotConnected
from rxapp.services.timezones import format_local

log = logging.getLogger(__name__)

TEAM_ROLES: tuple[Role, ...] = (Role.PRACTITIONER, Role.STAFF, Role.MANAGER, Role.OWNER)
# Roles only an owner may give, and whose holders only an owner may change.
OWNER_CONTROLLED = frozenset({Role.MANAGER, Role.OWNER})
FUTURE_VISITS_SHOWN = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class MemberStatus(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"  # no password chosen yet
    DEACTIVATED = "deactivated"


class TeamRefused(Exception):
    """The team change cannot be made; the message says why, for the user."""


@dataclass(frozen=True)
class Member:
    """A row of the Team page."""

    user_id: int
    full_name: str
    email: str
    role: Role
    status: MemberStatus
    has_profile: bool
    telehealth_enabled: bool
    zoom: str  # "" without a profile, else connections.ConnectionState value
    two_step: bool = False  # signs in with two steps (services.identity.mfa)


@dataclass(frozen=True)
class FutureVisit:
    """A future appointment of a practitioner, to re-assign."""

    id: int
    when: str
    client_name: str
    telehealth: bool
    link: str


@dataclass(frozen=True)
class Deactivated:
    full_name: str
    sessions_ended: int
    zoom_disconnected: bool
    zoom_problem: str  # why Zoom could not be disconnected, "" when it was (or there was nothing to do)
    future: list[FutureVisit]
    future_total: int


def _status(user: User) -> MemberStatus:
    if not user.is_active:
        return MemberStatus.DEACTIVATED
    return MemberStatus.ACTIVE if user.password_hash else MemberStatus.INVITED


def _member(user: User, profile: PractitionerProfile | None, zoom: ZoomConnection | None) -> Member:
    state = "" if profile is None else (zoom.status if zoom is not None else connections.ConnectionState.NOT_CONNECTED)
    return Member(user_id=user.id or 0, full_name=user.full_name, email=user.email, role=Role(user.role),
                  status=_status(user), has_profile=profile is not None,
                  telehealth_enabled=bool(profile and profile.telehealth_enabled), zoom=str(state),
                  two_step=user.mfa_enabled_at is not None)


def list_team(principal: Principal) -> list[Member]:
    """The practice's people (clients excluded), by name. Raises `NotAllowed` without MANAGE_TEAM."""
    require(principal, Action.MANAGE_TEAM)
    with unit_of_work() as session:
        rows = session.exec(
            select(User, PractitionerProfile, ZoomConnection)
            .join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id, isouter=True)
            .join(ZoomConnection, col(ZoomConnection.practitioner_id) == User.id, isouter=True)
            .where(User.practice_id == principal.practice_id, User.role != Role.CLIENT)
            .order_by(func.lower(User.full_name), User.id)).all()
        return [_member(user, profile, zoom) for user, profile, zoom in rows]


def _lock_team(session: Session, principal: Principal) -> Principal:
    """Serialise team changes of one practice, then re-read who is acting.

    The first statement of the transaction writes the practice row (a row lock on PostgreSQL,
    the write lock on SQLite), so the roles and owner count read afterwards cannot change under
    us. Returns the principal with the actor's role as it is now (an owner demoted a moment ago
    acts as what they are now); raises `NotAllowed` when they may no longer manage the team.
    """
    session.execute(update(Practice).where(col(Practice.id) == principal.practice_id).values(name=Practice.name))
    actor = session.get(User, principal.user_id)
    if actor is None or not actor.is_active or actor.practice_id != principal.practice_id:
        raise NotAllowed(Action.MANAGE_TEAM.value)
    return require(replace(principal, role=Role(actor.role)), Action.MANAGE_TEAM)


def _target(session: Session, principal: Principal, user_id: int) -> User:
    """A team member `principal` may change; `TeamRefused` saying why not."""
    user = session.get(User, user_id)
    if user is None or user.practice_id != principal.practice_id or user.role == Role.CLIENT:
        raise TeamRefused("That person is not on your practice's team.")
    if user.id == principal.user_id:
        raise TeamRefused("You cannot change your own role or deactivate yourself. Ask another owner.")
    if Role(user.role) in OWNER_CONTROLLED and principal.role != Role.OWNER:
        raise TeamRefused(f"Only an owner can change {user.full_name}, who is {_a(Role(user.role))}.")
    return user


def _a(role: Role) -> str:
    return f"an {role.value}" if role.value[0] in "aeiou" else f"a {role.value}"


def _checked_role(principal: Principal, role: str) -> Role:
    try:
        chosen = Role(role)
    except ValueError:
        chosen = Role.CLIENT
    if chosen not in TEAM_ROLES:
        raise TeamRefused("Choose a role: practitioner, staff, manager or owner.")
    if chosen in OWNER_CONTROLLED and principal.role != Role.OWNER:
        raise TeamRefused(f"Only an owner can make someone {_a(chosen)}.")
    return chosen


def _active_owners(session: Session, practice_id: int) -> int:
    return session.exec(select(func.count()).select_from(User).where(
        User.practice_id == practice_id, User.role == Role.OWNER, col(User.is_active).is_(True))).one()


def _keep_an_owner(session: Session, practice_id: int, user: User) -> None:
    session.flush()
    if _active_owners(session, practice_id) == 0:
        raise TeamRefused(f"{user.full_name} is the practice's last active owner. Make someone else an owner "
                          "first.")


def _ensure_profile(session: Session, user: User) -> None:
    """A practitioner always has a profile (timezone of the practice, default length)."""
    if session.get(PractitionerProfile, user.id) is None:
        practice = session.get(Practice, user.practice_id)
        session.add(PractitionerProfile(user_id=user.id or 0, practice_id=user.practice_id,
                                        timezone=practice.timezone if practice else "America/New_York",
                                        default_length_minutes=profiles.DEFAULT_LENGTH_MINUTES))


def _email_in_use(session: Session, principal: Principal, email: str) -> str:
    """Why `email` cannot be given to a new team member, or "" when it is free."""
    taken = session.exec(select(User).where(User.email == email)).first()
    if taken is not None and taken.practice_id != principal.practice_id:
        # Another practice's account (whose, and whether a client's, is that practice's business).
        return f"{email} cannot be used for a new account here. Use another email address."
    if taken is not None:
        if taken.role == Role.CLIENT:
            return (f"{email} is a client's portal account. A team member needs an email address of their own; "
                    "a client account is never turned into a team account.")
        return f"{email} is already on your team ({taken.full_name})."
    client = session.exec(select(Client).where(Client.practice_id == principal.practice_id,
                                               func.lower(Client.email) == email)).first()
    if client is not None:
        return (f"{email} is the email of your client {client.full_name}. A team member needs an email address "
                "of their own.")
    return ""


def invite_member(principal: Principal, email: str, full_name: str, role: str) -> Member:
    """Add a person to the team without a password and email them a single-use link to choose one.

    A practitioner also gets a profile. Raises `NotAllowed` without MANAGE_TEAM and `TeamRefused`
    for a bad name, email or role, or an email already used by any account (or a client here).
    """
    chosen = _checked_role(require(principal, Action.MANAGE_TEAM), role)
    name, address = " ".join(full_name.split()), auth.normalize_email(email)
    if not name or len(name) > 200:
        raise TeamRefused("Enter the person's full name (at most 200 characters).")
    if len(address) > 320 or not _EMAIL.match(address):
        raise TeamRefused("Enter a valid email address, like name@example.com.")
    try:
        with unit_of_work() as session:
            _checked_role(_lock_team(session, principal), chosen)
            problem = _email_in_use(session, principal, address)
            if problem:
                raise TeamRefused(problem)
            at = now()
            user = User(practice_id=principal.practice_id, email=address, full_name=name, role=chosen,
                        password_hash=None, created_at=at, updated_at=at)
            session.add(user)
            session.flush()
            if chosen == Role.PRACTITIONER:
                _ensure_profile(session, user)
            accounts.queue_team_invite(session, user, invited_by=principal.user_id)
            trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                         action="team.invited", subject_type="user", subject_id=user.id or "", role=chosen.value)
            session.flush()
            return _member(user, session.get(PractitionerProfile, user.id), None)
    except IntegrityError as exc:  # the same email added elsewhere at the same moment
        raise TeamRefused(f"{address} is already used by another account. Use another email address.") from exc


def resend_invite(principal: Principal, user_id: int) -> str:
    """Email a fresh invite link to a member who has not chosen a password; returns their email.
    Older links stop working. Raises `NotAllowed` or `TeamRefused`."""
    require(principal, Action.MANAGE_TEAM)
    with unit_of_work() as session:
        user = _target(session, _lock_team(session, principal), user_id)
        if _status(user) != MemberStatus.INVITED:
            raise TeamRefused(f"{user.full_name} has already set up their account or is deactivated.")
        accounts.queue_team_invite(session, user, invited_by=principal.user_id)
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="team.invite_resent", subject_type="user", subject_id=user_id)
        return user.email


def change_role(principal: Principal, user_id: int, role: str) -> Member:
    """Give a team member another role. Raises `NotAllowed` or `TeamRefused` (own role, an owner's
    or manager's role changed by a manager, the last active owner demoted)."""
    chosen = _checked_role(require(principal, Action.MANAGE_TEAM), role)
    with unit_of_work() as session:
        actor = _lock_team(session, principal)
        _checked_role(actor, chosen)
        user = _target(session, actor, user_id)
        before = Role(user.role)
        if before != chosen:
            user.role, user.updated_at = chosen, now()
            if before == Role.OWNER:
                _keep_an_owner(session, principal.practice_id, user)
            if chosen == Role.PRACTITIONER:
                _ensure_profile(session, user)
            trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                         action="team.role_changed", subject_type="user", subject_id=user_id,
                         before=before.value, after=chosen.value)
        session.flush()
        zoom = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == user_id)).first()
        return _member(user, session.get(PractitionerProfile, user_id), zoom)


def _deactivate(principal: Principal, user_id: int) -> tuple[str, int, bool]:
    """Sign-in ends now for the person: (name, sessions ended, has a Zoom connection)."""
    at = now()
    with unit_of_work() as session:
        user = _target(session, _lock_team(session, principal), user_id)
        if not user.is_active:
            raise TeamRefused(f"{user.full_name} is already deactivated.")
        user.is_active, user.updated_at = False, at
        if Role(user.role) == Role.OWNER:
            _keep_an_owner(session, principal.practice_id, user)
        ended = sessions.end_all(session, user_id, at=at)
        # Their emailed invite and reset links stop working too.
        session.execute(update(AccountToken)
                        .where(col(AccountToken.user_id) == user_id, col(AccountToken.used_at).is_(None),
                               col(AccountToken.expires_at) > at)
                        .values(expires_at=at))
        zoom = session.exec(select(ZoomConnection.id).where(ZoomConnection.practitioner_id == user_id)).first()
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="team.deactivated", subject_type="user", subject_id=user_id, sessions_ended=ended)
        return user.full_name, ended or 0, zoom is not None


async def deactivate_member(principal: Principal, user_id: int) -> Deactivated:
    """Stop the person signing in (every open session ends at once), disconnect their Zoom, and
    list their future appointments, which stay as they are until someone re-assigns them.

    Raises `NotAllowed` or `TeamRefused` (nothing changed). A Zoom problem after the person was
    deactivated is reported in `Deactivated.zoom_problem`, never raised.
    """
    require(principal, Action.MANAGE_TEAM)
    name, ended, has_zoom = await asyncio.to_thread(_deactivate, principal, user_id)
    disconnected, problem = False, ""
    if has_zoom:
        try:
            await connections.disconnect(principal, user_id)
            disconnected = True
        except ZoomNotConnected:
            pass  # disconnected meanwhile (by them or by Zoom): nothing left to do
        except (ZoomError, NotAllowed) as exc:
            log.warning("Zoom of deactivated user %s was not disconnected: %s", user_id, exc)
            problem = ("Their Zoom connection could not be disconnected. Open their Zoom connection and press "
                       "Disconnect again.")
    future, total = await asyncio.to_thread(future_visits, principal, user_id)
    return Deactivated(full_name=name, sessions_ended=ended, zoom_disconnected=disconnected, zoom_problem=problem,
                       future=future, future_total=total)


def reactivate_member(principal: Principal, user_id: int) -> Member:
    """Let a deactivated person sign in again (their Zoom stays disconnected until they connect it).
    Raises `NotAllowed` or `TeamRefused`."""
    require(principal, Action.MANAGE_TEAM)
    with unit_of_work() as session:
        user = _target(session, _lock_team(session, principal), user_id)
        if user.is_active:
            raise TeamRefused(f"{user.full_name} is already active.")
        user.is_active, user.updated_at = True, now()
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="team.reactivated", subject_type="user", subject_id=user_id)
        session.flush()
        return _member(user, session.get(PractitionerProfile, user_id), None)


def future_visits(principal: Principal, user_id: int) -> tuple[list[FutureVisit], int]:
    """The practitioner's booked appointments from now on (the first `FUTURE_VISITS_SHOWN`, in
    time order, times in the viewer's timezone) and how many there are in all. Raises `NotAllowed`.
    """
    require(principal, Action.MANAGE_TEAM)
    timezone = profiles.viewer_timezone(principal)
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None or user.practice_id != principal.practice_id:
            raise NotAllowed("not a member of this practice")
        booked = (Appointment.practice_id == principal.practice_id, Appointment.practitioner_id == user_id,
                  Appointment.start_at > now(), Appointment.status == AppointmentStatus.BOOKED)
        total = session.exec(select(func.count()).select_from(Appointment).where(*booked)).one()
        rows = session.exec(
            select(Appointment, Client.full_name).join(Client, col(Client.id) == Appointment.client_id)
            .where(*booked).order_by(Appointment.start_at, Appointment.id).limit(FUTURE_VISITS_SHOWN)).all()
        return [FutureVisit(id=a.id or 0, when=format_local(a.start_at, timezone), client_name=name,
                            telehealth=a.telehealth, link=f"/calendar?appointment={a.id}") for a, name in rows], total
