"""How fast open slots are computed (services.scheduling.availability.open_slots_for and
open_slots_for_any), on SQLite and on PostgreSQL.

Seeds one practice of 20 practitioners in New York, each with three blocks a weekday (in person,
telehealth, both), buffers of 10 minutes either side, a 15-minute slot interval, two lengths offered,
a maximum per day, four date overrides in the next four weeks (two days off, two with other hours),
a working Zoom connection, and 500 appointments each over the twelve weeks around them (about
170 inside the four weeks, a few cancelled). Then times them through the app's settings and engine:
`open_slots_for`, four weeks for one practitioner (the target is a p95 of at most 20 ms), and
`open_slots_for_any`, the same four weeks for all 20 practitioners at once (a client who lets the
practice choose; the target is a p95 of at most 30 ms) and, to show how its cost grows, for 2 of them
(ten times fewer), side by side. It also counts the SQL statements of each (the practice's must not
grow with its practitioners). Figures also go to var/bench/results.json (`open_slots.p95` / `.p50`
and `open_slots_practice.p95` / `.p50`, params db, practitioners (1; 2 and 20), appointments (each),
days). `--quick` (or BENCH_QUICK=1) runs fewer rounds.

    python benchmarks/bench_slots.py [--quick] [--databases sqlite,postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, create_engine, event, insert, text

from benchmarks import results
from benchmarks.bench_meeting_list import DATABASES, _percentile, _use_database
from benchmarks.seed_meetings import FIRST_NAMES, LAST_NAMES, _insert
from rxapp import migrate
from rxapp.db import get_engine, unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    Client,
    Practice,
    PractitionerProfile,
    Role,
    User,
    ZoomConnection,
)
from rxapp.services.scheduling.availability import open_slots_for, open_slots_for_any

TARGET_P95_MS = 20.0
TARGET_PRACTICE_P95_MS = 30.0
PRACTITIONERS = 20
PRACTICE_SIZES = (2, PRACTITIONERS)  # `open_slots_for_any` over ten times fewer practitioners, then all
APPOINTMENTS_EACH = 500
DAYS = 28
TZ = "America/New_York"
BLOCKS = ((8 * 60, 11 * 60, "in_person"), (12 * 60, 15 * 60, "telehealth"), (16 * 60, 19 * 60, "both"))


@dataclass(frozen=True)
class Size:
    warmup: int
    runs: int
    practice_runs: int


FULL = Size(warmup=10, runs=300, practice_runs=100)
QUICK = Size(warmup=3, runs=60, practice_runs=8)


def seed(conn: Connection, start: datetime, rng: random.Random) -> list[int]:
    """The practice; returns its practitioner ids. The caller commits."""
    practice_id = _insert(conn, Practice(name="Slots Practice", timezone=TZ, allow_zoom=True))
    client_id = _insert(conn, Client(practice_id=practice_id, full_name="Bench Client"))
    zone = ZoneInfo(TZ)
    first_day = start.astimezone(zone).date()
    ids: list[int] = []
    appointments: list[dict[str, Any]] = []
    template = Appointment(practice_id=practice_id, practitioner_id=0, client_id=client_id,
                           start_at=start).model_dump(exclude={"id"})
    for i in range(PRACTITIONERS):
        pid = _insert(conn, User(practice_id=practice_id, email=f"dr{i}@slots.clinic",
                                 full_name=f"Dr. {FIRST_NAMES[i]} {LAST_NAMES[i]}", role=Role.PRACTITIONER))
        ids.append(pid)
        conn.execute(insert(PractitionerProfile.__table__), [PractitionerProfile(
            user_id=pid, practice_id=practice_id, timezone=TZ, telehealth_enabled=True).model_dump()])
        conn.execute(insert(ZoomConnection.__table__), [ZoomConnection(
            practice_id=practice_id, practitioner_id=pid, access_token_encrypted="x", refresh_token_encrypted="x",
            access_expires_at=start + timedelta(hours=1), zoom_user_id=f"z{i}", zoom_account_id="a",
        ).model_dump(exclude={"id"})])
        conn.execute(insert(AvailabilityBlock.__table__), [
            {"practice_id": practice_id, "practitioner_id": pid, "weekday": day, "start_minute": s,
             "end_minute": e, "mode": mode} for day in range(5) for s, e, mode in BLOCKS])
        overrides = [(first_day + timedelta(days=3), True, 0, 0), (first_day + timedelta(days=10), True, 0, 0),
                     (first_day + timedelta(days=15), False, 10 * 60, 14 * 60),
                     (first_day + timedelta(days=22), False, 13 * 60, 20 * 60)]
        conn.execute(insert(AvailabilityOverride.__table__), [
            {"practice_id": practice_id, "practitioner_id": pid, "on_date": on, "day_off": off, "start_minute": s,
             "end_minute": e, "mode": "both"} for on, off, s, e in overrides])
        conn.execute(insert(BookingRule.__table__), [BookingRule(
            practitioner_id=pid, practice_id=practice_id, lengths="30,50", interval_minutes=15,
            buffer_before_minutes=10, buffer_after_minutes=10, min_notice_hours=24, horizon_days=60,
            max_per_day=12).model_dump()])
        # 500 appointments on the weekdays from four weeks before to four weeks after the four weeks
        # measured (about eight a day; some 170 inside the four weeks).
        days = [d for d in (first_day + timedelta(days=n) for n in range(-28, DAYS + 28)) if d.weekday() < 5]
        for _ in range(APPOINTMENTS_EACH):
            day = rng.choice(days)
            minute = rng.randrange(8 * 60, 19 * 60, 30)
            local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
            appointments.append({**template, "practitioner_id": pid, "start_at": local.astimezone(UTC),
                                 "duration_minutes": rng.choice((30, 50, 60)),
                                 "status": (AppointmentStatus.CANCELLED if rng.random() < 0.05
                                            else AppointmentStatus.BOOKED).value})
    conn.execute(insert(Appointment.__table__), appointments)
    return ids


def prepare(url: str, start: datetime) -> list[int]:
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        ids = seed(conn, start, random.Random(7))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    _use_database(url)
    return ids


def _slots(practitioner_id: int, start: datetime) -> int:
    with unit_of_work() as session:
        return len(open_slots_for(session, practitioner_id, start, start + timedelta(days=DAYS)).slots)


def _practice_slots(ids: Sequence[int], start: datetime) -> int:
    with unit_of_work() as session:
        return len(open_slots_for_any(session, ids, start, start + timedelta(days=DAYS)).slots)


def _statements(read: Callable[[], int]) -> int:
    """How many SQL statements `read` sends."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        read()
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    return len(sent)


