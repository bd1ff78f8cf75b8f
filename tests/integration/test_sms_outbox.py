"""The outbox's SMS channel with the embedded catcher: queued, charged, caught, skipped with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Client, CreditKind, Notification, NotificationStatus, SmsCreditEntry
from rxapp.services.notify import outbox
from rxapp.services.notify.sms import credits
from rxapp.services.notify.sms.providers import CatcherProvider
from rxapp.settings import get_settings
from tests.conftest import reset_app_caches


@pytest.fixture
def catcher(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "sms"
    monkeypatch.setenv("SMS_CATCHER_DIR", str(folder))
    get_settings.cache_clear()
    demo_data.load_demo_data()
    yield folder
    reset_app_caches()


def _alex() -> Client:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.first_name == "Alex")).one()


def _queue(key: str, body: str = "Reminder: your session is tomorrow at 10:00.", *, telehealth: bool = False,
           to: str | None = None, client_id: int | None = None) -> str:
    alex = _alex()
    with unit_of_work() as s:
        return outbox.queue_sms(s, practice_id=alex.practice_id, key=key, to=alex.phone if to is None else to,
                                       body=body, telehealth=telehealth,
                                       client_id=alex.id if client_id is None else client_id)


def _caught(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def _row(key: str) -> Notification:
    with unit_of_work() as s:
        return s.exec(select(Notification).where(Notification.idempotency_key == key)).one()


def _balance() -> int:
    with unit_of_work() as s:
        return credits.balance(s, _alex().practice_id)


def test_an_sms_is_caught_once_with_its_segments_and_charged_when_sent(catcher: Path) -> None:
    assert _queue("sms-1") == ""
    assert _queue("sms-1") == ""  # same key: nothing more
    assert _balance() == 100
    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0
    caught = _caught(catcher)
    assert len(caught) == 1
    assert caught[0]["to"] == "+13125550101" and caught[0]["segments"] == 1 and caught[0]["encoding"] == "GSM-7"
    assert caught[0]["credits"] == 1
    row = _row("sms-1")
    assert row.status == NotificationStatus.SENT and row.provider_message_id == caught[0]["message_id"]
    assert _balance() == 99


def test_a_telehealth_sms_with_emoji_costs_two_credits_per_ucs2_segment(catcher: Path) -> None:
    body = "Your video session starts in 20 minutes 🙂 " + "x" * 40  # 83 UTF-16 units: 2 UCS-2 parts
    _queue("sms-2", body, telehealth=True)
    outbox.deliver_due()
    row = _row("sms-2")
    assert (row.segments, row.sms_encoding, row.credits) == (2, "UCS-2", 4)
    assert _balance() == 96
    assert _caught(catcher)[0]["credits"] == 4


def test_an_opted_out_client_or_a_missing_number_is_skipped_and_recorded(catcher: Path) -> None:
    alex = _alex()
    with unit_of_work() as s:
        s.get(Client, alex.id).sms_opted_out = True
    assert _queue("sms-3") == outbox.OPTED_OUT
    with unit_of_work() as s:
        s.get(Client, alex.id).sms_opted_out = False
    assert _queue("sms-4", to="") == outbox.NO_MOBILE
    assert _queue("sms-5", to="not a number") == outbox.NO_MOBILE
    assert outbox.deliver_due() == 0
    assert _row("sms-3").status == NotificationStatus.SKIPPED and _row("sms-3").last_error == outbox.OPTED_OUT
    assert _row("sms-4").last_error == outbox.NO_MOBILE
    assert _caught(catcher) == [] and _balance() == 100


def test_opting_out_after_queuing_still_skips_the_sms(catcher: Path) -> None:
    _queue("sms-6")
    with unit_of_work() as s:
        s.get(Client, _alex().id).sms_opted_out = True
    outbox.deliver_due()
    assert _row("sms-6").status == NotificationStatus.SKIPPED
    assert _caught(catcher) == [] and _balance() == 100


def test_too_few_credits_fail_the_sms_the_email_still_goes_and_the_owner_is_emailed_once(catcher: Path) -> None:
    alex = _alex()
    with unit_of_work() as s:
        credits.grant(s, practice_id=alex.practice_id, amount=-99, note="used up", user_id=None)
    assert _balance() == 1
    _queue("sms-7", telehealth=True)  # costs 2
    with unit_of_work() as s:
        outbox.queue_email(s, practice_id=alex.practice_id, key="mail-7", email=outbox.OutgoingEmail(
            to="alex@demo.client", subject="Your session", text="See you"))
    sent: list[outbox.OutgoingEmail] = []
    outbox.deliver_due(sent.append)
    outbox.deliver_due(sent.append)  # the warning queued while sending
    row = _row("sms-7")
    assert row.status == NotificationStatus.FAILED and row.last_error == "not enough SMS credits"
    assert _caught(catcher) == [] and _balance() == 1
    assert [m.subject for m in sent if m.to == "alex@demo.client"] == ["Your session"]
    warnings = [m for m in sent if m.subject.startswith("SMS credits are low")]
    assert [m.to for m in warnings] == ["owner@demo.clinic"]
    _queue("sms-8", telehealth=True)
    sent.clear()
    outbox.deliver_due(sent.append)
    outbox.deliver_due(sent.append)
    assert not [m for m in sent if m.subject.startswith("SMS credits are low")]  # once
    assert outbox.deliver_due(sent.append) == 0  # a failed-for-credits SMS is not retried


def test_a_charge_is_made_once_per_message(catcher: Path) -> None:
    _queue("sms-9")
    outbox.deliver_due()
    row = _row("sms-9")
    with unit_of_work() as s:
        credits.lock_practice(s, row.practice_id)
        assert credits.charge(s, practice_id=row.practice_id, notification_id=row.id, credits=row.credits)
        charges = s.exec(select(SmsCreditEntry).where(SmsCreditEntry.kind == CreditKind.CHARGE)).all()
    assert len(charges) == 1 and _balance() == 99


def test_the_catcher_is_the_default_provider(catcher: Path) -> None:
    from rxapp.services.notify.sms.providers import get_provider

    assert isinstance(get_provider(), CatcherProvider)


def test_two_workers_sending_at_once_never_overdraw_the_credits(catcher: Path) -> None:
    import threading

    alex = _alex()
    with unit_of_work() as s:
        credits.grant(s, practice_id=alex.practice_id, amount=-90, note="leave 10", user_id=None)
    for i in range(30):
        _queue(f"race-{i}")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            while outbox.deliver_due(limit=3) or _pending():
                pass
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert _balance() == 0
    with unit_of_work() as s:
        rows = s.exec(select(Notification).where(Notification.idempotency_key.startswith("race-"))).all()
    assert sum(r.status == NotificationStatus.SENT for r in rows) == 10
    assert sum(r.last_error == credits.NOT_ENOUGH for r in rows) == 20
    assert len(_caught(catcher)) == 10


def _pending() -> bool:
    with unit_of_work() as s:
        return s.exec(select(Notification.id).where(
            Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]))).first() is not None


def test_charges_racing_on_one_balance_take_exactly_what_is_there(catcher: Path) -> None:
    import threading

    alex = _alex()
    with unit_of_work() as s:
        credits.grant(s, practice_id=alex.practice_id, amount=-95, note="leave 5", user_id=None)
    for i in range(12):
        _queue(f"direct-{i}")
    ids = [_row(f"direct-{i}").id for i in range(12)]
    barrier = threading.Barrier(len(ids))
    results: list[bool] = []

    def charge(notification_id: int) -> None:
        barrier.wait()
        with unit_of_work() as s:
            credits.lock_practice(s, alex.practice_id)
            results.append(credits.charge(s, practice_id=alex.practice_id, notification_id=notification_id,
                                          credits=1))

    threads = [threading.Thread(target=charge, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True] * 5
    assert _balance() == 0


def test_every_demo_clients_phone_number_is_valid(catcher: Path) -> None:
    from rxapp.services.notify.sms.phones import parse_phone

    with unit_of_work() as s:
        phones = [c.phone for c in s.exec(select(Client)).all()]
    assert phones and all(parse_phone(p or "") == (p, "") for p in phones)


def test_a_sealed_sms_is_stored_encrypted_and_the_client_gets_it_in_clear(catcher: Path) -> None:
    body = "Your session starts in 20 minutes. Join: https://zoom.example/j/123 Passcode 4821"
    alex = _alex()
    with unit_of_work() as s:
        assert outbox.queue_sms(s, practice_id=alex.practice_id, key="sealed-sms", to=alex.phone or "",
                                       body=body, telehealth=True, client_id=alex.id, sealed=True) == ""
    row = _row("sealed-sms")
    assert row.sealed and "zoom.example" not in row.body_text and row.segments == 1
    assert outbox.deliver_due() == 1
    assert [c["body"] for c in _caught(catcher)] == [body]
