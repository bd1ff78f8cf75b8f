"""How fast the Meetings page's query is on a large practice, on SQLite and on PostgreSQL.

Seeds one practice at two sizes, each into a freshly migrated SQLite file and a throwaway PostgreSQL
server: 100,000 meetings (10 practitioners, 2,000 clients) and 1,000,000 (100 practitioners, 20,000
clients). The practice grows by hiring, not by each practitioner working ten times as hard: at both
sizes a practitioner has 10,000 meetings over the same two years and four months (about twelve a
day, a full caseload) with 200 clients of about 50 sessions each, so a practitioner's own questions
can be compared across sizes while the owner's practice-wide ones face ten times the rows; statuses
keep their shares (1% need attention, so 10,000 at the larger size). The rows are bulk-loaded
(benchmarks/seed_meetings: COPY on PostgreSQL, executemany without journal or fsync on SQLite,
indexes built after the rows). PostgreSQL then gets the VACUUM ANALYZE that autovacuum gives a table
after a bulk load; SQLite gets no ANALYZE, as the app never runs it, so its planner works without
statistics there as it does in production.

Then times `list_meetings` itself, through the app's settings and engine, for the questions the page
asks (pages are read by keyset: a deep page is "the 20 after this row", reached here by walking the
pages first, untimed). Prints p50/p95 per query at each size side by side and, on PostgreSQL, the
indexes each query's plan uses at the larger size; the target is a p95 of at most 10 ms at
1,000,000 meetings. Times include the machine's other work: the load average is printed with them.
Figures also go to var/bench/results.json (`meeting_list.query.p95` / `.p50`, params db, meetings,
query; `meeting_list.seed.per_s`, params db, meetings). `--quick` (or BENCH_QUICK=1) seeds 5,000
meetings and runs much less; `--meetings` runs only the full sizes named.

    python benchmarks/bench_meeting_list.py [--quick] [--databases sqlite,postgres] [--meetings 1000000]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import create_engine, event, text

from benchmarks import results
from benchmarks.seed_meetings import SeededPractice, seed
from devtools import postgres
from rxapp import db, migrate
from rxapp.models import Role
from rxapp.services.permissions import Principal
from rxapp.services.telehealth.meeting_list import MeetingFilters, MeetingPage, list_meetings
from rxapp.settings import get_settings

TARGET_P95_MS = 10.0


@dataclass(frozen=True)
class Size:
    meetings: int
    clients: int
    practitioners: int
    warmup: int
    runs: int

    @property
    def label(self) -> str:
        """100k, 1M."""
        return f"{self.meetings // 1_000_000}M" if self.meetings % 1_000_000 == 0 else f"{self.meetings // 1000}k"


FULL = (Size(meetings=100_000, clients=2_000, practitioners=10, warmup=20, runs=200),
        Size(meetings=1_000_000, clients=20_000, practitioners=100, warmup=20, runs=200))
QUICK = (Size(meetings=5_000, clients=200, practitioners=10, warmup=2, runs=12),)


@dataclass(frozen=True)
class Result:
    database: str
    meetings: int
    query: str
    p50_ms: float
    p95_ms: float
    rows: int
    has_next: bool
    indexes: str = ""  # PostgreSQL: the indexes the plan of the page's query uses

    @property
    def meets_target(self) -> bool:
        return self.p95_ms <= TARGET_P95_MS


def queries(practice: SeededPractice) -> list[tuple[str, Principal, MeetingFilters, int]]:
    """The questions the Meetings page asks most, as (label, who asks, filters, pages to walk first)."""
    pid = practice.practice_id
    doctor = Principal(practice.practitioner_ids[0], pid, Role.PRACTITIONER, "dr0@bench.clinic", "Dr. Zero")
    owner = Principal(practice.owner_id, pid, Role.OWNER, "owner@bench.clinic", "Olga Owner")
    patient_words = practice.busiest_client_name.split()[0]
    return [
        ("practitioner: default view, page 1", doctor, MeetingFilters(), 0),
        ("practitioner: upcoming, page 1", doctor, MeetingFilters(period="upcoming"), 0),
        ("practitioner: newest first, page 1", doctor, MeetingFilters(newest_first=True), 0),
        ("practitioner: search 'anxiety' + scheduled", doctor, MeetingFilters(search="anxiety", status="scheduled"),
         0),
        ("practitioner: patient filter", doctor, MeetingFilters(client_id=practice.busiest_client_id), 0),
        ("practitioner: page 50", doctor, MeetingFilters(), 49),
        ("owner: practice-wide, page 1", owner, MeetingFilters(), 0),
        ("owner: needs attention", owner, MeetingFilters(status="needs_attention"), 0),
        ("owner: search 'sleep'", owner, MeetingFilters(search="sleep"), 0),
        (f"owner: search patient '{patient_words}'", owner, MeetingFilters(search=patient_words, newest_first=True),
         0),
        ("owner: search 2 words, needs attention", owner,
         MeetingFilters(search="panic review", status="needs_attention"), 0),
        ("owner: one practitioner, page 50", owner, MeetingFilters(practitioner_id=practice.practitioner_ids[3]), 49),
        ("owner: page 50, previous", owner, MeetingFilters(), -50),
    ]


def _walk(principal: Principal, filters: MeetingFilters, pages: int) -> MeetingFilters:
    """The filters of the page `pages` pages on (negative: that page, then one back), as the Next
    and Previous buttons get there."""
    for _ in range(abs(pages)):
        page = list_meetings(principal, filters)
        if not page.has_next:
            break
        filters = replace(filters, after=page.next_cursor, before="")
    if pages < 0:
        filters = replace(filters, after="", before=list_meetings(principal, filters).previous_cursor)
    return filters


@contextmanager
def _last_statement() -> Iterator[list[tuple[str, Any]]]:
    """Capture the SQL statements the app's engine runs (for EXPLAIN)."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _plan_indexes(statement: str, parameters: Any) -> str:
    """The indexes PostgreSQL's plan of `statement` uses, comma-separated (what EXPLAIN says)."""
    with db.get_engine().connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
    names: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node and node["Index Name"] not in names:
            names.append(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return ", ".join(names) or "(none: sequential scan)"


def measure(database: str, practice: SeededPractice, size: Size) -> list[Result]:
    found = []
    for label, principal, asked, walk in queries(practice):
        filters = _walk(principal, asked, walk)
        for _ in range(size.warmup):
            list_meetings(principal, filters)
        timings: list[float] = []
        page: MeetingPage | None = None
        for _ in range(size.runs):
            started = time.perf_counter()
            page = list_meetings(principal, filters)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        assert page is not None
        indexes = ""
        if database == "postgres":
            with _last_statement() as seen:
                list_meetings(principal, filters)
            page_query = next(((sql, params) for sql, params in seen if "ORDER BY" in sql), None)
            indexes = _plan_indexes(*page_query) if page_query else ""
        result = Result(database, size.meetings, label, _percentile(timings, 50), _percentile(timings, 95),
                        len(page.rows), page.has_next, indexes)
        found.append(result)
        params = {"db": database, "meetings": size.meetings, "query": label}
        results.record("meeting_list.query.p95", "ms", result.p95_ms, **params)
        results.record("meeting_list.query.p50", "ms", result.p50_ms, **params)
    return found


def _percentile(sorted_values: list[float], pct: int) -> float:
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
        yield f"sqlite:///{folder}/bench.db"


@contextmanager
def postgres_database() -> Iterator[str]:
    with postgres.temporary_server() as server:
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        yield f"{server}/bench"


DATABASES: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "sqlite": sqlite_database, "postgres": postgres_database}


