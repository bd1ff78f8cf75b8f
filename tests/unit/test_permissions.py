import pytest

from rxapp.models import Role
from rxapp.services.permissions import (
    Action,
    NotAllowed,
    Principal,
    can,
    home_path,
    navigation_for,
    page_action,
    require,
)


def _as(role: Role) -> Principal:
    return Principal(user_id=1, practice_id=1, role=role, email="x@y", full_name="X")


EXPECTED_NAVIGATION = {
    Role.OWNER: ["Calendar", "Meetings", "Today", "Clients", "Availability", "Dashboard", "Team",
                 "Practice settings", "Needs attention", "Audit", "My profile"],
    Role.MANAGER: ["Calendar", "Meetings", "Today", "Clients", "Availability", "Dashboard", "Team",
                   "Practice settings", "Needs attention", "Audit", "My profile"],
    Role.PRACTITIONER: ["Calendar", "Meetings", "Today", "Clients", "Availability", "My profile"],
    Role.STAFF: ["Calendar", "Clients", "Availability"],
    Role.CLIENT: ["My sessions"],
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_exactly_its_navigation(role: Role) -> None:
    assert [i.label for i in navigation_for(_as(role))] == EXPECTED_NAVIGATION[role]


# The whole matrix of DESIGN.md section 2, one row per action.
MATRIX = {
    Action.PRACTICE_SETTINGS: {Role.OWNER, Role.MANAGER},
    Action.VIEW_ATTENTION: {Role.OWNER, Role.MANAGER},
    Action.MANAGE_PRACTITIONER_ZOOM: {Role.OWNER, Role.MANAGER},
    Action.VIEW_PRACTICE_MEETINGS: {Role.OWNER, Role.MANAGER},
    Action.VIEW_AUDIT: {Role.OWNER, Role.MANAGER},
    Action.MANAGE_TEAM: {Role.OWNER, Role.MANAGER},
    Action.CONNECT_OWN_ZOOM: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER},
    Action.HOST_MEETINGS: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER},
    Action.VIEW_MEETINGS: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER},
    Action.OWN_PROFILE: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER},
    Action.VIEW_CALENDAR: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER, Role.STAFF},
    Action.MANAGE_APPOINTMENTS: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER, Role.STAFF},
    Action.VIEW_CLIENTS: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER, Role.STAFF},
    Action.SEND_PORTAL_INVITE: {Role.OWNER, Role.MANAGER, Role.STAFF},
    Action.MANAGE_CLIENTS: {Role.OWNER, Role.MANAGER, Role.STAFF},
    Action.VIEW_CAUGHT_MAIL: {Role.OWNER, Role.MANAGER, Role.PRACTITIONER, Role.STAFF},
    Action.USE_PORTAL: {Role.CLIENT},
    Action.MANAGE_SMS_CREDITS: {Role.OWNER},
}


def test_the_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(role: Role, action: Action) -> None:
    allowed = role in MATRIX[action]
    assert can(_as(role), action) is allowed
    if not allowed:
        with pytest.raises(NotAllowed):
            require(_as(role), action)


def test_nobody_signed_in_may_do_anything() -> None:
    assert not any(can(None, a) for a in Action)


def test_pages_map_to_their_action_with_or_without_trailing_slash() -> None:
    assert page_action("/settings/") is Action.PRACTICE_SETTINGS
    assert page_action("/meetings") is Action.VIEW_MEETINGS
    assert page_action("/dev/mail") is Action.VIEW_CAUGHT_MAIL
    assert page_action("/audit") is Action.VIEW_AUDIT
    assert page_action("/nowhere") is None


def test_clients_land_in_the_portal_and_staff_on_the_calendar() -> None:
    assert home_path(_as(Role.CLIENT)) == "/portal"
    assert home_path(_as(Role.STAFF)) == "/calendar"
