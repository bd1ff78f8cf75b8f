"""A realistic, large practice for the meeting-list benchmark, bulk-loaded.

One practice with an owner and practitioners sharing the meetings evenly, each with their own
caseload of clients; two years of past sessions and four months ahead, with the statuses and sync
states a live practice has; plus a small second practice whose meetings must never show up.

The meetings load the way a restore does: the secondary indexes of `appointment` and `meeting` are
dropped, the rows stream in (PostgreSQL: COPY; SQLite: executemany in one transaction with neither
fsync nor an on-disk journal, set on the loading connection only), and the indexes are built again
from their own definitions. A million meetings load in about a minute on either database.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import islice, permutations, product
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, text
from sqlmodel import SQLModel

from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, Practice, Role, SyncState, User
from rxapp.models.scheduling import sync_flag
from rxapp.text import fold

PRACTITIONERS = 10
_BATCH = 50_000  # visits per COPY / executemany (tens of MB of rows in memory)

FIRST_NAMES = ("Alex", "Sam", "Jo", "Maria", "Liam", "Noah", "Emma", "Olivia", "Ava", "Mia", "Lucas", "Ethan",
               "Chloe", "Zoe", "Aisha", "Omar", "Priya", "Ravi", "Mei", "Hiro", "Sofia", "Mateo", "Ines", "Leon",
               "Freya", "Ingrid", "Kwame", "Amara", "Nia", "Tariq", "Yusuf", "Elena", "Ivan", "Anya", "Diego",
               "Lucia", "Hannah", "Jonas", "Clara", "Felix", "Nora", "Oscar", "Ruby", "Theo", "Isla", "Jack",
               "Grace", "Henry", "Lily", "Max")
LAST_NAMES = ("Rivera", "Taylor", "Kim", "Okafor", "Smith", "Nguyen", "Garcia", "Müller", "Rossi", "Silva",
              "Kowalski", "Dubois", "Jensen", "O'Brien", "Patel", "Chen", "Haddad", "Novak", "Larsen", "Costa",
              "Ibrahim", "Tanaka", "Schmidt", "Moreau", "Andersson", "Fischer", "Walsh", "Mensah", "Cohen", "Lopez",
              "Brown", "Wilson", "Martin", "Clarke", "Evans", "Hughes", "Turner", "Baker", "Price", "Reid")
TOPICS = ("Initial assessment", "Follow-up session", "CBT session", "Anxiety follow-up", "Depression review",
          "Couples therapy", "Family session", "Medication review", "Speech therapy", "Occupational therapy review",
          "Physiotherapy check-in", "Dietetics consultation", "Sleep hygiene coaching", "Trauma-focused therapy",
          "Mindfulness practice", "Progress review", "Discharge planning", "Parent coaching", "Grief counselling",
          "EMDR session")
SENTENCES = ("Review homework from last week.", "Discuss sleep diary and triggers.", "Check in on panic symptoms.",
             "Continue exposure hierarchy.", "Talk through the work situation.", "Set goals for the next month.",
             "Go over the breathing exercises.", "Parent joins for the last 15 minutes.",
             "Review medication side effects with the GP letter.", "Practise the relaxation script.",
             "Bring the completed questionnaire.", "Plan for the holiday period.", "Revisit the safety plan.",
             "Swallowing exercises and diet texture review.", "Home exercise programme for the knee.",
             "Follow up on the referral to the psychiatrist.", "Insurance pre-authorisation still pending.",
             "Use the portal link; the client prefers video on.", "")
CANCEL_REASONS = ("Client unwell", "Rescheduled at client's request", "Practitioner unavailable", "Weather")

# The columns each visit fills; the others keep their defaults (NULL, or the server default).
_APPOINTMENT_COLUMNS = ("id", "practice_id", "practitioner_id", "client_id", "start_at", "duration_minutes",
                        "timezone", "telehealth", "pos_code", "status", "cancel_reason", "topic", "notes",
                        "search_text", "sync_flag", "created_at", "updated_at")
_MEETING_COLUMNS = ("id", "zoom_meeting_id", "zoom_host_user_id", "join_url_encrypted", "passcode_encrypted",
                    "sync_state", "sync_attempts", "last_sync_error", "created_at", "updated_at")
# Encrypted values are this long; they make the rows as wide as real ones.
_JOIN_URL, _PASSCODE = "gAAAAA" + "x" * 200, "gAAAAA" + "y" * 94


@dataclass(frozen=True)
class SeededPractice:
    """Ids a benchmark needs to ask realistic questions."""

    practice_id: int
    owner_id: int
    practitioner_ids: list[int]
    busiest_client_id: int  # a client of practitioner_ids[0]
    busiest_client_name: str
    meetings: int


def seed(engine: Engine, meetings: int, clients: int, practitioners: int = PRACTITIONERS,
         seed_value: int = 5) -> SeededPractice:
    """Load one busy practice (`meetings` meetings shared by `practitioners`, `clients` clients,
    each practitioner with their own share of them) and a small other practice, and commit."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with bulk_loading(engine) as conn:
        practice_id = _insert(conn, Practice(name="Bench Practice"))
        other_practice_id = _insert(conn, Practice(name="Other Practice"))
        owner_id = _insert(conn, User(practice_id=practice_id, email="owner@bench.clinic", full_name="Olga Owner",
                                      role=Role.OWNER))
        practitioner_ids = [_insert(conn, User(practice_id=practice_id, email=f"dr{i}@bench.clinic",
                                               full_name=_practitioner_name(i), role=Role.PRACTITIONER))
                            for i in range(practitioners)]
        names = [f"{first} {last}" for last, first in product(LAST_NAMES, FIRST_NAMES)]
        rng.shuffle(names)
        names = [names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}")
                 for i in range(clients)]
        conn.execute(insert(Client.__table__), [_values(Client(practice_id=practice_id, full_name=name,
                                                               email=f"client{i}@bench.client"))
                                                for i, name in enumerate(names)])
        client_rows = conn.execute(select(Client.__table__.c.id, Client.__table__.c.full_name)
                                   .where(Client.__table__.c.practice_id == practice_id)
                                   .order_by(Client.__table__.c.id)).all()
        caseloads = [[(client_id, name) for client_id, name in client_rows[i::practitioners]]
                     for i in range(practitioners)]
        visits = _Visits(rng, now, conn)
        visits.load(practice_id, practitioner_ids, caseloads, meetings)
        other_user = _insert(conn, User(practice_id=other_practice_id, email="dr@other.clinic",
                                        full_name="Dr. Other", role=Role.PRACTITIONER))
        other_client = _insert(conn, Client(practice_id=other_practice_id, full_name="Other Patient"))
        visits.load(other_practice_id, [other_user], [[(other_client, "Other Patient")]], 200)
    busiest = caseloads[0][0]
    return SeededPractice(practice_id=practice_id, owner_id=owner_id, practitioner_ids=practitioner_ids,
                          busiest_client_id=busiest[0], busiest_client_name=busiest[1], meetings=meetings)


