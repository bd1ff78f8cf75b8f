"""The caught-mail page: only the signed-in staff member's own practice, and only in development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Practice
from rxapp.services.notify import mailbox
from rxapp.services.notify.outbox import OutgoingEmail, build_message, queue_email
from rxapp.services.permissions import NotAllowed
from tests.integration.zoom_helpers import principal_of

ROOT = Path(__file__).resolve().parents[2]


def _send(practice_id: int, to: str, subject: str, directory: Path, key: str) -> None:
    """What the outbox and the catcher do: a queued notification, then a caught .eml file."""
    email = OutgoingEmail(to=to, subject=subject, text="Hello")
    with unit_of_work() as s:
        queue_email(s, practice_id=practice_id, key=key, email=email)
    (directory / f"{key}.eml").write_bytes(bytes(build_message(email)))


def test_staff_see_only_their_own_practices_caught_mail(database: str, tmp_path: Path) -> None:
    demo_data.load_demo_data()
    with unit_of_work() as s:
        other = Practice(name="Other Practice")
        s.add(other)
        s.flush()
        other_id = other.id or 0
    desk = principal_of("frontdesk@demo.clinic")
    _send(desk.practice_id, "alex@demo.client", "Your session", tmp_path, "1-ours")
    _send(other_id, "someone@other.example", "Their patient's session", tmp_path, "2-theirs")
    _send(other_id, "alex@demo.client", "Other practice news", tmp_path, "3-theirs-same-person")
    assert [m.subject for m in mailbox.caught_mail_of_practice(desk, tmp_path)] == ["Your session"]
    with pytest.raises(NotAllowed):
        mailbox.caught_mail_of_practice(principal_of("alex@demo.client"), tmp_path)


def _registered_routes(app_env: str) -> str:
    code = ("import rxapp.pages.dev_mail\n"
            "from reflex_base.registry import RegistrationContext\n"
            "print([kw.get('route') for _, kw in RegistrationContext.ensure_context().decorated_pages])")
    env = {**os.environ, "APP_ENV": app_env}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def test_the_caught_mail_page_exists_only_in_development() -> None:
    assert "/dev/mail" in _registered_routes("development")
    assert "/dev/mail" not in _registered_routes("production")
