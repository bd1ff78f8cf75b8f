"""How fast the owner's dashboard is for a year of a practice with a million appointments, on PostgreSQL.

Seeds one practice with a throwaway PostgreSQL server (COPY): 50 practitioners in New York with weekday
hours and a few date overrides each, 5,000 clients (a third with a portal account), 1,000,000
appointments (eight a working day for each practitioner, about ten years ending half a year ahead: a
year holds about 100,000; completed, no-shows, cancellations early and late, a quarter self-booked),
an SMS charge for every other appointment with a few refunds, and a small other practice. Then times
`services.practice.dashboard.dashboard` itself, the page's whole computation, for all practitioners
over a year (the twelve months up to this one, and then the year before each of them, in turn).
Prints p50/p95 and the time and plan (EXPLAIN: indexes used) of each of its queries; the target is a
p95 of at most 200 ms. Figures also go to var/bench/results.json (`dashboard.year.p95` / `.p50`,
params database, appointments, in_period, practitioners). `--quick` (or BENCH_QUICK=1) seeds 50,000.

    python benchmarks/bench_dashboard.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, create_engine, event, insert, text

from benchmarks import results
from benchmarks.bench_meeting_list import DATABASES, _percentile, _use_database
from benchmarks.seed_meetings import FIRST_NAMES, LAST_NAMES, _insert
from rxapp import db, migrate
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    Client,
    CreditKind,
    Practice,
    PractitionerProfile,
    Role,
    SmsCreditEntry,
    User,
)
from rxapp.services.permissions import Principal
from rxapp.services.practice.dashboard import Period, dashboard, period_of

TARGET_P95_MS = 200.0
PRACTITIONERS = 50
PER_DAY = 8
TZ = "America/New_York"


@dataclass(frozen=True)
class Size:
    appointments: int
    clients: int
    warmup: int
    runs: int


FULL = Size(appointments=1_000_000, clients=5_000, warmup=12, runs=60)
QUICK = Size(appointments=50_000, clients=500, warmup=2, runs=12)


@dataclass(frozen=True)
class Seeded:
    practice_id: int
    owner_id: int


def seed(conn: Connection, size: Size, rng: random.Random) -> Seeded:
    """One big practice and a small other one; the caller commits."""
    practice_id = _insert(conn, Practice(name="Bench Practice", timezone=TZ))
    other_id = _insert(conn, Practice(name="Other Practice", timezone=TZ))
    owner_id = _insert(conn, User(practice_id=practice_id, email="owner@bench.clinic", full_name="Olga Owner",
                                  role=Role.OWNER))
    desk_id = _insert(conn, User(practice_id=practice_id, email="desk@bench.clinic", full_name="Dee Desk",
                                 role=Role.STAFF))
    practitioners = [_insert(conn, User(practice_id=practice_id, email=f"dr{i}@bench.clinic",
                                        full_name=f"Dr. {FIRST_NAMES[i % 50]} {LAST_NAMES[i % 40]} {i}",
                                        role=Role.PRACTITIONER)) for i in range(PRACTITIONERS)]
    conn.execute(insert(PractitionerProfile.__table__), [  # type: ignore[attr-defined]
        PractitionerProfile(user_id=p, practice_id=practice_id, timezone=TZ, telehealth_enabled=True).model_dump()
        for p in practitioners])
    conn.execute(insert(AvailabilityBlock.__table__), [  # type: ignore[attr-defined]
        {"practice_id": practice_id, "practitioner_id": p, "weekday": d, "start_minute": begin, "end_minute": end,
         "mode": mode} for p in practitioners for d in range(5)
        for begin, end, mode in ((8 * 60, 12 * 60, "both"), (13 * 60, 18 * 60, "in_person"))])
    today = date.today()
    conn.execute(insert(AvailabilityOverride.__table__), [  # type: ignore[attr-defined]
        {"practice_id": practice_id, "practitioner_id": p, "on_date": today - timedelta(days=n * 29 + i % 7),
         "day_off": n % 2 == 0, "start_minute": 10 * 60, "end_minute": 14 * 60, "mode": "both"}
        for i, p in enumerate(practitioners) for n in range(-6, 14)])
    _copy(conn, User.__table__, (  # type: ignore[attr-defined]
        {**User(practice_id=practice_id, email="", full_name="", role=Role.CLIENT).model_dump(exclude={"id"}),
         "email": f"client{i}@bench.client", "full_name": f"Client {i}"} for i in range(0, size.clients, 3)))
    users = [r[0] for r in conn.execute(text("SELECT id FROM \"user\" WHERE practice_id = :p AND role = 'client' "
                                             "ORDER BY id"), {"p": practice_id})]
    started = datetime.now(UTC) - timedelta(days=3650)
    client_rows = (
        {**Client(practice_id=practice_id, full_name="").model_dump(exclude={"id"}),
         "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "email": f"client{i}@bench.client",
         "user_id": users[i // 3] if i % 3 == 0 else None,
         "created_at": started + timedelta(minutes=rng.randrange(3650 * 24 * 60))} for i in range(size.clients))
    _copy(conn, Client.__table__, client_rows)  # type: ignore[attr-defined]
    clients = [tuple(r) for r in conn.execute(text("SELECT id, user_id FROM client WHERE practice_id = :p"),
                                              {"p": practice_id})]
    working_days = -(-size.appointments // (PRACTITIONERS * PER_DAY))
    last = today + timedelta(days=182)
    days = sorted(d for d in (last - timedelta(days=n) for n in range(working_days * 7 // 5 + 7))
                  if d.weekday() < 5)[-working_days:]
    count = _copy(conn, Appointment.__table__,  # type: ignore[attr-defined]
                  _appointments(rng, practice_id, practitioners, clients, desk_id, days, size.appointments))
    _copy(conn, SmsCreditEntry.__table__, _texts(rng, practice_id, days, count // 2))  # type: ignore[attr-defined]
    other_user = _insert(conn, User(practice_id=other_id, email="dr@other.clinic", full_name="Dr. Other",
                                    role=Role.PRACTITIONER))
    other_client = _insert(conn, Client(practice_id=other_id, full_name="Other Client"))
    _copy(conn, Appointment.__table__,  # type: ignore[attr-defined]
          _appointments(rng, other_id, [other_user], [(other_client, None)], desk_id, days[-300:], 2000))
    conn.execute(text("SELECT setval(pg_get_serial_sequence('appointment', 'id'), max(id)) FROM appointment"))
    return Seeded(practice_id, owner_id)


def _appointments(rng: random.Random, practice_id: int, practitioners: list[int], clients: list[tuple[int, Any]],
                  desk_id: int, days: list[date], count: int) -> Iterator[dict[str, Any]]:
    template = Appointment(practice_id=practice_id, practitioner_id=0, client_id=0,
                           start_at=datetime.now(UTC)).model_dump(exclude={"id"})
    zone, now = ZoneInfo(TZ), datetime.now(UTC)
    n = 0
    for day in days:
        for practitioner in practitioners:
            for slot in range(PER_DAY):
                if n == count:
                    return
                n += 1
                client_id, client_user = rng.choice(clients)
                start = datetime(day.year, day.month, day.day, 8 + slot + (slot >= 4), 0, tzinfo=zone).astimezone(UTC)
                roll = rng.random()
                if roll < 0.08:
                    status = AppointmentStatus.CANCELLED
                    changed = start - timedelta(hours=rng.choice((2, 6, 12, 30, 72, 170)))
                elif start > now:
                    status, changed = AppointmentStatus.BOOKED, start - timedelta(days=3)
                else:
                    status = AppointmentStatus.NO_SHOW if roll < 0.12 else AppointmentStatus.COMPLETED
                    changed = start + timedelta(hours=1)
                telehealth = rng.random() < 0.4
                yield {**template, "practitioner_id": practitioner, "client_id": client_id, "start_at": start,
                       "duration_minutes": rng.choice((30, 50, 60)), "telehealth": telehealth,
                       "pos_code": "02" if telehealth else "11", "status": status.value,
                       "created_by_user_id": client_user if client_user and rng.random() < 0.75 else desk_id,
                       "created_at": start - timedelta(days=14), "updated_at": changed}


def _texts(rng: random.Random, practice_id: int, days: list[date], count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        day = days[n * len(days) // count]
        at = datetime(day.year, day.month, day.day, 14, rng.randrange(60), tzinfo=UTC) - timedelta(days=1)
        refund = n % 97 == 0
        yield {"practice_id": practice_id, "kind": (CreditKind.REFUND if refund else CreditKind.CHARGE).value,
               "amount": 1 if refund else -rng.choice((1, 1, 1, 2)), "notification_id": None,
               "note": "Reminder", "created_by_user_id": None, "created_at": at}


def _copy(conn: Connection, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """COPY the rows into `table`; returns how many."""
    first = next(rows, None)
    if first is None:
        return 0
    columns = list(first)
    written = 0
    with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in chain([first], rows):
            copy.write_row([_plain(row[c]) for c in columns])
            written += 1
    return written


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") and isinstance(value, str) else value


def prepare(url: str, size: Size) -> Seeded:
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        seeded = seed(conn, size, random.Random(28))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load
        conn.execute(text("CHECKPOINT"))  # the bulk load's writes done before timing, not during
    engine.dispose()
    print(f"  seeded {size.appointments:,} appointments in {time.perf_counter() - started:.1f} s", flush=True)
    _use_database(url)
    return seeded


def _queries(owner: Principal, period: Period) -> list[tuple[str, Any, float]]:
    """Each statement the dashboard runs, with its parameters and time (ms)."""
    seen: list[tuple[str, Any, float]] = []
    starts: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        starts.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        elapsed = (time.perf_counter() - starts.pop()) * 1000
        if statement.lstrip().upper().startswith("SELECT"):  # not the transaction's SET LOCAL
            seen.append((statement, parameters, elapsed))

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        dashboard(owner, period, None, TZ)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return seen


def _plan(statement: str, parameters: Any) -> str:
    with db.get_engine().connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
    names: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        label = node.get("Index Name") or (f"Seq Scan on {node['Relation Name']}"
                                           if node.get("Node Type") == "Seq Scan" else None)
        if label and label not in names:
            names.append(label)
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return ", ".join(names) or "(no table)"


def measure(seeded: Seeded, size: Size) -> dict[str, Any]:
    owner = Principal(seeded.owner_id, seeded.practice_id, Role.OWNER, "owner@bench.clinic", "Olga Owner")
    this_year = period_of("last_12_months", date.today())
    years = [Period(_months_back(this_year.first_day, n), _months_back(this_year.last_day.replace(day=1), n - 1)
                    - timedelta(days=1)) for n in range(12)]
    for n in range(size.warmup):
        dashboard(owner, years[n % len(years)], None, TZ)
    timings: list[float] = []
    for n in range(size.runs):
        started = time.perf_counter()
        dashboard(owner, years[n % len(years)], None, TZ)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    with db.get_engine().connect() as conn:
        in_period = conn.execute(text("SELECT count(*) FROM appointment WHERE practice_id = :p AND start_at >= :a "
                                      "AND start_at < :b"),
                                 {"p": seeded.practice_id, "a": this_year.first_day,
                                  "b": this_year.last_day + timedelta(days=1)}).scalar()
    queries = [(",".join(dict.fromkeys(re.findall(r'(?:FROM|JOIN) "?(\w+)', statement))), ms, _plan(statement, params))
               for statement, params, ms in _queries(owner, this_year)]
    found = {"p50": _percentile(timings, 50), "p95": _percentile(timings, 95), "in_period": in_period,
             "queries": queries}
    params = {"database": "postgresql", "appointments": size.appointments, "in_period": in_period,
              "practitioners": PRACTITIONERS}
    results.record("dashboard.year.p95", "ms", found["p95"], **params)
    results.record("dashboard.year.p50", "ms", found["p50"], **params)
    return found


def _months_back(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 appointments and a few runs")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    size = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    previous_url = os.environ.get("DATABASE_URL")
    try:
        print("postgres: migrating and seeding", flush=True)
        with DATABASES["postgres"]() as url:
            seeded = prepare(url, size)
            found = measure(seeded, size)
            _use_database(None)
    finally:
        _use_database(previous_url)
    verdict = "yes" if found["p95"] <= TARGET_P95_MS else "NO"
    print(f"\ndashboard, all {PRACTITIONERS} practitioners over a year ({found['in_period']:,} of "
          f"{size.appointments:,} appointments), {size.runs} runs after {size.warmup} warm-up runs:\n"
          f"  postgresql p50 {found['p50']:7.2f} ms  p95 {found['p95']:7.2f} ms  (p95 <= {TARGET_P95_MS:.0f} ms: "
          f"{verdict})\n  its queries (one run): ")
    for table, ms, plan in found["queries"]:
        print(f"    {table:<22} {ms:7.2f} ms  {plan}")
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
