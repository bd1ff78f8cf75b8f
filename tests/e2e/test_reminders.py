"""Issue 14 item 8 in the browser: the owner sets reminders to 2 days and 20 minutes with the Zoom
link, books a telehealth appointment for Alex with Dr. Patel (Zoom connected through the sandbox),
and, with the reminder job run as of later times ("the clock advanced"), Alex's email and SMS
arrive with the right content; moving the appointment moves them.

Advancing the clock: the app runs in a subprocess on the real clock, so the test runs the reminder
job itself (`reminders.run_due(at=..., only=...)`, the same claim-and-queue code the app's job
runs, against the same database) as of the reminder's due time, for its own appointment only; the
app's outbox then sends the queued email and SMS to the stack's catchers as it always does.
Everything it leaves is removed: the booking, Alex's caught mail and SMS, the settings, Dr. Patel's
Zoom connection."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import PRACTICE_NAME  # the main stack holds other practices too
from rxapp.models import Appointment, Client, Meeting, Notification, Practice, SyncState, User, ZoomConnection
from rxapp.services import crypto
from rxapp.services.notify import reminders
from rxapp.services.timezones import format_local
from tests.e2e.conftest import in_thread
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack

pytestmark = pytest.mark.usefixtures("forget_bookings")

ALEX = "alex@demo.client"


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.fixture
def patel_on_zoom(stack: Stack, zoom_ready: None) -> Iterator[int]:
    """Dr. Patel connected to Zoom for this test, disconnected again afterwards; yields his id."""
    from rxapp.services.telehealth.zoom import connections
    from tests.integration.zoom_helpers import connect
    from tests.integration.zoom_helpers import sign_in as service_sign_in

    patel = service_sign_in("dr.patel@demo.clinic")
    with unit_of_work() as s:
        connected = s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == patel.principal.user_id))\
            .first() is not None
    if not connected:
        in_thread(connect, stack.sandbox_url, patel, "patel@zoom.demo")
    yield patel.principal.user_id
    if not connected:
        in_thread(lambda: asyncio.run(connections.disconnect(patel.principal, patel.principal.user_id)))


@pytest.fixture
def leave_no_trace(stack: Stack) -> Iterator[None]:
    """The practice's reminder settings come back; Alex's mail and SMS caught during the test go
    (other journeys in the shared stack count Alex's mail)."""
    sms_dir = Path(stack.env["SMS_CATCHER_DIR"])
    mail_before = set(stack.mail_dir.glob("*.eml"))
    sms_before = set(sms_dir.glob("*.json"))
    with unit_of_work() as s:
        p = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        saved = (p.standard_reminder_days, p.telehealth_reminder_minutes, p.telehealth_reminder_includes_link)
    yield
    with unit_of_work() as s:
        p = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        p.standard_reminder_days, p.telehealth_reminder_minutes, p.telehealth_reminder_includes_link = saved
    time.sleep(1.5)  # the outbox polls every half second: let anything queued land, then remove it
    for path in set(stack.mail_dir.glob("*.eml")) - mail_before:
        if ALEX in path.read_text(errors="replace"):
            path.unlink()
    for path in set(sms_dir.glob("*.json")) - sms_before:
        path.unlink()


def _alex() -> Client:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == ALEX)).one()


