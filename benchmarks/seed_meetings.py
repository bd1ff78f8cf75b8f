"""A realistic, large practice for the meeting-list benchmark, bulk-inserted with SQLAlchemy Core.

One practice with an owner, ten practitioners sharing the meetings evenly, each with their own
caseload of clients; two years of past sessions and a few months ahead, with the statuses and sync
states a live practice has; plus a small second practice whose meetings must never show up.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product

from sqlalchemy import Connection, Table, func, insert, select
from sqlmodel import SQLModel

from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, Practice, Role, SyncState, User
from rxapp.services.telehealth.meeting_list import meeting_search_text

PRACTITIONERS = 10
_CHUNK = 5000

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


@dataclass(frozen=True)
class SeededPractice:
    """Ids a benchmark needs to ask realistic questions."""

    practice_id: int
    owner_id: int
    practitioner_ids: list[int]
    busiest_client_id: int  # a client of practitioner_ids[0]
    busiest_client_name: str
    meetings: int


def seed(conn: Connection, meetings: int, clients: int, seed_value: int = 5) -> SeededPractice:
    """Insert one busy practice with `meetings` meetings and `clients` clients, and a small other
    practice; the caller commits."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    practice_id = _insert(conn, Practice(name="Bench Practice"))
    other_practice_id = _insert(conn, Practice(name="Other Practice"))
    owner_id = _insert(conn, User(practice_id=practice_id, email="owner@bench.clinic", full_name="Olga Owner",
                                  role=Role.OWNER))
    practitioner_ids = [_insert(conn, User(practice_id=practice_id, email=f"dr{i}@bench.clinic",
                                           full_name=f"Dr. {FIRST_NAMES[i]} {LAST_NAMES[-i - 1]}",
                                           role=Role.PRACTITIONER)) for i in range(PRACTITIONERS)]
    names = [f"{first} {last}" for last, first in product(LAST_NAMES, FIRST_NAMES)]
    rng.shuffle(names)
    names = [names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}") for i in range(clients)]
    conn.execute(insert(Client.__table__), [_values(Client(practice_id=practice_id, full_name=name,
                                                           email=f"client{i}@bench.client"))
                                            for i, name in enumerate(names)])
    client_rows = conn.execute(select(Client.__table__.c.id, Client.__table__.c.full_name)
                               .where(Client.__table__.c.practice_id == practice_id)
                               .order_by(Client.__table__.c.id)).all()
    caseloads = [client_rows[i::PRACTITIONERS] for i in range(PRACTITIONERS)]
    for batch in _chunks(_meetings(rng, now, practice_id, practitioner_ids, caseloads, meetings)):
        _insert_visits(conn, batch)

    other_user = _insert(conn, User(practice_id=other_practice_id, email="dr@other.clinic", full_name="Dr. Other",
                                    role=Role.PRACTITIONER))
    other_client = _insert(conn, Client(practice_id=other_practice_id, full_name="Other Patient"))
    _insert_visits(conn, list(_meetings(rng, now, other_practice_id, [other_user],
                                        [[(other_client, "Other Patient")]], 200)))
    busiest = caseloads[0][0]
    return SeededPractice(practice_id=practice_id, owner_id=owner_id, practitioner_ids=practitioner_ids,
                          busiest_client_id=busiest[0], busiest_client_name=busiest[1], meetings=meetings)


_APPOINTMENT_COLUMNS = set(Appointment.__table__.c.keys())
_MEETING_COLUMNS = set(Meeting.__table__.c.keys())


def _insert_visits(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Telehealth appointments and their Zoom meeting rows (same ids), in bulk."""
    start = (conn.execute(select(func.max(Appointment.__table__.c.id))).scalar() or 0) + 1
    for offset, row in enumerate(rows):
        row["id"] = start + offset
    conn.execute(insert(Appointment.__table__), [{k: v for k, v in r.items() if k in _APPOINTMENT_COLUMNS}
                                                 for r in rows])
    conn.execute(insert(Meeting.__table__), [{k: v for k, v in r.items() if k in _MEETING_COLUMNS} for r in rows])


def _meetings(rng: random.Random, now: datetime, practice_id: int, practitioner_ids: list[int],
              caseloads: list[list[tuple[int, str]]], count: int) -> Iterator[dict[str, object]]:
    for n in range(count):
        who = n % len(practitioner_ids)
        client_id, patient = rng.choice(caseloads[who])
        # Two years back to four months ahead, on the hour or half hour in working hours.
        day = now.date() - timedelta(days=rng.randint(-120, 730))
        start = datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.choice((0, 30)), tzinfo=UTC)
        status, sync_state = _lifecycle(rng, start, now)
        topic = rng.choice(TOPICS)
        description = " ".join(rng.sample(SENTENCES, rng.randint(0, 3))).strip()
        synced_once = sync_state != SyncState.PENDING_CREATE
        yield {
            "practice_id": practice_id, "practitioner_id": practitioner_ids[who], "client_id": client_id,
            "telehealth": True, "pos_code": "10", "topic": topic, "notes": description, "start_at": start,
            "duration_minutes": rng.choice((30, 50, 60)),
            "timezone": "America/New_York", "status": status.value, "sync_state": sync_state.value,
            "cancel_reason": rng.choice(CANCEL_REASONS) if status == AppointmentStatus.CANCELLED else "",
            "zoom_meeting_id": 80_000_000_000 + n if synced_once else None,
            "zoom_host_user_id": "KDcuGIm1QgePTO8WbOqwIQ" if synced_once else None,
            # Encrypted values are this long; they make the rows as wide as real ones.
            "join_url_encrypted": "gAAAAA" + "x" * 200 if synced_once else None,
            "passcode_encrypted": "gAAAAA" + "y" * 94 if synced_once else None,
            "sync_attempts": 0 if sync_state == SyncState.SYNCED else rng.randint(1, 5),
            "last_sync_error": "Zoom API 429: rate limit reached" if sync_state == SyncState.NEEDS_ATTENTION else "",
            "search_text": meeting_search_text(topic, description, patient),
            "created_at": start - timedelta(days=14), "updated_at": start - timedelta(days=1),
        }


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


def _values(row: SQLModel) -> dict[str, object]:
    """A model's column values with its Python-side defaults filled in, for a Core insert."""
    return row.model_dump(exclude={"id"})


def _insert(conn: Connection, row: SQLModel) -> int:
    table: Table = row.__table__  # type: ignore[attr-defined]
    return conn.execute(insert(table).values(**_values(row)).returning(table.c.id)).scalar_one()


def _chunks(rows: Iterator[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch
