"""Signed links in reminders: Confirm (an appointment) and Stop email reminders (a client).

A link carries `<purpose>:<id>:<client id>` encrypted and authenticated with the app's keys
(Fernet: rotation-safe, tamper-evident), so the routes need no lookup table and a link made
for one appointment or client cannot be turned into another's.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken

from rxapp.services import crypto
from rxapp.settings import get_settings

CONFIRM, STOP_EMAIL = "confirm", "stop-email"
# A link keeps working this long (a confirmation is only useful before the visit anyway).
MAX_AGE_SECONDS = 90 * 24 * 3600


def make_token(purpose: str, subject_id: int, client_id: int) -> str:
    return crypto.encrypt(f"{purpose}:{subject_id}:{client_id}")


def read_token(purpose: str, token: str) -> tuple[int, int] | None:
    """(subject id, client id) of a valid, unexpired token for `purpose`; None otherwise."""
    try:
        plain = crypto.decrypt(token, ttl=MAX_AGE_SECONDS)
    except (InvalidToken, ValueError, TypeError):
        return None
    parts = plain.split(":")
    if len(parts) != 3 or parts[0] != purpose or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2])


def url(purpose: str, subject_id: int, client_id: int) -> str:
    return f"{get_settings().app_url.rstrip('/')}/r/{purpose}/{make_token(purpose, subject_id, client_id)}"
