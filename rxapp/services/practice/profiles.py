"""A practitioner's profile settings: timezone, default appointment length, how clients see them.

The practitioner edits their own; an owner or manager edits anyone's of the practice (Team page).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from rxapp.db import unit_of_work
from rxapp.models import Practice, PractitionerProfile, User
from rxapp.services.audit import trail
from rxapp.services.clients.directory import own_client_record
from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.services.timezones import is_valid

DEFAULT_LENGTH_MINUTES = 50
MIN_LENGTH_MINUTES, MAX_LENGTH_MINUTES = 15, 240
NAME_MAX = CREDENTIALS_MAX = 120


class InvalidTimezone(ValueError):
    """Not an IANA timezone name."""


def viewer_timezone(principal: Principal) -> str:
    """The timezone times are shown in: the practitioner's, the client's, or the practice's."""
    with unit_of_work() as session:
        profile = session.get(PractitionerProfile, principal.user_id)
        if profile is not None:
            return profile.timezone
        client = own_client_record(session, principal)
        if client is not None:
            return client.timezone
        practice = session.get(Practice, principal.practice_id)
        return practice.timezone if practice else "UTC"


def practitioner_timezone(practitioner_id: int) -> str | None:
    with unit_of_work() as session:
        profile = session.get(PractitionerProfile, practitioner_id)
        return profile.timezone if profile else None


def set_own_timezone(principal: Principal, timezone: str) -> None:
    """Set the signed-in practitioner's default timezone (raises `InvalidTimezone`, `LookupError`)."""
    if timezone is not None and not is_valid(timezone):
        raise InvalidTimezone(f"“{timezone}” is not a timezone. Choose one from the list.")
    with unit_of_work() as session:
        profile = session.get(PractitionerProfile, principal.user_id)
        if profile is None:
            raise LookupError("You have no practitioner profile")
        if profile.timezone != timezone:
            trail.record(session, practice_id=profile.practice_id, actor_user_id=principal.user_id,
                         action="profile.timezone_changed", subject_type="user", subject_id=principal.user_id,
                         timezone=timezone)
        profile.timezone = timezone


def default_length(practitioner_id: int) -> int:
    """The length in minutes a new appointment with this practitioner starts with (50 without a profile)."""
    with unit_of_work() as session:
        profile = session.get(PractitionerProfile, practitioner_id)
        return profile.default_length_minutes if profile else DEFAULT_LENGTH_MINUTES


def client_facing_name(full_name: str, profile: PractitionerProfile | None) -> str:
    """How clients see a practitioner: the display name (else the full name) and the credentials,
    e.g. "Dr. Dana Lee, PhD, Licensed Psychologist"."""
    name = (profile.display_name if profile else "") or full_name
    return f"{name}, {profile.credentials}" if profile and profile.credentials else name


@dataclass(frozen=True)
class ProfileDetails:
    """What a practitioner's profile says, for the forms that edit it."""

    practitioner_id: int
    full_name: str
    display_name: str
    credentials: str
    timezone: str
    default_length_minutes: int


class ProfileInvalid(ValueError):
    """Some fields are not acceptable; `errors` maps each field to a message for the user."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _editable(session: Session, principal: Principal, practitioner_id: int) -> tuple[User, PractitionerProfile]:
    """The practitioner's user and profile when `principal` may edit them; `NotAllowed` otherwise."""
    own = practitioner_id == principal.user_id and can(principal, Action.OWN_PROFILE)
    if not own and not can(principal, Action.MANAGE_TEAM):
        raise NotAllowed("edit another practitioner's profile")
    user, profile = session.get(User, practitioner_id), session.get(PractitionerProfile, practitioner_id)
    if user is None or profile is None or user.practice_id != principal.practice_id:
        raise NotAllowed("not a practitioner of this practice")
    return user, profile


def _details(user: User, profile: PractitionerProfile) -> ProfileDetails:
    return ProfileDetails(practitioner_id=profile.user_id, full_name=user.full_name,
                          display_name=profile.display_name, credentials=profile.credentials,
                          timezone=profile.timezone, default_length_minutes=profile.default_length_minutes)


def profile_details(principal: Principal, practitioner_id: int) -> ProfileDetails:
    """The profile of a practitioner `principal` may edit. Raises `NotAllowed`."""
    with unit_of_work() as session:
        return _details(*_editable(session, principal, practitioner_id))


def _checked(display_name: str, credentials: str, timezone: str | None,
             length: str | int) -> tuple[str, str, int]:
    errors: dict[str, str] = {}
    display_name, credentials = " ".join(display_name.split()), " ".join(credentials.split())
    if len(display_name) > NAME_MAX:
        errors["display_name"] = f"The display name can be at most {NAME_MAX} characters long."
    if len(credentials) > CREDENTIALS_MAX:
        errors["credentials"] = f"Credentials can be at most {CREDENTIALS_MAX} characters long."
    if timezone is not None and not is_valid(timezone):
        errors["timezone"] = f"“{timezone}” is not a timezone. Choose one from the list."
    try:
        minutes = int(str(length).strip())
    except ValueError:
        minutes = 0
    if not MIN_LENGTH_MINUTES <= minutes <= MAX_LENGTH_MINUTES:
        errors["default_length_minutes"] = (f"The default appointment length must be a whole number of minutes "
                                            f"from {MIN_LENGTH_MINUTES} to {MAX_LENGTH_MINUTES}.")
    if errors:
        raise ProfileInvalid(errors)
    return display_name, credentials, minutes


def update_profile(principal: Principal, practitioner_id: int, *, display_name: str, credentials: str,
                   default_length_minutes: str | int, timezone: str | None = None) -> ProfileDetails:
    """Save a practitioner's profile fields (their own, or anyone's for an owner or manager);
    `timezone` None keeps the current one.

    Returns the saved profile. Raises `ProfileInvalid` (nothing saved) or `NotAllowed`.
    """
    name, creds, minutes = _checked(display_name, credentials, timezone, default_length_minutes)
    with unit_of_work() as session:
        user, profile = _editable(session, principal, practitioner_id)
        wanted = {"display_name": name, "credentials": creds, "default_length_minutes": minutes,
                  "timezone": profile.timezone if timezone is None else timezone}
        changed = {field: value for field, value in wanted.items() if getattr(profile, field) != value}
        for field, value in changed.items():
            setattr(profile, field, value)
        if changed:
            trail.record(session, practice_id=profile.practice_id, actor_user_id=principal.user_id,
                         action="profile.updated", subject_type="user", subject_id=practitioner_id, **changed)
        return _details(user, profile)
