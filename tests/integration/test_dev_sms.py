"""The caught-SMS page: only the signed-in staff member's own practice, and only in development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Practice
from rxapp.services.notify.sms.caught import caught_sms_of_practice
from rxapp.services.notify.sms.providers import CatcherProvider, OutgoingSms
from rxapp.services.permissions import NotAllowed
from rxapp.state.dev_sms import DevSmsState
from tests.integration.page_states import page_state, run
from tests.integration.zoom_helpers import principal_of

ROOT = Path(__file__).resolve().parents[2]


def _catch(folder: Path, practice_id: int, body: str) -> None:
    CatcherProvider(folder).send(OutgoingSms(to="+13125550101", body=body, practice_id=practice_id,
                                             notification_id=1, segments=1, encoding="GSM-7", credits=2))


def test_staff_see_only_their_own_practices_caught_sms(database: str, tmp_path: Path) -> None:
    demo_data.load_demo_data()
    with unit_of_work() as s:
        other = Practice(name="Other Practice")
        s.add(other)
        s.flush()
        other_id = other.id or 0
    desk = principal_of("frontdesk@demo.clinic")
    _catch(tmp_path, desk.practice_id, "Ours")
    _catch(tmp_path, other_id, "Theirs")
    (tmp_path / "broken.json").write_text("{not json")
    assert [m.body for m in caught_sms_of_practice(desk, tmp_path)] == ["Ours"]
    with pytest.raises(NotAllowed):
        caught_sms_of_practice(principal_of("alex@demo.client"), tmp_path)


def test_the_page_state_shows_segments_encoding_and_credits(database: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from rxapp.settings import get_settings

    demo_data.load_demo_data()
    monkeypatch.setenv("SMS_CATCHER_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        _catch(tmp_path, principal_of("frontdesk@demo.clinic").practice_id, "See you tomorrow")
        page = page_state(DevSmsState, "/dev/sms", "frontdesk@demo.clinic")
        run(page.load())
        [shown] = page.messages
        assert (shown["to"], shown["body"], shown["segments"], shown["encoding"], shown["credits"]) == (
            "+13125550101", "See you tomorrow", "1 segment", "GSM-7", "2 credits")
    finally:
        get_settings.cache_clear()


def _registered_routes(app_env: str) -> str:
    code = ("import rxapp.pages.dev_sms\n"
            "from reflex_base.registry import RegistrationContext\n"
            "print([kw.get('route') for _, kw in RegistrationContext.ensure_context().decorated_pages])")
    env = {**os.environ, "APP_ENV": app_env}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def test_the_caught_sms_page_exists_only_in_development() -> None:
    assert "/dev/sms" in _registered_routes("development")
    assert "/dev/sms" not in _registered_routes("production")


def test_a_reply_as_the_client_acts_only_on_the_practices_own_caught_texts(database: str, tmp_path: Path) -> None:
    from rxapp.models import Client
    from rxapp.services.notify.sms.caught import list_caught_sms, reply_as_client

    demo_data.load_demo_data()
    with unit_of_work() as s:
        other = Practice(name="Other Practice")
        s.add(other)
        s.flush()
        other_id = other.id or 0
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        alex_id, alex_phone = alex.id, alex.phone or ""
    desk = principal_of("frontdesk@demo.clinic")
    for practice_id in (desk.practice_id, other_id):
        CatcherProvider(tmp_path).send(OutgoingSms(to=alex_phone, body="Reply YES to confirm.",
                                                   practice_id=practice_id, notification_id=1, segments=1,
                                                   encoding="GSM-7", credits=1))
    caught = list_caught_sms(tmp_path)
    theirs = next(m for m in caught if m.practice_id == desk.practice_id)
    foreign = next(m.message_id for m in caught if m.practice_id == other_id)
    for wrong in (foreign, "not-an-id", ""):  # another practice's text, an unknown id, none: nothing happens
        with pytest.raises(NotAllowed):
            reply_as_client(desk, tmp_path, wrong, "STOP")
    with pytest.raises(ValueError, match="Type a reply first"):
        reply_as_client(desk, tmp_path, theirs.message_id, "   ")
    with pytest.raises(NotAllowed):  # a client may not use the testers' page
        reply_as_client(principal_of("alex@demo.client"), tmp_path, theirs.message_id, "STOP")
    with unit_of_work() as s:
        assert s.get(Client, alex_id).sms_opted_out is False  # type: ignore[union-attr]
    assert reply_as_client(desk, tmp_path, theirs.message_id, "STOP") is None
    with unit_of_work() as s:
        assert s.get(Client, alex_id).sms_opted_out is True  # type: ignore[union-attr]
