"""A practitioner's own profile settings."""

from __future__ import annotations

from rxapp.db import unit_of_work
from rxapp.models import Practice, PractitionerProfile
from rxapp.services import audit
from rxapp.services.clients import own_client_record
from rxapp.services.permissions import Principal
from rxapp.services.timezones import is_valid


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
    if not is_valid(timezone):
        raise InvalidTimezone(f"“{timezone}” is not a timezone. Choose one from the list.")
    with unit_of_work() as session:
        profile = session.get(PractitionerProfile, principal.user_id)
        if profile is None:
            raise LookupError("You have no practitioner profile")
        if profile.timezone != timezone:
            audit.record(session, practice_id=profile.practice_id, actor_user_id=principal.user_id,
                         action="profile.timezone_changed", subject_type="user", subject_id=principal.user_id,
                         timezone=timezone)
        profile.timezone = timezone
