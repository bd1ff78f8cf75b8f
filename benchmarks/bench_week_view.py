"""How fast the Calendar page's week view is for 20 practitioners in a practice with a million
appointments, on SQLite and on PostgreSQL.

Seeds one practice (20 practitioners, 5,000 clients, 1,000,000 appointments: about eight a working day
for each practitioner over years, a few per cent cancelled and telehealth ones among them) plus a
small other practice, in bulk (executemany on SQLite, COPY on PostgreSQL), with the Zoom meeting
row of each telehealth one, then times `services.scheduling.calendar.week_view` itself, through the
app's settings and engine: the week of all 20 practitioners, for different weeks in turn. Prints
p50/p95 and the indexes each database's plan uses (EXPLAIN); the target is a p95 of at most 50 ms.
Figures also go to var/bench/results.json (`week_view.p95` / `.p50`, params db, appointments,
practitioners). `--quick` (or BENCH_QUICK=1) seeds 50,000 appointments and runs less.

    python benchmarks/bench_week_view.py [--quick] [--databases sqlite,postgres]
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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, create_engine, event, insert, text

from benchmarks import results
from benchmarks.bench_meeting_list import DATABASES, _percentile, _use_database
from benchmarks.seed_meetings import FIRST_NAMES, LAST_NAMES, _insert
from rxapp import db, migrate
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Meeting,
    Practice,
    PractitionerProfile,
    Role,
    SyncState,
    User,
)
from rxapp.services.permissions import Principal
from rxapp.services.scheduling.calendar import week_view

TARGET_P95_MS = 50.0
PRACTITIONERS = 20
TZ = "America/New_York"
_CHUNK = 10_000


@dataclass(frozen=True)
class Size:
    appointments: int
    clients: int
    warmup: int
    runs: int


FULL = Size(appointments=1_000_000, clients=5_000, warmup=10, runs=200)
QUICK = Size(appointments=50_000, clients=500, warmup=3, runs=40)


@dataclass(frozen=True)
class Seeded:
    practice_id: int
    owner_id: int
    practitioner_ids: list[int]
    first_monday: date
    weeks: int


def seed(conn: Connection, size: Size, rng: random.Random) -> Seeded:
    """One busy practice and a small other one; the caller commits."""
    practice_id = _insert(conn, Practice(name="Bench Practice", timezone=TZ))
    other_id = _insert(conn, Practice(name="Other Practice"))
    owner_id = _insert(conn, User(practice_id=practice_id, email="owner@bench.clinic", full_name="Olga Owner",
                                  role=Role.OWNER))
    practitioners = [_insert(conn, User(practice_id=practice_id, email=f"dr{i}@bench.clinic",
                                        full_name=f"Dr. {FIRST_NAMES[i]} {LAST_NAMES[i]}", role=Role.PRACTITIONER))
                     for i in range(PRACTITIONERS)]
    conn.execute(insert(PractitionerProfile.__table__), [
        PractitionerProfile(user_id=p, practice_id=practice_id, timezone=TZ, telehealth_enabled=True).model_dump()
        for p in practitioners])
    conn.execute(insert(Client.__table__), [
        Client(practice_id=practice_id, full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
               email=f"client{i}@bench.client").model_dump(exclude={"id"}) for i in range(size.clients)])
    client_ids = [r[0] for r in conn.execute(text("SELECT id FROM client WHERE practice_id = :p"),
                                             {"p": practice_id}).all()]
    # Eight visits a working day per practitioner, the days ending about a year from now.
    per_day = 8
    working_days = -(-size.appointments // (PRACTITIONERS * per_day))
    last = date.today() + timedelta(days=365)
    days = [d for d in (last - timedelta(days=n) for n in range(working_days * 7 // 5 + 7)) if d.weekday() < 5]
    days = sorted(days[:working_days])
    rows = _appointments(rng, practice_id, practitioners, client_ids, days, per_day, size.appointments, first_id=1)
    telehealth = _bulk_insert(conn, rows)
    other_user = _insert(conn, User(practice_id=other_id, email="dr@other.clinic", full_name="Dr. Other",
                                    role=Role.PRACTITIONER))
    other_client = _insert(conn, Client(practice_id=other_id, full_name="Other Client"))
    telehealth += _bulk_insert(conn, _appointments(rng, other_id, [other_user], [other_client], days[-200:], per_day,
                                                   1600, first_id=size.appointments + 1))
    _bulk_insert(conn, _meetings(telehealth), Meeting.__table__)  # type: ignore[attr-defined]
    if conn.dialect.name == "postgresql":  # ids were given: the next booking continues after them
        conn.execute(text("SELECT setval(pg_get_serial_sequence('appointment', 'id'), max(id)) FROM appointment"))
    mondays = [d for d in days if d.weekday() == 0]
    return Seeded(practice_id, owner_id, practitioners, mondays[len(mondays) // 2], min(26, len(mondays) // 2))


def _appointments(rng: random.Random, practice_id: int, practitioners: list[int], clients: list[int],
                  days: list[date], per_day: int, count: int, first_id: int) -> Iterator[dict[str, Any]]:
    template = Appointment(practice_id=practice_id, practitioner_id=practitioners[0], client_id=clients[0],
                           start_at=datetime.now(UTC)).model_dump(exclude={"id"})
    n = 0
    for day in days:
        for practitioner in practitioners:
            for slot in range(per_day):
                if n == count:
                    return
                n += 1
                telehealth = rng.random() < 0.4
                roll = rng.random()
                status = AppointmentStatus.CANCELLED if roll < 0.05 else AppointmentStatus.BOOKED
                # 08:00 to 17:00 New York time (13:00 UTC onwards), on the hour.
                start = datetime(day.year, day.month, day.day, 13 + slot + (slot >= 4), 0, tzinfo=UTC)
                yield {**template, "id": first_id + n - 1, "practitioner_id": practitioner,
                       "client_id": rng.choice(clients),
                       "start_at": start, "duration_minutes": rng.choice((30, 50, 60)), "telehealth": telehealth,
                       "pos_code": "02" if telehealth else "11", "status": status.value}


def _bulk_insert(conn: Connection, rows: Iterator[dict[str, Any]], table: Any = None) -> list[tuple[int, datetime]]:
    """executemany in chunks on SQLite; COPY on PostgreSQL. Returns (id, start) of the telehealth rows."""
    table = Appointment.__table__ if table is None else table  # type: ignore[attr-defined]
    telehealth: list[tuple[int, datetime]] = []

    def noted(source: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in source:
            if row.get("telehealth"):
                telehealth.append((row["id"], row["start_at"]))
            yield row

    rows = noted(rows)
    if conn.dialect.name == "postgresql":
        first = next(rows, None)
        if first is None:
            return telehealth
        columns = list(first)
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in _chain(first, rows):
                copy.write_row([_plain(row[c]) for c in columns])
        return telehealth
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _CHUNK:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
    return telehealth


def _meetings(telehealth: list[tuple[int, datetime]]) -> Iterator[dict[str, Any]]:
    """The Zoom side of each telehealth appointment (same id): most synced, a few pending."""
    template = Meeting(id=0).model_dump()
    for appointment_id, start in telehealth:
        synced = appointment_id % 29 != 0
        yield {**template, "id": appointment_id, "sync_state": (SyncState.SYNCED if synced
                                                                else SyncState.PENDING_CREATE).value,
               "zoom_meeting_id": 80_000_000_000 + appointment_id if synced else None,
               "join_url_encrypted": "gAAAAA" + "x" * 200 if synced else None,
               "passcode_encrypted": "gAAAAA" + "y" * 94 if synced else None,
               "created_at": start - timedelta(days=14), "updated_at": start - timedelta(days=1)}


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") and isinstance(value, str) else value


def prepare(url: str, size: Size) -> Seeded:
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        seeded = seed(conn, size, random.Random(12))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # What autovacuum / a periodic ANALYZE does after a bulk load in production.
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    print(f"  seeded {size.appointments:,} appointments in {time.perf_counter() - started:.1f} s", flush=True)
    _use_database(url)
    return seeded


def _plan(statement: str, parameters: Any) -> str:
    """The indexes (or scans) the database's plan of `statement` uses."""
    engine = db.get_engine()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
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
            return ", ".join(names)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "; ".join(str(r[-1]) for r in rows)


