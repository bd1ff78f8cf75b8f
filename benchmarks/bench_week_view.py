"""How fast the Calendar page's week view is for 20 practitioners, and how its cost grows with the
practice's history, on SQLite and on PostgreSQL.

Seeds one practice twice, into a freshly migrated SQLite file and a throwaway PostgreSQL server
each time: 100,000 appointments (500 clients) and 1,000,000 (5,000 clients). At both sizes the
20 practitioners see about eight clients a working day (a few per cent cancelled, telehealth ones
with their Zoom meeting row), the days running to 13 weeks ahead; the larger practice has ten times
the history, so the same weeks hold the same load and any growth is the cost of the rows around them.
A small other practice shares the tables. Rows load the way a restore does: the secondary indexes of
`appointment` and `meeting` dropped, the rows streamed in (PostgreSQL: COPY; SQLite: executemany in
one transaction, without fsync or an on-disk journal on the loading connection), the indexes built
again; then ANALYZE (PostgreSQL: VACUUM ANALYZE), as after a bulk load in production.

Then times `services.scheduling.calendar.week_view` itself, through the app's settings and engine:
the week of all 20 practitioners, for the 26 weeks around today in turn. Prints the seeding times,
then p50/p95 at each size side by side with the growth of the p95, and the indexes each database's
plan uses (EXPLAIN) at the largest size; the target is a p95 of at most 50 ms at 1,000,000.
Figures also go to var/bench/results.json (`week_view.p95` / `.p50`, params db, appointments,
practitioners; `week_view.seed.per_s`, params db, appointments). `--quick` (or BENCH_QUICK=1) seeds
2,000 and 20,000 appointments and runs less.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import Column, Connection, Table, create_engine, event, insert, text
from sqlmodel import SQLModel

from benchmarks import results
from benchmarks.bench_meeting_list import DATABASES, _percentile, _use_database
from benchmarks.seed_meetings import FIRST_NAMES, LAST_NAMES, _insert, bulk_loading, load_rows
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
PER_DAY = 8  # visits a working day for each practitioner
WEEKS = 26
TZ = "America/New_York"
_BATCH = 50_000  # appointments per COPY / executemany
_APPOINTMENTS: Table = Appointment.__table__  # type: ignore[attr-defined]
_MEETINGS: Table = Meeting.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Size:
    appointments: int
    clients: int
    warmup: int
    runs: int

    @property
    def label(self) -> str:
        """50k, 1M."""
        return f"{self.appointments // 1_000_000}M" if self.appointments % 1_000_000 == 0 \
            else f"{self.appointments // 1000}k"


FULL = (Size(appointments=100_000, clients=500, warmup=10, runs=200),
        Size(appointments=1_000_000, clients=5_000, warmup=10, runs=200))
QUICK = (Size(appointments=2_000, clients=20, warmup=3, runs=30),
         Size(appointments=20_000, clients=200, warmup=3, runs=30))


@dataclass(frozen=True)
class Seeded:
    practice_id: int
    owner_id: int
    practitioner_ids: list[int]
    weeks: list[date]  # the Mondays measured


@dataclass(frozen=True)
class Seeding:
    database: str
    appointments: int
    load_s: float  # rows and indexes
    analyze_s: float  # ANALYZE (PostgreSQL: VACUUM ANALYZE)


@dataclass(frozen=True)
class Result:
    database: str
    appointments: int
    p50_ms: float
    p95_ms: float
    shown: int  # the most appointments one week showed
    plan: str


def seed(conn: Connection, size: Size, rng: random.Random) -> Seeded:
    """One busy practice and a small other one; the caller commits."""
    practice_id = _insert(conn, Practice(name="Bench Practice", timezone=TZ))
    other_id = _insert(conn, Practice(name="Other Practice"))
    # Someone who chose a password (never checked here): the week view has no column for one still invited.
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$bench"
    owner_id = _insert(conn, User(practice_id=practice_id, email="owner@bench.clinic", full_name="Olga Owner",
                                  role=Role.OWNER, password_hash=password_hash))
    practitioners = [_insert(conn, User(practice_id=practice_id, email=f"dr{i}@bench.clinic",
                                        full_name=f"Dr. {FIRST_NAMES[i]} {LAST_NAMES[i]}", role=Role.PRACTITIONER,
                                        password_hash=password_hash))
                     for i in range(PRACTITIONERS)]
    conn.execute(insert(PractitionerProfile.__table__), [
        PractitionerProfile(user_id=p, practice_id=practice_id, timezone=TZ, telehealth_enabled=True).model_dump()
        for p in practitioners])
    client = Client(practice_id=practice_id, full_name="").model_dump(exclude={"id"})
    conn.execute(insert(Client.__table__), [
        {**client, "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
         "email": f"client{i}@bench.client"} for i in range(size.clients)])
    client_ids = [r[0] for r in conn.execute(text("SELECT id FROM client WHERE practice_id = :p"),
                                             {"p": practice_id}).all()]
    working_days = -(-size.appointments // (PRACTITIONERS * PER_DAY))
    last = date.today() + timedelta(weeks=13)
    days = [d for d in (last - timedelta(days=n) for n in range(working_days * 7 // 5 + 7)) if d.weekday() < 5]
    days = sorted(days[:working_days])
    visits = _Visits(conn, rng)
    visits.load(practice_id, practitioners, client_ids, days, size.appointments)
    other_user = _insert(conn, User(practice_id=other_id, email="dr@other.clinic", full_name="Dr. Other",
                                    role=Role.PRACTITIONER, password_hash=password_hash))
    other_client = _insert(conn, Client(practice_id=other_id, full_name="Other Client"))
    visits.load(other_id, [other_user], [other_client], days[-200:], 1600)
    # The 26 weeks around today, or as many full weeks as a small practice has.
    mondays = [d for d in days if d.weekday() == 0][:-1]
    return Seeded(practice_id, owner_id, practitioners, mondays[-WEEKS:])


class _Visits:
    """Appointments and the Zoom meeting row of each telehealth one (same id), generated and loaded in
    batches as the driver takes them (values bound once per distinct value, not per row)."""

    _APPOINTMENT = ("id", "practitioner_id", "client_id", "start_at", "duration_minutes", "telehealth", "pos_code",
                    "status", "sync_flag")
    _MEETING = ("id", "sync_state", "zoom_meeting_id", "join_url_encrypted", "passcode_encrypted", "created_at",
                "updated_at")

    def __init__(self, conn: Connection, rng: random.Random) -> None:
        self.conn, self.rng = conn, rng
        self.next_id = (conn.execute(text("SELECT max(id) FROM appointment")).scalar() or 0) + 1
        self.stamp = cache(_binder(conn, _APPOINTMENTS.c.start_at))
        self.flag = _binder(conn, _APPOINTMENTS.c.telehealth)

    def load(self, practice_id: int, practitioners: list[int], clients: list[int], days: list[date],
             count: int) -> None:
        appointment = Appointment(practice_id=practice_id, practitioner_id=practitioners[0], client_id=clients[0],
                                  start_at=datetime.now(UTC), timezone=TZ)
        appointment_columns, appointment_rest = self._columns(_APPOINTMENTS, appointment, self._APPOINTMENT)
        meeting_columns, meeting_rest = self._columns(_MEETINGS, Meeting(id=0), self._MEETING)
        rows = self._rows(practitioners, clients, days, count)
        while batch := list(islice(rows, _BATCH)):
            load_rows(self.conn, _APPOINTMENTS, appointment_columns, [a + appointment_rest for a, _ in batch])
            load_rows(self.conn, _MEETINGS, meeting_columns, [m + meeting_rest for _, m in batch if m is not None])

    def _columns(self, table: Table, template: SQLModel, varying: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
        """All the table's columns, the varying ones first, and the others' values (the template's) bound once."""
        values = template.model_dump()
        rest = [c for c in values if c not in varying]
        bound = (_binder(self.conn, table.c[c])(values[c].value if isinstance(values[c], Enum) else values[c])
                 for c in rest)
        return [*varying, *rest], tuple(bound)

    def _rows(self, practitioners: list[int], clients: list[int], days: list[date],
              count: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
        rng, stamp, flag = self.rng, self.stamp, self.flag
        booked, cancelled = AppointmentStatus.BOOKED.value, AppointmentStatus.CANCELLED.value
        synced, pending = SyncState.SYNCED.value, SyncState.PENDING_CREATE.value
        join_url, passcode = "gAAAAA" + "x" * 200, "gAAAAA" + "y" * 94  # as long as encrypted ones
        n = 0
        for day in days:
            for practitioner in practitioners:
                for slot in range(PER_DAY):
                    if n == count:
                        return
                    n += 1
                    visit_id, self.next_id = self.next_id, self.next_id + 1
                    telehealth = rng.random() < 0.4
                    status = cancelled if rng.random() < 0.05 else booked
                    # 08:00 to 17:00 New York time (13:00 UTC onwards), on the hour, lunch at noon.
                    start = datetime(day.year, day.month, day.day, 13 + slot + (slot >= 4), 0, tzinfo=UTC)
                    done = visit_id % 29 != 0  # a telehealth one: most synced, a few still waiting for Zoom
                    appointment = (visit_id, practitioner, rng.choice(clients), stamp(start),
                                   rng.choice((30, 50, 60)), flag(telehealth), "02" if telehealth else "11", status,
                                   None if done or not telehealth else pending)
                    meeting = None
                    if telehealth:
                        meeting = (visit_id, synced if done else pending, 80_000_000_000 + visit_id if done else None,
                                   join_url if done else None, passcode if done else None,
                                   stamp(start - timedelta(days=14)), stamp(start - timedelta(days=1)))
                    yield appointment, meeting


def _binder(conn: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """The value as this database's driver is given it (SQLite: UTC datetimes as SQLAlchemy's text)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process or (lambda value: value)


def prepare(database: str, url: str, size: Size) -> tuple[Seeded, Seeding]:
    """Migrate and seed the database at `url`, then point the app's settings at it."""
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    with bulk_loading(engine) as conn:
        seeded = seed(conn, size, random.Random(12))
    loaded = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    seeding = Seeding(database, size.appointments, loaded - started, time.perf_counter() - loaded)
    engine.dispose()
    print(f"  seeded {size.appointments:,} appointments in {seeding.load_s:.1f} s "
          f"(+ ANALYZE {seeding.analyze_s:.1f} s)", flush=True)
    results.record("week_view.seed.per_s", "per_s", size.appointments / seeding.load_s, db=database,
                   appointments=size.appointments)
    _use_database(url)
    return seeded, seeding


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


def measure(database: str, seeded: Seeded, size: Size) -> Result:
    owner = Principal(seeded.owner_id, seeded.practice_id, Role.OWNER, "owner@bench.clinic", "Olga Owner")
    weeks = seeded.weeks
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
    result = Result(database, size.appointments, _percentile(timings, 50), _percentile(timings, 95), shown,
                    _plan(*query))
    params = {"db": database, "appointments": size.appointments, "practitioners": PRACTITIONERS}
    results.record("week_view.p95", "ms", result.p95_ms, **params)
    results.record("week_view.p50", "ms", result.p50_ms, **params)
    return result


def print_table(found: list[Result], sizes: tuple[Size, ...]) -> None:
    """One line per database: p50/p95 at each size side by side, how much the p95 grew from the
    smallest size to the largest, the appointments a week showed and the target at the largest."""
    by_key = {(r.database, r.appointments): r for r in found}
    smallest, largest = sizes[0], sizes[-1]
    headers = ("database", *(f"p{pct} ms {s.label}" for s in sizes for pct in (50, 95)),
               f"p95 {largest.label}/{smallest.label}", "shown", f"p95 <= {TARGET_P95_MS:.0f} ms @{largest.label}")
    cells = []
    for database in dict.fromkeys(r.database for r in found):
        at_size = [by_key[database, s.appointments] for s in sizes if (database, s.appointments) in by_key]
        first, top = at_size[0], at_size[-1]
        cells.append((database, *(f"{ms:.2f}" for r in at_size for ms in (r.p50_ms, r.p95_ms)),
                      f"{top.p95_ms / first.p95_ms:.2f}x", str(top.shown),
                      "yes" if top.p95_ms <= TARGET_P95_MS else "NO"))
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for line in (headers, tuple("-" * w for w in widths), *cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths,
                                                                                               strict=True))))
    for database in dict.fromkeys(r.database for r in found):
        print(f"  {database} plan @{largest.label}: {by_key[database, largest.appointments].plan}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 and 20,000 appointments and a few runs")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    previous_url = os.environ.get("DATABASE_URL")
    found: list[Result] = []
    seedings: list[Seeding] = []
    try:
        for name in args.databases.split(","):
            for size in sizes:
                print(f"{name}: migrating and seeding {size.appointments:,} appointments", flush=True)
                with DATABASES[name]() as url:
                    seeded, seeding = prepare(name, url, size)
                    seedings.append(seeding)
                    found.append(measure(name, seeded, size))
                    _use_database(None)
    finally:
        _use_database(previous_url)
    print("\nseeding (rows and indexes, then ANALYZE; PostgreSQL VACUUM ANALYZE):")
    for s in seedings:
        print(f"  {s.database:<9} {s.appointments:>9,} appointments  {s.load_s:6.1f} s  "
              f"({s.appointments / s.load_s:,.0f} per s)  + ANALYZE {s.analyze_s:.1f} s")
    print(f"\nweek_view: {PRACTITIONERS} practitioners x 7 days, {' and '.join(f'{s.appointments:,}' for s in sizes)} "
          f"appointments in the practice, {sizes[-1].runs} runs over up to {WEEKS} weeks around today after "
          f"{sizes[-1].warmup} warm-up runs:")
    print_table(found, sizes)
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
