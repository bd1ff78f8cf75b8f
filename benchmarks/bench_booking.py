"""From "Save" on a new telehealth appointment until it is scheduled at Zoom, with the sandbox
answering normally.

A freshly migrated SQLite file with the demo practice, Zoom allowed and Dr. Lee connected to the
Zoom sandbox (run in-process on a free port, as the integration tests do). One run = what the
appointment dialog's Save does: `book_appointments` (validation, overlap check, the appointment
and its Zoom meeting row, the client's email, in one transaction), then `push_to_zoom` (the
immediate sync attempt: passcode rules, POST /users/me/meetings, the row marked synced). Timed
from before the booking to the row reading `synced` with a Zoom meeting id: the server time behind
"Scheduled" appearing on the calendar (the live push to the browser adds the few ms of the waiting
room benchmark's push floor). Figures go to var/bench/results.json as `booking.save_to_scheduled`
(.p50/.p95/.max, ms) and `booking.save_only` (the transaction alone).

Paced as a practice books: one Save every PACE_SECONDS (a busy front desk, several practitioners
booking at once), not back to back. Unpaced, 60 bookings in a second or two exceed Zoom's per-second
limit for one user (the sandbox answers 429 as Zoom does), and the app rightly defers those meetings
to the sync job. A meeting still not scheduled after its immediate attempt is counted as deferred
(`booking.deferred`) and left out of the latencies instead of stopping the benchmark.

    python benchmarks/bench_booking.py [--quick] [--runs N]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from benchmarks import results
from benchmarks.bench_meeting_list import _percentile

RUNS_FULL, RUNS_QUICK = 60, 10
PACE_SECONDS = 0.25  # at most 4 Saves a second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--runs", type=int, default=0)
    args = parser.parse_args(argv)
    runs = args.runs or (RUNS_QUICK if args.quick else RUNS_FULL)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"APP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                           "ZOOM_WEBHOOK_SECRET_TOKEN": "bench-secret"})
        return _run(runs)


def _run(runs: int) -> int:
    from sqlmodel import select

    from rxapp import api, migrate
    from rxapp.clock import now
    from rxapp.db import unit_of_work
    from rxapp.models import Client, Meeting, SyncState
    from rxapp.services.scheduling.appointments import AppointmentDraft, book_appointments, push_to_zoom
    from rxapp.settings import get_settings
    from tests.conftest import reset_app_caches
    from tests.integration.zoom_helpers import connect, demo_practice, sign_in, user_id
    from zoom_sandbox.config import SandboxConfig
    from zoom_sandbox.testing import run_sandbox, serve_app

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = SandboxConfig(enable_control=True, redirect_uri="*", webhook_url=f"{app_url}/api/zoom/webhook",
                           webhook_secret="bench-secret")
    with run_sandbox(config) as sandbox:
        os.environ.update({"ZOOM_OAUTH_BASE_URL": sandbox.base_url, "ZOOM_API_BASE_URL": sandbox.api_base_url,
                           "APP_URL": app_url})
        reset_app_caches()
        migrate.upgrade(get_settings().database_url)
        with serve_app(api.build(), sock=sock, ready_path="/api/health"):
            demo_practice()
            lee = sign_in("dr.lee@demo.clinic")
            connect(sandbox.base_url, lee, "lee@zoom.demo")
            desk = sign_in("frontdesk@demo.clinic")
            with unit_of_work() as s:
                alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one().id
            zone = ZoneInfo("America/New_York")
            totals, saves, deferred = [], [], 0
            next_save = time.perf_counter()
            for n in range(runs):
                time.sleep(max(0.0, next_save - time.perf_counter()))
                next_save = time.perf_counter() + PACE_SECONDS
                start = (now() + timedelta(days=2 + n)).astimezone(zone)
                draft = AppointmentDraft(client_id=alex, practitioner_id=user_id("dr.lee@demo.clinic"),
                                         date=start.date().isoformat(), hour="10:00", duration_minutes=50,
                                         telehealth=True, timezone="America/New_York")
                t0 = time.perf_counter()
                [appointment_id] = book_appointments(desk.principal, draft).ids
                t1 = time.perf_counter()
                asyncio.run(push_to_zoom([appointment_id]))
                with unit_of_work() as s:
                    meeting = s.get(Meeting, appointment_id)
                    scheduled = meeting is not None and meeting.sync_state == SyncState.SYNCED \
                        and bool(meeting.zoom_meeting_id)
                saves.append((t1 - t0) * 1000)
                if scheduled:
                    totals.append((time.perf_counter() - t0) * 1000)
                else:
                    deferred += 1
    print(f"\nSave -> scheduled at Zoom (sandbox answering normally), {runs} telehealth appointments, one Save "
          f"every {PACE_SECONDS:g} s; {deferred} deferred to the sync job")
    results.record("booking.deferred", "count", deferred, runs=runs, pace_seconds=PACE_SECONDS, db="sqlite")
    if not totals:
        print("no meeting was scheduled by its immediate attempt")
        results.save()
        return 1
    print(f"{'':24}{'p50':>9}{'p95':>9}{'max':>9}")
    for label, values in (("save (transaction)", saves), ("save -> scheduled", totals)):
        print(f"{label:24}{statistics.median(values):9.1f}{_percentile(sorted(values), 95):9.1f}{max(values):9.1f}  ms")
    for name, values in (("booking.save_only", saves), ("booking.save_to_scheduled", totals)):
        for stat, value in (("p50", statistics.median(values)), ("p95", _percentile(sorted(values), 95)),
                            ("max", max(values))):
            results.record(f"{name}.{stat}", "ms", value, runs=runs, pace_seconds=PACE_SECONDS, db="sqlite")
    print(f"figures appended to {results.save()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