def measure(name: str, seeded: Seeded, size: Size) -> dict[str, Any]:
    owner = Principal(seeded.owner_id, seeded.practice_id, Role.OWNER, "owner@bench.clinic", "Olga Owner")
    weeks = [seeded.first_monday + timedelta(weeks=n) for n in range(seeded.weeks)]
    for n in range(size.warmup):
        week_view(owner, weeks[n % len(weeks)], 7, seeded.practitioner_ids, TZ)
    timings: list[float] = []
    shown = 0
    for n in range(size.runs):
        started = time.perf_counter()
        view = week_view(owner, weeks[n % len(weeks)], 7, seeded.practitioner_ids, TZ)
        timings.append((time.perf_counter() - started) * 1000)
        shown = max(shown, len(view.appointments))
    timings.sort()
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(db.get_engine(), "before_cursor_execute", capture)
    try:
        week_view(owner, weeks[0], 7, seeded.practitioner_ids, TZ)
    finally:
        event.remove(db.get_engine(), "before_cursor_execute", capture)
    query = next((s, p) for s, p in seen if "FROM appointment" in s)
    found = {"database": name, "p50": _percentile(timings, 50), "p95": _percentile(timings, 95), "rows": shown,
             "plan": _plan(*query)}
    params = {"db": name, "appointments": size.appointments, "practitioners": PRACTITIONERS}
    results.record("week_view.p95", "ms", found["p95"], **params)
    results.record("week_view.p50", "ms", found["p50"], **params)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 appointments and a few runs")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    size = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    previous_url = os.environ.get("DATABASE_URL")
    found: list[dict[str, Any]] = []
    try:
        for name in args.databases.split(","):
            print(f"{name}: migrating and seeding", flush=True)
            with DATABASES[name]() as url:
                seeded = prepare(url, size)
                found.append(measure(name, seeded, size))
                _use_database(None)
    finally:
        _use_database(previous_url)
    print(f"\nweek_view: {PRACTITIONERS} practitioners x 7 days, {size.appointments:,} appointments in the "
          f"practice, {size.runs} runs over different weeks after {size.warmup} warm-up runs:")
    for f in found:
        verdict = "yes" if f["p95"] <= TARGET_P95_MS else "NO"
        print(f"  {f['database']:<9} p50 {f['p50']:7.2f} ms  p95 {f['p95']:7.2f} ms  (p95 <= {TARGET_P95_MS:.0f} ms: "
              f"{verdict})  {f['rows']} appointments shown\n            plan: {f['plan']}")
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
