"""Reading the development mail catcher's folder, for the caught-mail page and the tests.

The catcher receives every practice's mail; the page shows a staff member only the messages
their own practice's outbox sent (matched by recipient, subject and text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

from sqlmodel import col, func, select

from rxapp.db import unit_of_work
from rxapp.models import Notification
from rxapp.services.notify.outbox import opened
from rxapp.services.permissions import Action, Principal, require


@dataclass(frozen=True)
class CaughtMail:
    name: str
    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[str, ...]


def _read(path: Path) -> CaughtMail:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    attachments = tuple(part.get_filename() or "" for part in msg.iter_attachments())
    return CaughtMail(name=path.name, to=str(msg.get("To", "")), subject=str(msg.get("Subject", "")),
                      text=text_part.get_content() if text_part else "",
                      html=html_part.get_content() if html_part else "", attachments=attachments)


def list_caught_mail(directory: Path, limit: int = 100) -> list[CaughtMail]:
    """The newest caught messages first."""
    if not directory.exists():
        return []
    files = sorted((p for p in directory.glob("*.eml")), key=lambda p: p.name, reverse=True)[:limit]
    return [_read(p) for p in files]


def _address(header: str) -> str:
    found = getaddresses([header])
    return (found[0][1] if found else header).strip().lower()


def _text(body: str) -> str:
    """A text body as sent and as caught alike (SMTP turns line ends into CRLF and quotes "From " at the
    start of a line as ">From ")."""
    return re.sub(r"(?m)^>(From )", r"\1", body.replace("\r\n", "\n")).strip()


def caught_mail_of_practice(principal: Principal, directory: Path, limit: int = 100) -> list[CaughtMail]:
    """The newest caught messages that the principal's practice sent: recipient, subject and text are
    one of its messages' (another practice may write to the same client with the same subject; its
    text names that practice). Raises `NotAllowed`."""
    require(principal, Action.VIEW_CAUGHT_MAIL)
    found = list_caught_mail(directory, limit=limit * 5)
    recipients = {_address(m.to) for m in found}
    with unit_of_work() as session:
        sent = {(row.to_address.strip().lower(), row.subject, _text(opened(row)[0])) for row in session.exec(
            select(Notification).where(
                Notification.practice_id == principal.practice_id,
                func.lower(col(Notification.to_address)).in_(recipients))).all()}
    return [m for m in found if (_address(m.to), m.subject, _text(m.text)) in sent][:limit]
