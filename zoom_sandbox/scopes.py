"""Which OAuth scopes the sandbox app may hold and which each operation needs.

Granular names (`meeting:write:meeting`) and classic ones (`meeting:write`) are
both accepted, as Zoom accepts both depending on the age of the app.
"""

from __future__ import annotations

from zoom_sandbox.config import DEFAULT_SCOPES

CLASSIC: dict[str, frozenset[str]] = {
    "user:read": frozenset({"user:read:user", "user:read:settings"}),
    "meeting:read": frozenset({"meeting:read:meeting", "meeting:read:list_meetings"}),
    "meeting:write": frozenset({
        "meeting:write:meeting", "meeting:update:meeting", "meeting:delete:meeting",
        "meeting:update:status", "meeting:read:meeting", "meeting:read:list_meetings",
    }),
}
ALLOWED: frozenset[str] = frozenset(DEFAULT_SCOPES) | frozenset(CLASSIC)

# operation -> the granular scope it needs (the classic equivalents come from CLASSIC)
NEEDED: dict[str, str] = {
    "users.me": "user:read:user",
    "users.get": "user:read:user",
    "users.settings": "user:read:settings",
    "meetings.create": "meeting:write:meeting",
    "meetings.get": "meeting:read:meeting",
    "meetings.update": "meeting:update:meeting",
    "meetings.delete": "meeting:delete:meeting",
    "meetings.status": "meeting:update:status",
    "meetings.list": "meeting:read:list_meetings",
}


def grantable(requested: str, default: tuple[str, ...]) -> list[str]:
    """Requested scopes (space separated) that the app may have; default if none asked."""
    names = [s for s in requested.replace(",", " ").split() if s]
    if not names:
        return list(default)
    return [s for s in dict.fromkeys(names) if s in ALLOWED]


def effective(granted: list[str]) -> set[str]:
    out: set[str] = set()
    for scope in granted:
        out.add(scope)
        out |= CLASSIC.get(scope, frozenset())
    return out


def missing_message(operation: str) -> str | None:
    needed = NEEDED.get(operation)
    if needed is None:
        return None
    return f"Invalid access token, does not contain scopes:[{needed}, {needed}:admin]."