@dataclass(frozen=True)
class Seeding:
    database: str
    meetings: int
    load_s: float  # rows and indexes
    vacuum_s: float  # PostgreSQL's VACUUM ANALYZE (0 on SQLite)


def prepare(database: str, url: str, size: Size) -> tuple[SeededPractice, Seeding]:
    """Migrate and seed the database at `url`, then point the app's settings at it."""
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    practice = seed(engine, meetings=size.meetings, clients=size.clients, practitioners=size.practitioners)
    loaded = time.perf_counter()
    vacuum_s = 0.0
    if engine.dialect.name == "postgresql":
        # What autovacuum does shortly after a bulk load in production.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        vacuum_s = time.perf_counter() - loaded
    engine.dispose()
    seeding = Seeding(database, size.meetings, loaded - started, vacuum_s)
    print(f"  seeded {size.meetings:,} meetings in {seeding.load_s:.1f} s"
          + (f", VACUUM ANALYZE {seeding.vacuum_s:.1f} s" if seeding.vacuum_s else ""), flush=True)
    results.record("meeting_list.seed.per_s", "per_s", size.meetings / seeding.load_s, db=database,
                   meetings=size.meetings)
    _use_database(url)
    return practice, seeding


def _use_database(url: str | None) -> None:
    """Point the app at `url` (None: back to the environment's own), forgetting cached settings."""
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    if url is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = url
    db.get_engine.cache_clear()
    get_settings.cache_clear()


