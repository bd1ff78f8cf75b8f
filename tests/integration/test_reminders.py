"""Reminders on the real databases: planned with book/move/cancel, sent once by racing workers,
skipped for opted-out clients, Confirm and Stop links, settings re-plan."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    Client,
    Notification,
    Practice,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from rxapp.services.notify import reminders
from rxapp.services.notify.outbox import deliver_due
from rxapp.services.notify.reminders import answers, links
from rxapp.services.scheduling.appointments import (
    AppointmentChange,
    AppointmentDraft,
    book_appointments,
    cancel_appointment,
    change_appointment,
)
from tests.integration.zoom_helpers import demo_practice, principal_of, user_id

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


@pytest.fixture
def desk(database: str):
    set_clock(lambda: T0)
    demo_practice(allow_zoom=False)
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        practice.standard_reminder_days, practice.telehealth_reminder_minutes = 2, 20
    return principal_of("frontdesk@demo.clinic")


def _alex() -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == "alex@demo.client")).one().id or 0


def _book(desk, day: str = "2026-12-10", hour: str = "10:00", telehealth: bool = True) -> int:
    saved = book_appointments(desk, AppointmentDraft(
        client_id=_alex(), practitioner_id=user_id("dr.lee@demo.clinic"), date=day, hour=hour, duration_minutes=50,
        telehealth=telehealth, timezone="America/New_York", allow_overlap=True))
    return saved.ids[0]


def _reminders(appointment_id: int) -> dict[ReminderKind, Reminder]:
    with unit_of_work() as s:
        rows = s.exec(select(Reminder).where(Reminder.appointment_id == appointment_id))
        return {ReminderKind(r.kind): r for r in rows}


def _reminder_mail(channel: Channel = Channel.EMAIL) -> list[Notification]:
    with unit_of_work() as s:
        return list(s.exec(select(Notification).where(
            Notification.idempotency_key.like("reminder:%"), Notification.channel == channel)))  # type: ignore[attr-defined]


def _run(at: datetime) -> int:
    set_clock(lambda: at)
    return reminders.run_due()


def test_booking_plans_both_reminders_and_the_job_sends_them_once(desk) -> None:
    appointment_id = _book(desk)
    planned = _reminders(appointment_id)
    start = datetime(2026, 12, 10, 10, 0, tzinfo=NY)
    assert planned[ReminderKind.STANDARD].due_at == datetime(2026, 12, 8, 10, 0, tzinfo=NY)
    assert planned[ReminderKind.TELEHEALTH].due_at == start - timedelta(minutes=20)
    assert _run(datetime(2026, 12, 8, 9, 59, tzinfo=NY)) == 0
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    assert _run(datetime(2026, 12, 8, 10, 5, tzinfo=NY)) == 0
    [mail] = _reminder_mail()
    assert mail.to_address == "alex@demo.client" and "Reminder" in mail.subject
    # In Alex's own zone (Chicago), not the appointment's (New York).
    assert "Thu 10 Dec 2026, 09:00 CST" in mail.body_text and "Dr. Dana Lee" in mail.body_text
    assert "/start" not in mail.body_text and "Stop email reminders: http" in mail.body_text
    [text] = _reminder_mail(Channel.SMS)  # Alex has a mobile number and has not opted out
    assert text.to_address.startswith("+1") and "Thu 10 Dec 09:00 CST" in text.body_text
    assert "Dr. Dana Lee" in text.body_text and "YES" not in text.body_text  # the practice does not ask
    assert _run(start - timedelta(minutes=20)) == 1
    soon = [m for m in _reminder_mail() if "Starting soon" in m.subject]
    assert len(soon) == 1 and "client portal" in soon[0].body_text
    assert len(_reminder_mail(Channel.SMS)) == 2
    done = _reminders(appointment_id)
    assert {r.status for r in done.values()} == {ReminderStatus.SENT}
    assert done[ReminderKind.STANDARD].email_outcome == "queued"


def test_moving_replans_and_a_reminder_sent_for_the_old_time_goes_again_for_the_new(desk) -> None:
    appointment_id = _book(desk)
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1  # standard reminder for Thu 10 Dec
    set_clock(lambda: datetime(2026, 12, 8, 11, 0, tzinfo=NY))
    change_appointment(desk, appointment_id, AppointmentChange(date="2026-12-14", hour="09:00", allow_overlap=True))
    moved = _reminders(appointment_id)
    assert moved[ReminderKind.STANDARD].status == ReminderStatus.PENDING
    assert moved[ReminderKind.STANDARD].due_at == datetime(2026, 12, 12, 9, 0, tzinfo=NY)
    # Nothing goes out at the old times ...
    assert _run(datetime(2026, 12, 10, 9, 45, tzinfo=NY)) == 0
    # ... and each goes once at the new ones.
    assert _run(datetime(2026, 12, 12, 9, 0, tzinfo=NY)) == 1
    assert _run(datetime(2026, 12, 14, 8, 40, tzinfo=NY)) == 1
    keys = sorted(m.idempotency_key for m in _reminder_mail())
    assert len(keys) == 3 and len(set(keys)) == 3
    assert sum("2026-12-14" in k for k in keys) == 2


def test_a_move_inside_the_window_sends_no_late_reminder(desk) -> None:
    appointment_id = _book(desk)
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    set_clock(lambda: datetime(2026, 12, 8, 12, 0, tzinfo=NY))
    change_appointment(desk, appointment_id, AppointmentChange(hour="11:00", allow_overlap=True))  # still Thu
    standard = _reminders(appointment_id)[ReminderKind.STANDARD]
    assert standard.status == ReminderStatus.SENT  # the change email told the new time
    assert _run(datetime(2026, 12, 9, 12, 0, tzinfo=NY)) == 0


def _texts(prefix: str) -> list[Notification]:
    with unit_of_work() as s:
        return list(s.exec(select(Notification).where(
            Notification.idempotency_key.like(f"{prefix}%"), Notification.channel == Channel.SMS)))  # type: ignore[attr-defined]


def _run_two_workers(at: datetime) -> int:
    """The reminder job as two workers run it, at the same moment."""
    set_clock(lambda: at)
    done: list[int] = []
    start_together = threading.Barrier(2)

    def worker() -> None:
        start_together.wait()
        done.append(reminders.run_due())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sum(done)


@pytest.mark.parametrize(("hours_ahead", "skipped"), [
    (3, {ReminderKind.STANDARD}),  # 1 day before has passed; 30 minutes before is still ahead
    (25 / 60, {ReminderKind.STANDARD, ReminderKind.TELEHEALTH}),  # both have passed
])
def test_a_visit_booked_inside_its_reminder_window_gets_no_late_reminder(desk, hours_ahead, skipped) -> None:
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        practice.standard_reminder_days, practice.telehealth_reminder_minutes = 1, 30
    start = (T0 + timedelta(hours=hours_ahead)).astimezone(NY)
    appointment_id = _book(desk, day=start.date().isoformat(), hour=start.strftime("%H:%M"))
    planned = _reminders(appointment_id)
    assert {k for k, r in planned.items() if r.status == ReminderStatus.SKIPPED} == skipped
    assert "booking or change email told the client" in planned[ReminderKind.STANDARD].note
    # Both workers' job, now and a minute later: no reminder (and no SMS credit) for a passed time.
    assert _run_two_workers(T0) == 0 and _run_two_workers(T0 + timedelta(minutes=1)) == 0
    assert _reminder_mail() == [] and _reminder_mail(Channel.SMS) == []
    # The booking email told Alex the time and how to join; a text did too (Alex has texts on).
    with unit_of_work() as s:
        booked = s.exec(select(Notification).where(
            Notification.idempotency_key == f"appointment-booked:{appointment_id}")).one()
    assert "waiting room" in booked.body_text
    [text] = _texts("inside-window:")
    assert text.status == "pending" and "is booked for" in text.body_text and "/portal" in text.body_text
    if ReminderKind.TELEHEALTH not in skipped:  # the one still ahead goes once, at its time
        assert _run_two_workers(start - timedelta(minutes=30)) == 1
        assert [r.kind for r in _reminders(appointment_id).values() if r.status == ReminderStatus.SENT] == [
            ReminderKind.TELEHEALTH]


def test_moving_or_turning_telehealth_inside_the_window_skips_and_texts_the_change(desk) -> None:
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        practice.standard_reminder_days, practice.telehealth_reminder_minutes = 2, 30
    in_person = _book(desk, telehealth=False)  # Thu 10 Dec, 10:00: far outside the window
    assert _reminders(in_person)[ReminderKind.STANDARD].status == ReminderStatus.PENDING
    # Moved to this afternoon: inside both windows.
    change_appointment(desk, in_person, AppointmentChange(date="2026-12-07", hour="10:20", telehealth=True,
                                                          allow_overlap=True))
    moved = _reminders(in_person)
    assert {r.status for r in moved.values()} == {ReminderStatus.SKIPPED}
    [text] = _texts("inside-window:")
    assert "is now Mon 07 Dec 09:20" in text.body_text and "waiting room" in text.body_text
    assert _run_two_workers(T0 + timedelta(minutes=1)) == 0 and _reminder_mail() == []
    # A notes-only edit changes nothing and sends nothing more.
    change_appointment(desk, in_person, AppointmentChange(notes="Bring the forms", allow_overlap=True))
    assert {r.status for r in _reminders(in_person).values()} == {ReminderStatus.SKIPPED}
    assert len(_texts("inside-window:")) == 1


def test_cancelling_cancels_and_converting_to_in_person_drops_the_telehealth_one(desk) -> None:
    first, second = _book(desk), _book(desk, day="2026-12-11")
    cancel_appointment(desk, first, "Client is unwell")
    assert {r.status for r in _reminders(first).values()} == {ReminderStatus.CANCELLED}
    with unit_of_work() as s:  # Zoom is not allowed here: no Zoom meeting ever existed, so none is mentioned
        told = s.exec(select(Notification).where(Notification.idempotency_key == f"meeting-cancelled:{first}")).one()
    assert "Client is unwell" in told.body_text and "Zoom" not in told.body_text
    change_appointment(desk, second, AppointmentChange(telehealth=False, allow_overlap=True))
    left = _reminders(second)
    assert left[ReminderKind.TELEHEALTH].status == ReminderStatus.CANCELLED
    assert left[ReminderKind.STANDARD].status == ReminderStatus.PENDING
    assert _run(datetime(2026, 12, 11, 9, 50, tzinfo=NY)) == 1  # only the second's standard reminder
    [mail] = _reminder_mail()
    assert "In person at Demo Practice, 120 Harbor Street, Suite 4, Boston, MA 02110" in mail.body_text


def test_a_cancel_the_job_did_not_see_planned_is_caught_at_send_time(desk) -> None:
    appointment_id = _book(desk)
    with unit_of_work() as s:  # e.g. Zoom deleted the meeting (a webhook), bypassing the use cases
        s.get(Appointment, appointment_id).status = AppointmentStatus.CANCELLED  # type: ignore[union-attr]
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 0
    assert _reminders(appointment_id)[ReminderKind.STANDARD].status == ReminderStatus.CANCELLED
    assert _reminder_mail() == []


def test_opted_out_email_is_skipped_and_recorded(desk) -> None:
    appointment_id = _book(desk, telehealth=False)
    url = links.url(links.STOP_EMAIL, _alex(), _alex())
    token = url.rsplit("/", 1)[1]
    assert answers.check(links.STOP_EMAIL, token).ok
    assert answers.stop_email(token).ok and answers.stop_email(token).ok  # idempotent
    assert not answers.stop_email(token[:-4] + "AAAA").ok
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    assert _reminder_mail() == []
    assert _reminders(appointment_id)[ReminderKind.STANDARD].email_outcome == \
        "skipped: opted out of email reminders"


def test_confirm_link_in_the_reminder_confirms_once(desk) -> None:
    with unit_of_work() as s:
        s.exec(select(Practice)).one().ask_clients_to_confirm = True
    appointment_id = _book(desk, telehealth=False)
    booked = [n for n in _all_mail() if "booked" in n.subject.lower()]
    assert booked and "Please confirm you will attend: http" in booked[0].body_text
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    [mail] = _reminder_mail()
    url = next(w for w in mail.body_text.split() if "/r/confirm/" in w)
    token = url.rsplit("/", 1)[1]
    assert answers.confirm(token).ok and answers.confirm(token).ok
    with unit_of_work() as s:
        confirmed = s.get(Appointment, appointment_id)
        assert confirmed is not None and confirmed.confirmed_at is not None
    other = links.make_token(links.CONFIRM, appointment_id, _alex() + 1)  # not Alex's link
    assert not answers.confirm(other).ok
    # A move asks again.
    change_appointment(desk, appointment_id, AppointmentChange(hour="12:00", allow_overlap=True))
    with unit_of_work() as s:
        assert s.get(Appointment, appointment_id).confirmed_at is None  # type: ignore[union-attr]


def _all_mail() -> list[Notification]:
    with unit_of_work() as s:
        return list(s.exec(select(Notification)))


def test_changing_the_practice_settings_replans_future_reminders(desk) -> None:
    from dataclasses import replace

    from rxapp.services.practice import settings as practice_settings

    appointment_id = _book(desk)
    owner = principal_of("owner@demo.clinic")
    values, _, _ = practice_settings.get_settings_view(owner)
    practice_settings.save_settings(owner, replace(values, standard_reminder_days=1, telehealth_reminder_minutes=30))
    planned = _reminders(appointment_id)
    assert planned[ReminderKind.STANDARD].due_at == datetime(2026, 12, 9, 10, 0, tzinfo=NY)
    assert planned[ReminderKind.TELEHEALTH].due_at == datetime(2026, 12, 10, 9, 30, tzinfo=NY)


def _many_due(count: int) -> None:
    """`count` booked in-person appointments, each with its standard reminder due now."""
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        client_id, practitioner = _alex(), user_id("dr.lee@demo.clinic")
        start = now() + timedelta(days=1)
        rows = [Appointment(practice_id=practice.id or 0, practitioner_id=practitioner, client_id=client_id,
                            start_at=start + timedelta(minutes=i), timezone="America/New_York")
                for i in range(count)]
        s.add_all(rows)
        s.flush()
        s.add_all([Reminder(practice_id=practice.id or 0, appointment_id=a.id or 0, kind=ReminderKind.STANDARD,
                            due_at=now() - timedelta(seconds=30), planned_start_at=a.start_at) for a in rows])


def _open() -> int:
    with unit_of_work() as s:
        return s.exec(select(func.count()).select_from(Reminder).where(
            Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENDING]))).one()  # type: ignore[attr-defined]


def test_two_workers_racing_over_1000_due_reminders_send_each_exactly_once(desk) -> None:
    set_clock(None)
    _many_due(1000)
    sent, errors = [], []
    start_together = threading.Barrier(2)

    def worker() -> None:
        try:
            start_together.wait()
            total = 0
            while True:
                done = reminders.run_due(limit=50, rounds=1)
                total += done
                if done == 0 and not _open():
                    break
            sent.append(total)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(sent) == 2
    # Neither doubled (how the work splits between them is up to the scheduler: under load one
    # worker can take every batch, which is still correct).
    assert sum(sent) == 1000, sent
    with unit_of_work() as s:
        keys = s.exec(select(func.count(), func.count(func.distinct(Notification.idempotency_key)))
                      .where(Notification.idempotency_key.like("reminder:%"))).one()  # type: ignore[attr-defined]
    assert tuple(keys) == (2000, 2000)  # one email and one SMS each
    # And through the outbox to the "catcher": two senders, each message once.
    caught: list[str] = []
    lock = threading.Lock()

    def catch(email) -> None:
        with lock:
            caught.append(email.subject + email.text)

    def sender() -> None:
        while deliver_due(catch, limit=100):
            pass

    senders = [threading.Thread(target=sender) for _ in range(2)]
    for t in senders:
        t.start()
    for t in senders:
        t.join(timeout=300)
    reminder_mail = [c for c in caught if c.startswith("Reminder")]
    assert len(reminder_mail) == 1000 and len(set(reminder_mail)) == 1000


def test_a_worker_that_crashes_after_claiming_is_replaced_after_the_lease(desk) -> None:
    set_clock(None)
    _many_due(3)
    ids, _ = reminders.claim_due(10)  # the worker dies here
    assert len(ids) == 3
    assert reminders.run_due() == 0  # leased: nobody else takes them yet
    later = now() + reminders.sending.LEASE + timedelta(seconds=1)
    assert _run(later) == 3
    assert _run(later + timedelta(minutes=5)) == 0
    assert len(_reminder_mail()) == 3


def test_a_reminder_whose_text_cannot_be_built_stays_claimed_and_the_others_go(desk, monkeypatch) -> None:
    set_clock(None)
    _many_due(3)
    with unit_of_work() as s:
        broken = s.exec(select(Reminder).order_by(Reminder.id)).all()[1]  # type: ignore[arg-type]
    build_sms = reminders.content.sms

    def sms(f) -> str:
        if f.appointment.id == broken.appointment_id:
            raise ValueError("a template bug")
        return build_sms(f)

    monkeypatch.setattr(reminders.content, "sms", sms)
    assert reminders.run_due() == 2
    assert _reminders(broken.appointment_id)[ReminderKind.STANDARD].status == ReminderStatus.SENDING
    assert len(_reminder_mail()) == 2 and len(_reminder_mail(Channel.SMS)) == 2  # nothing half-queued
    monkeypatch.setattr(reminders.content, "sms", build_sms)
    assert _run(now() + reminders.sending.LEASE + timedelta(seconds=1)) == 1  # taken again after its lease
    assert len(_reminder_mail()) == 3 and len(_reminder_mail(Channel.SMS)) == 3


def test_a_reminder_whose_message_the_database_refuses_does_not_hold_back_its_batch(desk, monkeypatch) -> None:
    from rxapp.services.notify import outbox

    set_clock(None)
    _many_due(3)
    with unit_of_work() as s:
        refused = s.exec(select(Reminder).order_by(Reminder.id)).all()[1]  # type: ignore[arg-type]
        appointment = s.get(Appointment, refused.appointment_id)
        assert appointment is not None
        key = f"reminder:{appointment.id}:{refused.kind}:{appointment.start_at.isoformat()}:email"
        outbox.queue_email(s, practice_id=appointment.practice_id, key=key, email=outbox.OutgoingEmail(
            to="alex@demo.client", subject="Reminder (an earlier copy)", text="x"))
    # Blind to what is queued: the refused reminder's email breaks the key's uniqueness at the commit.
    monkeypatch.setattr(outbox, "_queued", lambda session, key: None)
    assert reminders.run_due() == 2
    assert _reminders(refused.appointment_id)[ReminderKind.STANDARD].status == ReminderStatus.SENDING
    assert len(_reminder_mail()) == 3 and len(_reminder_mail(Channel.SMS)) == 2


def test_a_batch_of_reminders_is_sent_in_a_few_statements_not_a_few_per_reminder(desk, database: str) -> None:
    from sqlalchemy import event

    from rxapp.db import get_engine

    set_clock(None)
    _many_due(60)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        assert reminders.run_due(limit=60, rounds=1) == 60
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    # Claim, lease, load (reminders, appointments, clients, practices, users), keys, the 60 reminders'
    # updates: the same few statements whatever the batch size. The 120 new messages go in one
    # multi-row INSERT on PostgreSQL; SQLite takes them one by one (a call, not a round trip).
    inserts = [s for s in statements if s.startswith("INSERT INTO notification")]
    assert len(statements) - len(inserts) <= 12, statements
    assert len(inserts) <= (2 if database.startswith("postgresql") else 120)
    assert len(_reminder_mail()) == 60 and len(_reminder_mail(Channel.SMS)) == 60


def test_reply_yes_confirms_the_clients_next_appointment(desk) -> None:
    from rxapp.services.notify.sms import inbound

    with unit_of_work() as s:
        s.exec(select(Practice)).one().ask_clients_to_confirm = True
    later, sooner = _book(desk, day="2026-12-11", telehealth=False), _book(desk, telehealth=False)
    # Each was the next appointment when it was booked: each got a confirmation request by text.
    with unit_of_work() as s:
        asked = s.exec(select(Notification).where(Notification.idempotency_key.like("confirm-request:%"))).all()  # type: ignore[attr-defined]
    assert len(asked) == 2 and all(a.body_text.endswith("Reply YES to confirm.") for a in asked)
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    [text] = _reminder_mail(Channel.SMS)
    assert text.body_text.endswith("Reply YES to confirm.") and "CANCEL" not in text.body_text
    with unit_of_work() as s:
        assert inbound.handle_inbound(s, text.to_address, "Yes!").startswith("Thank you")  # type: ignore[union-attr]
    with unit_of_work() as s:
        assert s.get(Appointment, sooner).confirmed_at is not None  # type: ignore[union-attr]
        assert s.get(Appointment, later).confirmed_at is None  # type: ignore[union-attr]


def test_sms_opt_out_is_skipped_and_recorded(desk) -> None:
    appointment_id = _book(desk, telehealth=False)
    with unit_of_work() as s:
        s.get(Client, _alex()).sms_opted_out = True  # type: ignore[union-attr]
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    assert _reminders(appointment_id)[ReminderKind.STANDARD].sms_outcome == "skipped: client opted out of SMS"
    assert len(_reminder_mail()) == 1


def test_email_reminders_can_be_turned_off_on_the_client_record(desk) -> None:
    from rxapp.services.clients import records

    appointment_id = _book(desk, telehealth=False)
    assert records.set_email_reminders_opt_out(desk, _alex(), True) == "Alex Rivera"
    assert records.client_detail(desk, _alex()).email_reminders_opt_out
    assert _run(datetime(2026, 12, 8, 10, 0, tzinfo=NY)) == 1
    assert _reminder_mail() == [] and len(_reminder_mail(Channel.SMS)) == 1
    assert _reminders(appointment_id)[ReminderKind.STANDARD].email_outcome.startswith("skipped: opted out")


def test_the_confirm_route_shows_a_button_and_confirms_on_its_own_post_only(desk, monkeypatch) -> None:
    from starlette.testclient import TestClient

    from rxapp import api
    from rxapp.settings import get_settings

    app = "http://localhost:3000"
    monkeypatch.setenv("APP_URL", app)
    get_settings.cache_clear()
    client = TestClient(api.build(), base_url=app, follow_redirects=False)
    appointment_id = _book(desk, telehealth=False)
    path = "/r/confirm/" + links.make_token(links.CONFIRM, appointment_id, _alex())
    page = client.get(path)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Confirm your appointment" in page.text and "<form method=post>" in page.text
    assert client.post(path, headers={"origin": "https://evil.example"}).status_code == 403
    with unit_of_work() as s:
        assert s.get(Appointment, appointment_id).confirmed_at is None  # type: ignore[union-attr]
    done = client.post(path, headers={"origin": app, "sec-fetch-site": "same-origin"})
    assert done.status_code == 200 and "Appointment confirmed" in done.text
    with unit_of_work() as s:
        assert s.get(Appointment, appointment_id).confirmed_at is not None  # type: ignore[union-attr]
    assert "Already confirmed" in client.get(path).text
    assert client.get("/r/confirm/not-a-token").status_code == 410
    assert client.get("/r/other/" + path.rsplit("/", 1)[1]).status_code == 404
