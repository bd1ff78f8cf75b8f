"""Reading the development mail catcher's folder, for the caught-mail page and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path


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
