"""10,000 reminders due in the same minute, sent by two worker processes, on SQLite and on PostgreSQL.

For each database (a freshly migrated SQLite file, a throwaway PostgreSQL server): the demo
practice, enough SMS credits, and N booked in-person appointments for Alex (email + mobile), each
with its standard reminder due in the same minute. Two worker processes, each with its own database
connections, loop what the app's jobs do: `reminders.run_due` (claim due reminders, queue email +
SMS in the outbox) and `notifications.deliver_due` (send them: SMTP to an in-process mail catcher
on a free port, SMS to the SMS catcher's folder; the catchers write to memory when the machine has
/dev/shm). The workers start, import the app and connect first (a worker is running before
reminders come due); the clock starts when both are ready and stops when every reminder is sent
and every message delivered. Then the catchers are counted: each reminder's email and SMS must
arrive exactly once (lost 0, duplicated 0). Targets: all within 60 s on SQLite, 30 s on PostgreSQL.
Everything shares the machine's cores (workers, catchers, PostgreSQL); the CPU time the workers
used is printed beside the wall time, so a run slowed by other work on the machine shows as such.

Figures (var/bench/results.json, params database = sqlite | postgresql, count, workers): `reminders.send_all`
(ms, until delivered), `reminders.queue_all` (ms, until every reminder is claimed and its messages are
in the outbox) and `reminders.per_s`, these three with the workers' CPU time; `reminders.lost`,
`reminders.duplicated` and `reminders.unfinished` (fractions of the messages, 0 expected).

    python benchmarks/bench_reminders.py [--quick] [--count N] [--databases sqlite,postgresql]
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
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.policy import default as default_policy
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event

from benchmarks import results
from benchmarks.bench_meeting_list import postgres_database, sqlite_database
from devtools.ports import free_port

COUNT_FULL, COUNT_QUICK = 10_000, 1_000
WORKERS = 2
CORES = os.cpu_count() or 1
TARGET_S = {"sqlite": 60.0, "postgresql": 30.0}
WORKER_LIMIT_S = float(os.environ.get("BENCH_REMINDERS_LIMIT_S", "900"))  # the workers stop after this
READY_LIMIT_S = 120.0  # for the workers to import the app and connect
SHM = "/dev/shm"  # noqa: S108 (only ever holds a private mkdtemp folder)

DATABASES: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "sqlite": sqlite_database, "postgresql": postgres_database}


@dataclass(frozen=True)
class Outcome:
    database: str
    count: int
    queued_s: float
    sent_s: float
    emails: int
    texts: int
    lost: int
    duplicated: int
    unfinished: int
    workers_cpu_s: float  # CPU time the workers used while timed, all together

    @property
    def per_s(self) -> float:
        return self.count / self.sent_s if self.sent_s else float("nan")

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unfinished == 0


def _catchers_home() -> str | None:
    """Where the catchers write what they catch: in memory when the machine has a tmpfs. They stand in
    for an SMTP server and Twilio; a file per message on a journaling disk costs the benchmark's two
    cores about a millisecond each, which is not the app's work (the databases stay on disk)."""
    return SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else None


def _open_work() -> tuple[int, int]:
    """(reminders not yet queued, messages not yet delivered)."""
    from sqlalchemy import func
    from sqlmodel import select

    from rxapp.db import unit_of_work
    from rxapp.models import Notification, NotificationStatus, Reminder, ReminderStatus

    with unit_of_work() as s:
        reminders = s.exec(select(func.count()).select_from(Reminder).where(
            Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENDING]))).one()  # type: ignore[attr-defined]
        messages = s.exec(select(func.count()).select_from(Notification).where(
            Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]))).one()  # type: ignore[attr-defined]
    return reminders, messages


