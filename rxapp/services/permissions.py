"""Who may do what: the one permission check used by pages, state handlers and HTTP routes.

DESIGN.md section 2 is the source: owners and managers run the practice, practitioners their
own work, staff the front desk, clients only the portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rxapp.models.types import Role


class Action(StrEnum):
    VIEW_CALENDAR = "view_calendar"
    MANAGE_APPOINTMENTS = "manage_appointments"
    VIEW_MEETINGS = "view_meetings"
    VIEW_PRACTICE_MEETINGS = "view_practice_meetings"
    HOST_MEETINGS = "host_meetings"
    VIEW_CLIENTS = "view_clients"
    MANAGE_CLIENTS = "manage_clients"
    SEND_PORTAL_INVITE = "send_portal_invite"
    PRACTICE_SETTINGS = "practice_settings"
    OWN_PROFILE = "own_profile"
    CONNECT_OWN_ZOOM = "connect_own_zoom"
    MANAGE_PRACTITIONER_ZOOM = "manage_practitioner_zoom"
    USE_PORTAL = "use_portal"
    VIEW_CAUGHT_MAIL = "view_caught_mail"
    VIEW_ATTENTION = "view_attention"
    VIEW_AUDIT = "view_audit"
    MANAGE_TEAM = "manage_team"
    MANAGE_SMS_CREDITS = "manage_sms_credits"  # add credits, set the low-balance threshold: the owner pays


# Client records (add, edit, archive, invite) are the front desk's; a practitioner only views the
# clients they work with (services.clients.directory.visible_clients).
_CLIENT_RECORDS = {Action.MANAGE_CLIENTS, Action.SEND_PORTAL_INVITE}
_PRACTITIONER = {Action.VIEW_CALENDAR, Action.MANAGE_APPOINTMENTS, Action.VIEW_CLIENTS, Action.VIEW_CAUGHT_MAIL,
                 Action.VIEW_MEETINGS, Action.HOST_MEETINGS, Action.OWN_PROFILE, Action.CONNECT_OWN_ZOOM}
_STAFF = {Action.VIEW_CALENDAR, Action.MANAGE_APPOINTMENTS, Action.VIEW_CLIENTS, Action.VIEW_CAUGHT_MAIL,
          *_CLIENT_RECORDS}
_MANAGER = _PRACTITIONER | _CLIENT_RECORDS | {Action.VIEW_PRACTICE_MEETINGS, Action.PRACTICE_SETTINGS,
                            Action.MANAGE_PRACTITIONER_ZOOM, Action.VIEW_ATTENTION,
                            Action.VIEW_AUDIT, Action.MANAGE_TEAM}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(_MANAGER | {Action.MANAGE_SMS_CREDITS}),
    Role.MANAGER: frozenset(_MANAGER),
    Role.PRACTITIONER: frozenset(_PRACTITIONER),
    Role.STAFF: frozenset(_STAFF),
    Role.CLIENT: frozenset({Action.USE_PORTAL}),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as every check sees it, re-derived from the session on each request."""

    user_id: int
    practice_id: int
    role: Role
    email: str
    full_name: str


class NotAllowed(Exception):
    """The signed-in user may not do this."""


def can(principal: Principal | None, action: Action) -> bool:
    return principal is not None and action in ROLE_ACTIONS[Role(principal.role)]


def require(principal: Principal | None, action: Action) -> Principal:
    """Return the principal when allowed; raise `NotAllowed` otherwise."""
    if principal is None or not can(principal, action):
        raise NotAllowed(action.value)
    return principal


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    action: Action


# The pages of the app shell, in navigation order, and the action each one needs.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("Calendar", "/calendar", Action.VIEW_CALENDAR),
    NavItem("Meetings", "/meetings", Action.VIEW_MEETINGS),
    # The practitioner's day of telehealth sessions, live (pages/meetings.py today_page).
    NavItem("Today", "/today", Action.HOST_MEETINGS),
    NavItem("Clients", "/clients", Action.VIEW_CLIENTS),
    # Practitioners edit their own hours; owner, manager and front desk anyone's (services.scheduling
    # .availability_editor re-checks per practitioner).
    NavItem("Availability", "/availability", Action.MANAGE_APPOINTMENTS),
    # The practice's figures for a period (services.practice.dashboard): owners and managers, as the audit.
    NavItem("Dashboard", "/dashboard", Action.VIEW_AUDIT),
    NavItem("Team", "/team", Action.MANAGE_TEAM),
    NavItem("Practice settings", "/settings", Action.PRACTICE_SETTINGS),
    NavItem("Needs attention", "/attention", Action.VIEW_ATTENTION),
    NavItem("Audit", "/audit", Action.VIEW_AUDIT),
    NavItem("My profile", "/profile", Action.OWN_PROFILE),
    NavItem("My sessions", "/portal", Action.USE_PORTAL),
)


def navigation_for(principal: Principal | None) -> list[NavItem]:
    return [item for item in NAVIGATION if can(principal, item.action)]


def home_path(principal: Principal) -> str:
    """Where a user lands after signing in: the first page of their navigation."""
    items = navigation_for(principal)
    return items[0].path if items else "/login"


# Pages outside the navigation that still need a permission.
_EXTRA_PAGES: dict[str, Action] = {"/dev/mail": Action.VIEW_CAUGHT_MAIL, "/dev/sms": Action.VIEW_CAUGHT_MAIL,
                                   "/welcome": Action.PRACTICE_SETTINGS,
                                   # Everyone waiting for a sooner time (linked from the Clients page).
                                   "/waitlist": Action.MANAGE_CLIENTS}


def page_action(path: str) -> Action | None:
    """The action a page needs, or None for a path that is not an app page."""
    path = path.rstrip("/") or "/"
    for item in NAVIGATION:
        if path == item.path or path.startswith(item.path + "/"):
            return item.action
    return _EXTRA_PAGES.get(path)