def _sms_to(stack: Stack, number: str, containing: str, timeout: float = 30.0) -> list[str]:
    folder = Path(stack.env["SMS_CATCHER_DIR"])
    deadline = time.monotonic() + timeout
    while True:
        caught = [json.loads(p.read_text()) for p in folder.glob("*.json")]
        found = [c["body"] for c in caught if c["to"] == number and containing in c["body"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _mail(stack: Stack, subject: str, containing: str, timeout: float = 30.0) -> list:
    """Alex's caught mail with `subject` and `containing` in its text, waiting for the outbox."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in stack.mail_to(ALEX, timeout=0) if subject in m.subject and containing in m.text]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _run_job(appointment_id: int, at: datetime) -> int:
    return reminders.run_due(at=at, only=[appointment_id])


def test_reminders_reach_alex_by_email_and_sms_and_follow_a_move(
        browser: Browser, stack: Stack, patel_on_zoom: int, leave_no_trace: None) -> None:
    owner = sign_in_as(browser.new_context().new_page(), stack, "owner")
    # Practice settings: 2 days, 20 minutes, the Zoom link in the reminder.
    owner.goto(f"{stack.url}/settings")
    owner.get_by_label("Standard reminder (days before)").select_option("2")
    owner.get_by_label("Telehealth reminder (minutes before)").select_option("20")
    link = owner.get_by_role("checkbox", name=re.compile("Telehealth reminders carry the Zoom link"))
    if link.get_attribute("aria-checked") != "true" and link.get_attribute("data-state") != "checked":
        link.click()
    owner.get_by_role("button", name="Save", exact=True).click()
    expect(owner.locator("#settings-saved")).to_contain_text("Saved")
    with unit_of_work() as s:
        p = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        assert (p.standard_reminder_days, p.telehealth_reminder_minutes, p.telehealth_reminder_includes_link) == \
            (2, 20, True)

    # A telehealth appointment for Alex with Dr. Patel, from an empty slot of the calendar.
    owner.goto(f"{stack.url}/calendar?date=2027-09-06&view=week&p={patel_on_zoom}")
    expect(owner.locator(".calendar-col").first).to_be_visible(timeout=20_000)
    owner.get_by_role("button", name=re.compile(r"^Wednesday 8 September 10:00, Dr\. Priya Patel, free")).click()
    dialog = owner.get_by_role("dialog")
    dialog.get_by_label("Client", exact=True).fill("riv")
    dialog.get_by_role("button", name=re.compile(r"^Alex Rivera")).click()
    dialog.get_by_role("radio", name="Telehealth").click()
    dialog.get_by_role("button", name="Book appointment").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    alex = _alex()
    with unit_of_work() as s:
        appointment = s.exec(select(Appointment).where(Appointment.client_id == alex.id,
                                                       Appointment.practitioner_id == patel_on_zoom)
                             .order_by(Appointment.id.desc())).first()  # type: ignore[union-attr]
        assert appointment is not None and appointment.telehealth
    appointment_id, start = appointment.id or 0, appointment.start_at

    def synced() -> bool:
        with unit_of_work() as s:
            m = s.get(Meeting, appointment_id)
            return m is not None and m.sync_state == SyncState.SYNCED and bool(m.join_url_encrypted)

    _wait(synced, "the Zoom meeting at the sandbox")

    # Two days before, at the same local time: Alex's reminder, in Alex's own timezone.
    assert _run_job(appointment_id, start - timedelta(days=2) - timedelta(minutes=1)) == 0
    assert _run_job(appointment_id, start - timedelta(days=2) + timedelta(seconds=5)) == 1
    when = format_local(start, alex.timezone)
    mail = _mail(stack, "Reminder: appointment on", when)
    assert len(mail) == 1, [m.subject for m in stack.mail_to(ALEX)]
    assert "Dr. Priya Patel" in mail[0].text and "Telehealth" in mail[0].text
    assert "/start" not in mail[0].text and "Stop email reminders" in mail[0].text
    short = format_local(start, alex.timezone, "%a %d %b %H:%M")
    texts = _sms_to(stack, alex.phone or "", short)
    assert len(texts) == 1 and "Dr. Priya Patel" in texts[0], texts

    # Move it a week later, to 11:30: the reminders move with it.
    owner.locator(f'[data-appointment-id="{appointment_id}"]').click()
    dialog = owner.get_by_role("dialog")
    dialog.get_by_label("Date").fill("2027-09-15")
    dialog.get_by_label("Start").fill("11:30")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    with unit_of_work() as s:
        moved = s.get(Appointment, appointment_id)
        assert moved is not None and moved.start_at != start
    new_start = moved.start_at
    _wait(synced, "the moved meeting at Zoom")
    # Nothing at the old telehealth reminder time ...
    assert _run_job(appointment_id, start - timedelta(minutes=20) + timedelta(seconds=5)) == 0
    # ... the standard reminder again for the new time, and the telehealth one 20 minutes before.
    assert _run_job(appointment_id, new_start - timedelta(days=2) + timedelta(seconds=5)) == 1
    new_when = format_local(new_start, alex.timezone)
    assert _mail(stack, "Reminder: appointment on", new_when)
    assert _run_job(appointment_id, new_start - timedelta(minutes=20) + timedelta(seconds=5)) == 1
    soon = _mail(stack, "Starting soon", new_when)
    assert len(soon) == 1
    with unit_of_work() as s:
        meeting = s.get(Meeting, appointment_id)
        assert meeting is not None
        join_url, zoom_id = crypto.decrypt(meeting.join_url_encrypted or ""), meeting.zoom_meeting_id
        passcode = crypto.decrypt(meeting.passcode_encrypted or "") if meeting.passcode_encrypted else ""
        patel = s.get(User, patel_on_zoom)
        assert patel is not None
        # The outbox keeps the messages carrying the join link and passcode sealed (encrypted at rest).
        stored = s.exec(select(Notification).where(
            col(Notification.idempotency_key).startswith(f"reminder:{appointment_id}:telehealth:"))).all()
        assert len(stored) == 2 and all(n.sealed and join_url not in n.body_text + n.body_html for n in stored)
    assert f"Join link: {join_url}" in soon[0].text and "Meeting ID:" in soon[0].text
    assert str(zoom_id)[:3] in soon[0].text and (not passcode or f"Passcode: {passcode}" in soon[0].text)
    assert "start" not in join_url and "/s/" not in soon[0].text  # never a host start link
    sms = _sms_to(stack, alex.phone or "", join_url)
    assert len(sms) == 1 and f"ID {zoom_id}" in sms[0] and patel.full_name in sms[0], sms
    owner.context.close()