def _worker(env: dict[str, str], ready: Event, go: Event, cpu_s: Synchronized[float]) -> None:
    """One app worker: the reminder job and the outbox sender, until everything is out; its CPU
    time from `go` on is left in `cpu_s`."""
    os.environ.update(env)
    from rxapp.services.notify import outbox, reminders

    _open_work()  # imports done, connection open
    ready.set()
    go.wait()
    started = time.process_time()
    deadline = time.monotonic() + WORKER_LIMIT_S
    try:
        while time.monotonic() < deadline:
            queued = reminders.run_due(limit=200, rounds=1)
            delivered = outbox.deliver_due(limit=500)
            if queued or delivered:
                continue
            if _open_work() == (0, 0):
                return
            time.sleep(0.05)
    finally:
        cpu_s.value = time.process_time() - started


def _seed(count: int) -> None:
    """The demo practice, credits for every SMS, and `count` appointments with a reminder due now."""
    from datetime import timedelta

    from sqlalchemy import insert
    from sqlmodel import select

    from rxapp.clock import now
    from rxapp.db import unit_of_work
    from rxapp.models import Appointment, Client, Practice, Reminder, ReminderKind, ReminderStatus
    from rxapp.services.notify.sms import credits
    from tests.integration.zoom_helpers import demo_practice, user_id

    demo_practice(allow_zoom=False)
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        lee = user_id("dr.lee@demo.clinic")
        credits.grant(s, practice_id=practice.id or 0, amount=count * 4, note="benchmark", user_id=None)
        start, due, at = now() + timedelta(days=2), now() - timedelta(seconds=30), now()
        for first in range(0, count, 2000):
            starts = [start + timedelta(minutes=i) for i in range(first, min(count, first + 2000))]
            # Bulk inserts (executemany with RETURNING): the seeding is not what is measured.
            appointment_ids = s.execute(insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True), [
                Appointment(practice_id=practice.id or 0, practitioner_id=lee, client_id=alex.id or 0,
                            start_at=t, timezone="America/New_York").model_dump(exclude={"id"})
                for t in starts]).scalars().all()
            s.execute(insert(Reminder), [
                {"practice_id": practice.id, "appointment_id": a, "kind": ReminderKind.STANDARD,
                 "due_at": due - timedelta(seconds=a % 60),  # all in one minute
                 "planned_start_at": t, "status": ReminderStatus.PENDING, "created_at": at, "updated_at": at}
                for a, t in zip(appointment_ids, starts, strict=True)])


def _caught(folder: Path) -> tuple[list[str], list[str]]:
    """The bodies of the emails and SMS the catchers caught. Each reminder names its own
    appointment time: the body tells one reminder from another."""
    mails = [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in (folder / "mail").glob("*.eml")]
    mail_bodies = [m.get_body(("plain",)).get_content() for m in mails]  # type: ignore[union-attr]
    texts = [json.loads(p.read_text())["body"] for p in (folder / "sms").glob("*.json")]
    return mail_bodies, texts


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