def print_table(found: list[Result], sizes: tuple[Size, ...]) -> None:
    """One line per database and query: p50/p95 at each size side by side; rows, whether there is a
    next page, the target and the plan's indexes at the largest size."""
    by_key = {(r.database, r.query, r.meetings): r for r in found}
    largest = sizes[-1]
    headers = ("database", "query", *(f"p{pct} ms {s.label}" for s in sizes for pct in (50, 95)), "rows", "more",
               f"p95 <= {TARGET_P95_MS:.0f} ms @{largest.label}", "indexes used (PostgreSQL plan)")
    cells = []
    for database, query in dict.fromkeys((r.database, r.query) for r in found):
        at_size = [by_key[database, query, s.meetings] for s in sizes]
        top = at_size[-1]
        cells.append((database, query, *(f"{ms:.2f}" for r in at_size for ms in (r.p50_ms, r.p95_ms)),
                      str(top.rows), "yes" if top.has_next else "no", "yes" if top.meets_target else "NO",
                      top.indexes))
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for line in (headers, tuple("-" * w for w in widths), *cells):
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (0 unless a database could not be set up)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few thousand rows and a few runs")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--meetings", default="", help="comma-separated full sizes to run (default: all)")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    if args.meetings:
        sizes = tuple(s for s in sizes if str(s.meetings) in args.meetings.split(","))
    previous_url = os.environ.get("DATABASE_URL")
    found: list[Result] = []
    seedings: list[Seeding] = []
    try:
        for name in args.databases.split(","):
            for size in sizes:
                print(f"{name}: migrating and seeding {size.meetings:,} meetings", flush=True)
                with DATABASES[name]() as url:
                    practice, seeding = prepare(name, url, size)
                    seedings.append(seeding)
                    found.extend(measure(name, practice, size))
                    _use_database(None)
    finally:
        _use_database(previous_url)
    print("\nseeding (rows and indexes; PostgreSQL then VACUUM ANALYZE):")
    for s in seedings:
        print(f"  {s.database:<8}  {s.meetings:>9,} meetings  {s.load_s:6.1f} s  ({s.meetings / s.load_s:,.0f} per s)"
              + (f"  + VACUUM ANALYZE {s.vacuum_s:.1f} s" if s.vacuum_s else ""))
    print(f"\nlist_meetings, {' and '.join(f'{s.meetings:,}' for s in sizes)} meetings in the practice, "
          f"{sizes[-1].runs} runs per query after {sizes[-1].warmup} warm-up runs "
          f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
    print_table(found, sizes)
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
