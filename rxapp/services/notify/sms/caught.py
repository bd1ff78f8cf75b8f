"""Reading the embedded SMS catcher's folder, for /dev/sms and the tests.

Each caught SMS carries the practice that sent it, so the page shows a staff member only
their own practice's messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rxapp.db import unit_of_work
from rxapp.services.notify.sms import inbound
from rxapp.services.permissions import Action, NotAllowed, Principal, require


@dataclass(frozen=True)
class CaughtSms:
    name: str
    practice_id: int
    to: str
    body: str
    segments: int
    encoding: str
    credits: int
    caught_at: str
    message_id: str


def _read(path: Path) -> CaughtSms | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return CaughtSms(name=path.name, practice_id=int(data["practice_id"]), to=str(data["to"]),
                         body=str(data["body"]), segments=int(data["segments"]), encoding=str(data["encoding"]),
                         credits=int(data["credits"]), caught_at=str(data.get("caught_at", "")),
                         message_id=str(data.get("message_id", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not one of ours, or removed while listing


def list_caught_sms(directory: Path, limit: int = 100) -> list[CaughtSms]:
    """The newest caught SMS first."""
    if not directory.exists():
        return []
    files = sorted(directory.glob("*.json"), key=lambda p: p.name, reverse=True)
    found = []
    for path in files:
        sms = _read(path)
        if sms is not None:
            found.append(sms)
        if len(found) >= limit:
            break
    return found


def caught_sms_of_practice(principal: Principal, directory: Path, limit: int = 100) -> list[CaughtSms]:
    """The newest caught SMS that the principal's practice sent. Raises `NotAllowed`."""
    require(principal, Action.VIEW_CAUGHT_MAIL)
    return [s for s in list_caught_sms(directory, limit=limit * 5) if s.practice_id == principal.practice_id][:limit]


REPLY_MAX = 320  # two GSM-7 segments: what a tester types stays a plausible text


def reply_as_client(principal: Principal, directory: Path, message_id: str, body: str) -> str | None:
    """A tester answers a caught SMS as its recipient would: `body` goes from the number it was sent
    to through the same inbound code as Twilio's webhook (STOP/START, YES...). Returns the app's
    answer (what Twilio would text back), or None. Only the principal's practice's messages.
    Raises `NotAllowed` (not one of the practice's caught messages) and `ValueError` (empty text)."""
    text = body.strip()[:REPLY_MAX]
    if not text:
        raise ValueError("Type a reply first.")
    sent = next((s for s in caught_sms_of_practice(principal, directory, limit=1000) if s.message_id == message_id),
                None) if message_id else None
    if sent is None:
        raise NotAllowed("not a caught message of this practice")
    with unit_of_work() as session:
        return inbound.handle_inbound(session, sent.to, text)