def run(database: str, url: str, count: int, folder: Path) -> Outcome:
    """Seed `url`, send everything with the workers, count what the catchers caught."""
    from mail_catcher.__main__ import start
    from rxapp import migrate
    from rxapp.services import crypto
    from rxapp.settings import get_settings
    from tests.conftest import reset_app_caches

    port = free_port()
    env = {"APP_ENV": "test", "DATABASE_URL": url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
           "SMS_PROVIDER": "catcher", "SMS_CATCHER_DIR": f"{folder}/sms", "SECRET_KEY_FILE": f"{folder}/secret.key"}
    os.environ.update(env)
    reset_app_caches()
    crypto.ensure_key_file(get_settings().secret_key_file)
    migrate.upgrade(url)
    seeding = time.perf_counter()
    _seed(count)
    print(f"  seeded {count:,} appointments with reminders in {time.perf_counter() - seeding:.1f} s", flush=True)
    catcher = start("127.0.0.1", port, folder / "mail")
    try:
        context = multiprocessing.get_context("spawn")
        go = context.Event()
        readies = [context.Event() for _ in range(WORKERS)]
        cpu = [context.Value("d", 0.0) for _ in range(WORKERS)]
        workers = [context.Process(target=_worker, args=(env, ready, go, used)) for ready, used in zip(readies, cpu,
                                                                                                       strict=True)]
        for w in workers:
            w.start()
        if not all(ready.wait(READY_LIMIT_S) for ready in readies):
            for w in workers:
                w.terminate()
                w.join()
            raise RuntimeError("a worker did not start (its error is above)")
        began = time.perf_counter()
        go.set()
        queued_s = float("nan")
        while any(w.is_alive() for w in workers):
            if queued_s != queued_s and _open_work()[0] == 0:  # NaN until every reminder is in the outbox
                queued_s = time.perf_counter() - began
            time.sleep(0.1)
        sent_s = time.perf_counter() - began
        for w in workers:
            w.join()
    finally:
        catcher.stop()
    reset_app_caches()  # the engine's connections go before the database does
    mail_bodies, texts = _caught(folder)
    recorded_sent, unfinished = _outcomes()
    reset_app_caches()
    # Lost: recorded as sent but never caught. Unfinished: still waiting when the workers' time ran out.
    return Outcome(database=database, count=count, queued_s=queued_s, sent_s=sent_s, emails=len(mail_bodies),
                   texts=len(texts), lost=max(0, recorded_sent - len(set(mail_bodies)) - len(set(texts))),
                   duplicated=(len(mail_bodies) - len(set(mail_bodies))) + (len(texts) - len(set(texts))),
                   unfinished=unfinished, workers_cpu_s=sum(c.value for c in cpu))


def report(o: Outcome) -> None:
    target = TARGET_S[o.database]
    print(f"{o.count} reminders (email + SMS each) due in one minute, {WORKERS} worker processes, {o.database}:")
    print(f"  all reminders claimed and queued (email + SMS in the outbox) in {o.queued_s:.1f} s")
    print(f"  all sent and delivered in {o.sent_s:.1f} s ({o.per_s:.0f} reminders/s; target {target:.0f} s: "
          f"{'met' if o.exact and o.sent_s <= target else 'MISSED'}); the workers' CPU {o.workers_cpu_s:.1f} s "
          f"of the {o.sent_s * CORES:.0f} s of {CORES} cores")
    print(f"  emails caught {o.emails}, SMS caught {o.texts}; lost {o.lost}, duplicated {o.duplicated}"
          + (f"; {o.unfinished} reminders or messages unfinished when the workers stopped" if o.unfinished else ""),
          flush=True)
    params = {"count": o.count, "workers": WORKERS, "database": o.database}
    timing = {**params, "workers_cpu_s": round(o.workers_cpu_s, 1), "cores": CORES}
    results.record("reminders.send_all", "ms", o.sent_s * 1000, **timing)
    results.record("reminders.queue_all", "ms", o.queued_s * 1000, **timing)
    results.record("reminders.per_s", "per_s", o.per_s, **timing)
    results.record("reminders.lost", "fraction", o.lost / (2 * o.count), **params)
    results.record("reminders.duplicated", "fraction", o.duplicated / (2 * o.count), **params)
    results.record("reminders.unfinished", "fraction", o.unfinished / (3 * o.count), **params)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0 when every database delivered each message exactly once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    args = parser.parse_args(argv)
    count = args.count or (COUNT_QUICK if args.quick else COUNT_FULL)
    names = args.databases.split(",")
    unknown = [n for n in names if n not in DATABASES]
    if unknown:
        parser.error(f"unknown database {', '.join(unknown)} (choose from {', '.join(DATABASES)})")
    previous = dict(os.environ)
    outcomes: list[Outcome] = []
    try:
        for name in names:
            print(f"{name}: migrating and seeding", flush=True)
            with DATABASES[name]() as url, \
                    tempfile.TemporaryDirectory(prefix="bench-reminders-", dir=_catchers_home()) as folder:
                outcomes.append(run(name, url, count, Path(folder)))
            report(outcomes[-1])
    finally:
        os.environ.clear()
        os.environ.update(previous)
        results.save()
    return 0 if all(o.exact for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