def measure(name: str, ids: list[int], start: datetime, size: Size) -> dict[str, Any]:
    for n in range(size.warmup):
        _slots(ids[n % len(ids)], start)
        for count in PRACTICE_SIZES:
            _practice_slots(ids[:count], start)
    one: list[float] = []
    found = 0
    for n in range(size.runs):
        began = time.perf_counter()
        found = _slots(ids[n % len(ids)], start)
        one.append((time.perf_counter() - began) * 1000)
    one.sort()
    params = {"db": name, "appointments": APPOINTMENTS_EACH, "days": DAYS}
    figures: dict[str, Any] = {
        "database": name, "p50": _percentile(one, 50), "p95": _percentile(one, 95), "slots": found,
        "statements": _statements(lambda: _slots(ids[0], start)), "practice": {}}
    results.record("open_slots.p95", "ms", figures["p95"], practitioners=1, **params)
    results.record("open_slots.p50", "ms", figures["p50"], practitioners=1, **params)
    for count in PRACTICE_SIZES:
        chosen = ids[:count]
        practice: list[float] = []
        practice_found = 0
        for _ in range(size.practice_runs):
            began = time.perf_counter()
            practice_found = _practice_slots(chosen, start)
            practice.append((time.perf_counter() - began) * 1000)
        practice.sort()
        figures["practice"][count] = {"p50": _percentile(practice, 50), "p95": _percentile(practice, 95),
                                      "slots": practice_found,
                                      "statements": _statements(partial(_practice_slots, chosen, start))}
        results.record("open_slots_practice.p95", "ms", figures["practice"][count]["p95"], practitioners=count,
                       **params)
        results.record("open_slots_practice.p50", "ms", figures["practice"][count]["p50"], practitioners=count,
                       **params)
    return figures


def print_practice_table(found: list[dict[str, Any]]) -> None:
    """`open_slots_for_any` at each number of practitioners side by side, one line per database."""
    small, large = PRACTICE_SIZES[0], PRACTICE_SIZES[-1]
    headers = ("database", *(f"p{pct} ms {n}" for n in PRACTICE_SIZES for pct in (50, 95)), f"p95 {large}/{small}",
               "slots", "SQL statements", f"p95 <= {TARGET_PRACTICE_P95_MS:.0f} ms @{large}")
    cells = []
    for f in found:
        at = [f["practice"][n] for n in PRACTICE_SIZES]
        cells.append((f["database"], *(f"{a[pct]:.2f}" for a in at for pct in ("p50", "p95")),
                      f"{at[-1]['p95'] / at[0]['p95']:.2f}x", " / ".join(str(a["slots"]) for a in at),
                      " / ".join(str(a["statements"]) for a in at),
                      "yes" if at[-1]["p95"] <= TARGET_PRACTICE_P95_MS else "NO"))
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for line in (headers, tuple("-" * w for w in widths), *cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths,
                                                                                               strict=True))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    size = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    # Tomorrow at 00:00 UTC: the slots measured lie past the minimum notice and inside the horizon.
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    previous_url = os.environ.get("DATABASE_URL")
    found: list[dict[str, Any]] = []
    try:
        for name in args.databases.split(","):
            print(f"{name}: migrating and seeding", flush=True)
            with DATABASES[name]() as url:
                ids = prepare(url, start)
                found.append(measure(name, ids, start, size))
                _use_database(None)
    finally:
        _use_database(previous_url)
    print(f"\nopen slots: {DAYS} days, 3 blocks a weekday, buffers, 4 overrides, {APPOINTMENTS_EACH} "
          f"appointments per practitioner.\n\none practitioner (open_slots_for), {size.runs} runs:")
    for f in found:
        verdict = "yes" if f["p95"] <= TARGET_P95_MS else "NO"
        print(f"  {f['database']:<9} p50 {f['p50']:6.2f} ms  p95 {f['p95']:6.2f} ms (p95 <= {TARGET_P95_MS:.0f} ms: "
              f"{verdict}, {f['slots']} slots, {f['statements']} SQL statements)")
    print(f"\nany practitioner (open_slots_for_any), {' and '.join(map(str, PRACTICE_SIZES))} of the "
          f"{PRACTITIONERS} practitioners, {size.practice_runs} runs each:")
    print_practice_table(found)
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
