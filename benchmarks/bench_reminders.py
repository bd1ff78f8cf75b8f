"""10,000 reminders due in the same minute, sent by two worker processes to the catchers.

A freshly migrated SQLite file (the embedded default) with the demo practice, enough SMS credits,
and N booked in-person appointments for Alex (email + mobile), each with its standard reminder
due in the same minute. Two worker processes, each with its own database connections, loop what
the app's jobs do: `reminders.run_due` (claim due reminders, queue email + SMS in the outbox)
and `notifications.deliver_due` (send them: SMTP to an in-process mail catcher on a free port,
SMS to the SMS catcher's folder). Timed from the workers' start until every reminder is sent
and every message delivered. Then the catchers are counted: each reminder's email and SMS must
arrive exactly once (lost 0, duplicated 0). Target: all within 60 s.

Figures (var/bench/results.json): `reminders.send_all` (ms, until delivered), `reminders.queue_all`
(ms, until every reminder is claimed and its messages are in the outbox), `reminders.per_s`,
`reminders.lost` and `reminders.duplicated` (fractions of N, 0 expected).

    python benchmarks/bench_reminders.py [--quick] [--count N]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import email
import json
import multiprocessing
import os
import socket
import tempfile
import time
from email.policy import default as default_policy

from benchmarks import results

COUNT_FULL, COUNT_QUICK = 10_000, 1_000
TARGET_S = 60.0
WORKER_LIMIT_S = float(os.environ.get("BENCH_REMINDERS_LIMIT_S", "900"))  # the workers stop after this


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(env: dict[str, str], count: int, deadline: float) -> None:
    """One app worker: the reminder job and the outbox sender, until everything is out."""
    os.environ.update(env)
    from sqlalchemy import func
    from sqlmodel import select

    from rxapp.db import unit_of_work
    from rxapp.models import Notification, NotificationStatus, Reminder, ReminderStatus
    from rxapp.services.notify import outbox, reminders

    while time.monotonic() < deadline:
        queued = reminders.run_due(limit=200, rounds=1)
        delivered = outbox.deliver_due(limit=500)
        if queued or delivered:
            continue
        with unit_of_work() as s:
            open_reminders = s.exec(select(func.count()).select_from(Reminder).where(
                Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENDING]))).one()  # type: ignore[attr-defined]
            open_messages = s.exec(select(func.count()).select_from(Notification).where(
                Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]))).one()  # type: ignore[attr-defined]
        if not open_reminders and not open_messages:
            return
        time.sleep(0.05)


def _wait_for_reminders(workers: list, began: float) -> float:
    """Seconds until no reminder is left to send (all queued in the outbox), read beside the workers."""
    from sqlalchemy import func
    from sqlmodel import select

    from rxapp.db import unit_of_work
    from rxapp.models import Reminder, ReminderStatus

    while any(w.is_alive() for w in workers):
        with unit_of_work() as s:
            left = s.exec(select(func.count()).select_from(Reminder).where(
                Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENDING]))).one()  # type: ignore[attr-defined]
        if not left:
            break
        time.sleep(0.2)
    return time.perf_counter() - began


def _seed(count: int) -> None:
    from datetime import timedelta

    from sqlmodel import select

    from rxapp.clock import now
    from rxapp.db import unit_of_work
    from rxapp.models import Appointment, Client, Practice, Reminder, ReminderKind
    from rxapp.services.notify.sms import credits
    from tests.integration.zoom_helpers import demo_practice, user_id

    demo_practice(allow_zoom=False)
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        lee = user_id("dr.lee@demo.clinic")
        credits.grant(s, practice_id=practice.id or 0, amount=count * 4, note="benchmark", user_id=None)
        start, due = now() + timedelta(days=2), now() - timedelta(seconds=30)
        for first in range(0, count, 1000):
            rows = [Appointment(practice_id=practice.id or 0, practitioner_id=lee, client_id=alex.id or 0,
                                start_at=start + timedelta(minutes=i), timezone="America/New_York")
                    for i in range(first, min(count, first + 1000))]
            s.add_all(rows)
            s.flush()
            s.add_all([Reminder(practice_id=practice.id or 0, appointment_id=a.id or 0, kind=ReminderKind.STANDARD,
                                due_at=due - timedelta(seconds=(a.id or 0) % 60),  # all in one minute
                                planned_start_at=a.start_at) for a in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args(argv)
    count = args.count or (COUNT_QUICK if args.quick else COUNT_FULL)
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {"APP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(port), "SMS_PROVIDER": "catcher", "SMS_CATCHER_DIR": f"{tmp}/sms",
               "SECRET_KEY_FILE": f"{tmp}/secret.key"}
        os.environ.update(env)
        return _run(count, env, port, Path(tmp))


def _run(count: int, env: dict[str, str], port: int, tmp: Path) -> int:
    from mail_catcher.__main__ import start
    from rxapp import migrate
    from rxapp.services import crypto
    from rxapp.settings import get_settings
    from tests.conftest import reset_app_caches

    reset_app_caches()
    crypto.ensure_key_file(get_settings().secret_key_file)
    migrate.upgrade(get_settings().database_url)
    _seed(count)
    catcher = start("127.0.0.1", port, tmp / "mail")
    try:
        context = multiprocessing.get_context("spawn")
        deadline = time.monotonic() + WORKER_LIMIT_S
        workers = [context.Process(target=_worker, args=(env, count, deadline)) for _ in range(2)]
        began = time.perf_counter()
        for w in workers:
            w.start()
        queued_at = _wait_for_reminders(workers, began)
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - began
    finally:
        catcher.stop()
    mails = [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in (tmp / "mail").glob("*.eml")]
    # Each reminder names its own appointment time: the body tells one reminder from another.
    mail_bodies = [m.get_body(("plain",)).get_content() for m in mails]  # type: ignore[union-attr]
    texts = [json.loads(p.read_text())["body"] for p in (tmp / "sms").glob("*.json")]
    recorded_sent, unfinished = _outcomes()
    # Lost: recorded as sent but never caught. Unfinished: still waiting when the workers' time ran out.
    lost = max(0, recorded_sent - len(set(mail_bodies)) - len(set(texts)))
    duplicated = (len(mail_bodies) - len(set(mail_bodies))) + (len(texts) - len(set(texts)))
    rate = count / elapsed if elapsed else float("nan")
    print(f"{count} reminders (email + SMS each) due in one minute, 2 worker processes, SQLite:")
    print(f"  all reminders claimed and queued (email + SMS in the outbox) in {queued_at:.1f} s")
    print(f"  all sent and delivered in {elapsed:.1f} s ({rate:.0f} reminders/s; target {TARGET_S:.0f} s)")
    print(f"  emails caught {len(mail_bodies)}, SMS caught {len(texts)}; lost {lost}, duplicated {duplicated}"
          + (f"; {unfinished} reminders or messages unfinished when the workers stopped" if unfinished else ""))
    results.record("reminders.send_all", "ms", elapsed * 1000, count=count, workers=2, database="sqlite")
    results.record("reminders.queue_all", "ms", queued_at * 1000, count=count, workers=2, database="sqlite")
    results.record("reminders.per_s", "per_s", rate, count=count, workers=2, database="sqlite")
    results.record("reminders.lost", "fraction", lost / (2 * count), count=count)
    results.record("reminders.duplicated", "fraction", duplicated / (2 * count), count=count)
    results.record("reminders.unfinished", "fraction", unfinished / (3 * count), count=count)
    results.save()
    return 0 if lost == 0 and duplicated == 0 and unfinished == 0 else 1


def _outcomes() -> tuple[int, int]:
    """(messages the outbox recorded as sent, reminders and messages not finished)."""
    from sqlalchemy import func
    from sqlmodel import select

    from rxapp.db import unit_of_work
    from rxapp.models import Notification, NotificationStatus, Reminder, ReminderStatus

    with unit_of_work() as s:
        sent = s.exec(select(func.count()).select_from(Notification).where(
            Notification.status == NotificationStatus.SENT)).one()
        open_messages = s.exec(select(func.count()).select_from(Notification).where(
            Notification.status != NotificationStatus.SENT)).one()
        open_reminders = s.exec(select(func.count()).select_from(Reminder).where(
            Reminder.status != ReminderStatus.SENT)).one()
    return sent, open_messages + open_reminders


if __name__ == "__main__":
    raise SystemExit(main())