def _practitioner_name(n: int) -> str:
    """Distinct for the first 200 (the first ten as in earlier runs)."""
    return f"Dr. {FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[-(n % len(LAST_NAMES)) - 1]}"


@contextmanager
def bulk_loading(engine: Engine) -> Iterator[Connection]:
    """One transaction with what slows a bulk load of the visit tables set aside, put back at the end."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # This connection only, while it loads: no fsync, the rollback journal in memory, a big cache.
            for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-1000000", "temp_store=MEMORY"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
        else:
            conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")  # this session's index builds
        put_back = _set_aside(conn)
        yield conn
        for statement in put_back:
            conn.exec_driver_sql(statement)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('appointment', 'id'), max(id)) "
                                 "FROM appointment")
        conn.commit()


def _set_aside(conn: Connection) -> list[str]:
    """Drop the secondary indexes of `appointment` and `meeting` (PostgreSQL: their foreign keys too,
    checked row by row otherwise); returns the statements that build them again from their own
    definitions, foreign keys last (checked then, in one pass, as pg_restore does)."""
    if conn.dialect.name == "sqlite":
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('appointment', 'meeting')").all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        return [definition for _, definition in indexes]
    foreign_keys = conn.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid IN ('appointment'::regclass, 'meeting'::regclass)").all()
    indexes = conn.exec_driver_sql(  # the primary keys stay
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid IN ('appointment'::regclass, 'meeting'::regclass) AND NOT i.indisprimary").all()
    for table, name, _ in foreign_keys:
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [*(definition for _, definition in indexes),
            *(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign_keys)]


class _Visits:
    """Telehealth appointments and their Zoom meeting rows (same ids), generated and loaded in batches."""

    def __init__(self, rng: random.Random, now: datetime, conn: Connection) -> None:
        self.rng, self.now, self.conn = rng, now, conn
        self.next_id = (conn.execute(text("SELECT max(id) FROM appointment")).scalar() or 0) + 1
        self.zoom_ids = 80_000_000_000
        # A time as the driver is given it (SQLite: SQLAlchemy's text, which the app's own parameters are
        # compared with); memoised, as the seed's times repeat.
        utc = Appointment.__table__.c.start_at.type.dialect_impl(conn.dialect)
        self.stamp = cache(utc.bind_processor(conn.dialect))
        # Every start on offer: two years back to four months ahead, on the hour or half hour in working hours.
        days = [now.date() - timedelta(days=n) for n in range(-120, 731)]
        self.starts = [datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)
                       for d in days for hour in range(8, 19) for minute in (0, 30)]
        # Notes of none to three different sentences, in any order, as rng.sample(SENTENCES, randint(0, 3)) gives.
        self.descriptions = [[" ".join(chosen).strip() for chosen in permutations(SENTENCES, k)] for k in range(4)]
        self.folded = cache(fold)

    def load(self, practice_id: int, practitioner_ids: list[int], caseloads: list[list[tuple[int, str]]],
             count: int) -> None:
        rows = self._rows(practice_id, practitioner_ids, caseloads, count)
        while batch := list(islice(rows, _BATCH)):
            load_rows(self.conn, Appointment.__table__, _APPOINTMENT_COLUMNS, [a for a, _ in batch])
            load_rows(self.conn, Meeting.__table__, _MEETING_COLUMNS, [m for _, m in batch])

    def _rows(self, practice_id: int, practitioner_ids: list[int], caseloads: list[list[tuple[int, str]]],
              count: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        rng, stamp, folded, starts, descriptions = self.rng, self.stamp, self.folded, self.starts, self.descriptions
        pick = rng.random

        def one_of(options: Sequence[Any]) -> Any:  # rng.choice's distribution, with a quarter of its work
            return options[int(pick() * len(options))]

        for n in range(count):
            who = n % len(practitioner_ids)
            client_id, patient = one_of(caseloads[who])
            start = one_of(starts)
            status, sync_state = _lifecycle(rng, start, self.now)
            topic = one_of(TOPICS)
            description = one_of(one_of(descriptions))
            synced_once = sync_state != SyncState.PENDING_CREATE
            # meeting_search_text(topic, description, patient): fold works character by character,
            # so the parts are folded once each.
            search_text = "\n".join((folded(topic), folded(description), folded(patient)))
            created, updated = stamp(start - timedelta(days=14)), stamp(start - timedelta(days=1))
            visit_id, self.next_id = self.next_id, self.next_id + 1
            yield ((visit_id, practice_id, practitioner_ids[who], client_id, stamp(start), one_of((30, 50, 60)),
                    "America/New_York", True, "10", status.value,
                    one_of(CANCEL_REASONS) if status == AppointmentStatus.CANCELLED else "", topic, description,
                    search_text, sync_flag(sync_state), created, updated),
                   (visit_id, self.zoom_ids + n if synced_once else None,
                    "KDcuGIm1QgePTO8WbOqwIQ" if synced_once else None, _JOIN_URL if synced_once else None,
                    _PASSCODE if synced_once else None, sync_state.value,
                    0 if sync_state == SyncState.SYNCED else rng.randint(1, 5),
                    "Zoom API 429: rate limit reached" if sync_state == SyncState.NEEDS_ATTENTION else "",
                    created, updated))
        self.zoom_ids += count


def _lifecycle(rng: random.Random, start: datetime, now: datetime) -> tuple[AppointmentStatus, SyncState]:
    roll = rng.random()
    if roll < 0.01:
        return rng.choice(list(AppointmentStatus)), SyncState.NEEDS_ATTENTION
    if roll < 0.09:
        deleting = start > now and roll < 0.015
        return AppointmentStatus.CANCELLED, SyncState.PENDING_DELETE if deleting else SyncState.SYNCED
    if start > now:
        pending = rng.random() < 0.03
        return AppointmentStatus.BOOKED, rng.choice((SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE)) \
            if pending else SyncState.SYNCED
    if start > now - timedelta(hours=1):
        return AppointmentStatus.IN_PROGRESS, SyncState.SYNCED
    return AppointmentStatus.COMPLETED, SyncState.SYNCED


def load_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Stream `rows` (values of `columns`, as the driver takes them) into `table`."""
    if conn.dialect.name == "postgresql":
        types = dict(conn.execute(text("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
                                       "CAST(:table AS regclass)"), {"table": table.name}).all())
        with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types([types[c] for c in columns])  # binary: a sixth of the client's work of text
            for row in rows:
                copy.write_row(row)
    else:
        # In the order of `columns` (a compiled INSERT would follow the table's). Names of our own table
        # and columns, values as parameters: nothing untrusted in the text.
        statement = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'  # noqa: S608
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(statement, rows)  # the driver's own loop: no per-row work in SQLAlchemy
        cursor.close()


def _values(row: SQLModel) -> dict[str, object]:
    """A model's column values with its Python-side defaults filled in, for a Core insert."""
    return row.model_dump(exclude={"id"})


def _insert(conn: Connection, row: SQLModel) -> int:
    table: Table = row.__table__  # type: ignore[attr-defined]
    return conn.execute(insert(table).values(**_values(row)).returning(table.c.id)).scalar_one()
