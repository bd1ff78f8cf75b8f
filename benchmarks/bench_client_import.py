"""How fast a practice's client list is imported (services.clients.importing), on SQLite and PostgreSQL.

Writes a CSV of 10,000 clients the way a practice system exports it (a BOM, semicolons, accented names,
US mobile numbers to normalise, dates of birth, some notes), then times the dry run and the import
through the service, against a freshly migrated database with one practice and its front desk. The
target: the import (10,000 rows) in at most 30 s. Figures go to var/bench/results.json
(`client_import.dry_run` / `client_import.import`, seconds, params db and rows). `--quick` imports
1,000 rows.

    python benchmarks/bench_client_import.py [--quick] [--databases sqlite,postgres]
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

from benchmarks import results
from benchmarks.bench_meeting_list import DATABASES, _use_database
from rxapp import migrate
from rxapp.db import unit_of_work
from rxapp.models import Practice, Role, User
from rxapp.services.clients import importing
from rxapp.services.permissions import Principal

TARGET_SECONDS = 30.0
FIRST = ("Élodie", "Zoë", "Renée", "José", "Müller", "Ana", "Björn", "Chloé", "Amélie", "Łukasz", "Noah", "Mia")
LAST = ("Durand", "Müller", "Dupré", "García", "Øster", "Smith", "Nguyễn", "O'Brien", "Kowalski", "Rossi")


def csv_bytes(rows: int) -> bytes:
    pick = random.Random(7)
    lines = ["Legal first name;Legal last name;Email;Mobile Phone;DOB;Notes"]
    for n in range(rows):
        first, last = pick.choice(FIRST), pick.choice(LAST)
        lines.append(f"{first};{last};client{n}@import.example;(312) 555-{n % 10000:04d};"
                     f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d};{'Prefers mornings' if n % 3 else ''}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def run(url: str, name: str, rows: int) -> bool:
    migrate.upgrade(url)
    _use_database(url)
    with unit_of_work() as session:
        practice = Practice(name="Import Bench", timezone="America/Chicago", country="US")
        session.add(practice)
        session.flush()
        desk = User(practice_id=practice.id or 0, email="desk@import.example", full_name="Desk", role=Role.STAFF)
        session.add(desk)
        session.flush()
        principal = Principal(user_id=desk.id or 0, practice_id=practice.id or 0, role=Role.STAFF,
                              email=desk.email, full_name=desk.full_name)
    data = csv_bytes(rows)
    mapping = importing.guess_mapping(importing.read_sheet(data).headers)
    started = time.perf_counter()
    dry = importing.import_clients(principal, data, mapping)
    dry_seconds = time.perf_counter() - started
    started = time.perf_counter()
    done = importing.import_clients(principal, data, mapping, dry_run=False)
    seconds = time.perf_counter() - started
    ok = done.added == rows and seconds <= TARGET_SECONDS
    print(f"  {name}: {rows:,} rows, dry run {dry_seconds:.1f} s ({dry.added:,} to add), import {seconds:.1f} s "
          f"({done.added:,} added, {done.errors} with problems) {'<=' if ok else '>'} {TARGET_SECONDS:.0f} s")
    results.record("client_import.dry_run", "s", dry_seconds, db=name, rows=rows)
    results.record("client_import.import", "s", seconds, db=name, rows=rows)
    _use_database(None)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 rows")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    args = parser.parse_args(argv)
    rows = 1_000 if args.quick or os.environ.get("BENCH_QUICK") == "1" else 10_000
    print(f"Client import: {rows:,} rows from a CSV with a BOM, semicolons and accents")
    met = True
    for name in args.databases.split(","):
        with DATABASES[name]() as url:
            met = run(url, name, rows) and met
    results.save()
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
