"""The schema comes only from migrations: up, down, up again, and no drift from the models."""

from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text
from sqlmodel import SQLModel

from rxapp import migrate
from rxapp.models import SyncState
from rxapp.models.types import FLAGGED_SYNC_STATES


def test_upgrade_downgrade_upgrade_round_trips(database: str) -> None:
    migrate.downgrade(database, "base")
    engine = create_engine(database)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database)
    assert {"meeting", "zoom_connection", "login_session"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_do_not_differ(database: str) -> None:
    engine = create_engine(database)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    engine.dispose()
    command.check(migrate.alembic_config(database))


def _insert(conn: Connection, table: str, **values: object) -> None:
    columns = ", ".join(values)
    conn.execute(text(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join(":" + k for k in values)})'), values)


def _practice_lee_and_a_client(conn: Connection, at: datetime, lee: str, client: str, **old_columns: object) -> None:
    """Practice 1 with its practitioner 1 and client 1, written in the columns the old schemas under test
    share (`old_columns`: those a schema had beside them, e.g. sms_credits before 0007c)."""
    _insert(conn, "practice", id=1, name="P", timezone="UTC", allow_zoom=True, standard_reminder_days=1,
            telehealth_reminder_minutes=15, telehealth_reminder_includes_link=False, telehealth_location_name="",
            telehealth_location_address="", default_pos_code="02", notify_client_when_started=True, created_at=at,
            **old_columns)
    _insert(conn, "user", id=1, practice_id=1, email="lee@x", full_name=lee, role="practitioner", is_active=True,
            created_at=at, updated_at=at)
    _insert(conn, "client", id=1, practice_id=1, full_name=client, timezone="UTC", created_at=at)


def test_every_meeting_of_the_old_schema_becomes_a_telehealth_appointment_with_the_same_id(database: str) -> None:
    migrate.downgrade(database, "0005e")
    engine = create_engine(database)
    at = datetime(2027, 1, 5, 15, 0)
    with engine.begin() as conn:
        _practice_lee_and_a_client(conn, at, "Dr Lee", "Alex", sms_credits=0)
        _insert(conn, "appointment", id=1, practice_id=1, practitioner_id=1, client_id=1, start_at=at,
                duration_minutes=50, telehealth=False, pos_code="11", status="booked", notes="old visit",
                created_at=at, updated_at=at)
        _insert(conn, "appointment", id=2, practice_id=1, practitioner_id=1, client_id=1, start_at=at,
                duration_minutes=30, telehealth=True, pos_code="10", status="booked", notes="linked",
                created_at=at, updated_at=at)
        for meeting_id, status, appointment_id in ((7, "scheduled", None), (9, "ended", 2), (12, "cancelled", None)):
            _insert(conn, "meeting", id=meeting_id, practice_id=1, practitioner_id=1, client_id=1,
                    appointment_id=appointment_id, topic=f"Topic {meeting_id}", description="agenda",
                    start_at=at, duration_minutes=45, timezone="America/Chicago", status=status,
                    cancel_reason="sick" if status == "cancelled" else "", zoom_meeting_id=1000 + meeting_id,
                    join_url_encrypted="enc", sync_state="synced", sync_attempts=0, last_sync_error="",
                    search_text="topic", created_at=at, updated_at=at)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('meeting_id_seq', 20)"))
        else:
            conn.execute(text("UPDATE sqlite_sequence SET seq = 20 WHERE name = 'meeting'"))
    migrate.upgrade(database)
    with engine.begin() as conn:
        rows = {r.id: r for r in conn.execute(text("SELECT * FROM appointment ORDER BY id"))}
        meetings = {r.id: r for r in conn.execute(text("SELECT * FROM meeting ORDER BY id"))}
        _insert(conn, "appointment", practice_id=1, practitioner_id=1, client_id=1, start_at=at,
                duration_minutes=50, timezone="UTC", telehealth=False, pos_code="11", status="booked",
                cancel_reason="", topic="", notes="", search_text="", created_at=at, updated_at=at)
        fresh = conn.execute(text("SELECT MAX(id) FROM appointment")).scalar()
    engine.dispose()
    assert set(meetings) == {7, 9, 12}
    assert meetings[9].zoom_meeting_id == 1009 and meetings[9].join_url_encrypted == "enc"
    assert (rows[7].telehealth, rows[7].status, rows[7].topic, rows[7].notes, rows[7].timezone) == (
        True, "booked", "Topic 7", "agenda", "America/Chicago")
    assert (rows[9].status, rows[9].pos_code, rows[9].notes) == ("completed", "10", "linked")  # merged
    assert (rows[12].status, rows[12].cancel_reason, rows[12].pos_code) == ("cancelled", "sick", "02")
    old_visit = [r for r in rows.values() if r.notes == "old visit"]
    assert len(old_visit) == 1 and old_visit[0].id > 20 and not old_visit[0].telehealth
    assert len(rows) == 4 and fresh > old_visit[0].id  # ids are never reused


def test_clients_written_by_the_old_schema_keep_their_names(database: str) -> None:
    """Migration 0006b: first and last name come from the stored full name; nothing is lost."""
    migrate.downgrade(database, "0005e")
    engine = create_engine(database)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO practice (id, name, timezone, allow_zoom, standard_reminder_days, telehealth_reminder_minutes,"
            " telehealth_reminder_includes_link, telehealth_location_name, telehealth_location_address,"
            " default_pos_code, sms_credits, notify_client_when_started, created_at)"
            " VALUES (1, 'Old Practice', 'UTC', false, 1, 15, false, '', '', '10', 0, true, :at)"),
            {"at": "2026-01-01"})
        for client_id, name in ((1, "Mary Ann Smith"), (2, "Cher"), (3, "  Jo  Kim ")):
            conn.execute(text("INSERT INTO client (id, practice_id, full_name, email, timezone, created_at)"
                              " VALUES (:id, 1, :name, :email, 'UTC', :at)"),
                         {"id": client_id, "name": name, "email": f"c{client_id}@old.client", "at": "2026-01-01"})
    migrate.upgrade(database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT full_name, first_name, last_name, preferred_name, email, archived_at"
                                 " FROM client ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("Mary Ann Smith", "Mary Ann", "Smith", "", "c1@old.client", None),
        ("Cher", "Cher", "", "", "c2@old.client", None),
        ("  Jo  Kim ", "Jo", "Kim", "", "c3@old.client", None),
    ]


def test_folded_search_keys_are_back_filled_for_clients_and_appointments(database: str) -> None:
    """Migration 0009a: rows written before it are found by a folded search afterwards."""
    migrate.downgrade(database, "0008a")
    engine = create_engine(database)
    with engine.begin() as conn:
        _insert(conn, "practice", id=1, name="Old Practice", timezone="UTC", allow_zoom=False,
                standard_reminder_days=1, telehealth_reminder_minutes=15, telehealth_reminder_includes_link=False,
                telehealth_location_name="", telehealth_location_address="", default_pos_code="10",
                notify_client_when_started=True, created_at="2026-01-01")
        _insert(conn, "client", id=901, practice_id=1, full_name="Élodie Durand", first_name="Élodie",
                last_name="Durand", email="E@old.client", timezone="UTC", created_at="2026-01-01")
    migrate.upgrade(database)
    with engine.connect() as conn:
        key = conn.execute(text("SELECT search_key FROM client WHERE id = 901")).scalar()
    engine.dispose()
    assert key == "elodie durand elodie durand e@old.client"


def test_frozen_telehealth_titles_are_cleared_and_typed_topics_kept(database: str) -> None:
    """Migration 0009b: "Telehealth session with <name>" stored at booking goes (the title is derived
    from the current practitioner now), and the search text loses it; a typed topic stays."""
    migrate.downgrade(database, "0009a")
    engine = create_engine(database)
    at = datetime(2027, 1, 5, 15, 0)
    with engine.begin() as conn:
        _practice_lee_and_a_client(conn, at, "Dr. Dana Lee", "Élodie Durand")
        for appointment_id, topic in ((1, "Telehealth session with Dr. Dana Lee"), (2, "Weekly check-in")):
            _insert(conn, "appointment", id=appointment_id, practice_id=1, practitioner_id=1, client_id=1,
                    start_at=at, duration_minutes=50, timezone="UTC", telehealth=True, pos_code="02",
                    status="booked", cancel_reason="", topic=topic, notes="agenda",
                    search_text=f"{topic.casefold()}\nagenda\nelodie durand", created_at=at, updated_at=at)
    migrate.upgrade(database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT topic, search_text FROM appointment ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("", "\nagenda\nelodie durand"),
                                        ("Weekly check-in", "weekly check-in\nagenda\nelodie durand")]


def test_meetings_of_the_old_schema_flag_their_appointments(database: str) -> None:
    """Migration 0012b: an appointment whose meeting is syncing or needs attention gets its sync_flag."""
    migrate.downgrade(database, "0012a")
    engine = create_engine(database)
    at = datetime(2027, 1, 5, 15, 0)
    visit = {"practice_id": 1, "practitioner_id": 1, "client_id": 1, "start_at": at, "duration_minutes": 50,
             "timezone": "UTC", "status": "booked", "cancel_reason": "", "topic": "", "notes": "", "search_text": "",
             "created_at": at, "updated_at": at}
    states = dict(enumerate(SyncState, start=1))
    with engine.begin() as conn:
        _practice_lee_and_a_client(conn, at, "Dr. Lee", "Ann")
        for n, state in states.items():
            _insert(conn, "appointment", id=n, telehealth=True, pos_code="02", **visit)
            _insert(conn, "meeting", id=n, sync_state=state.value, sync_attempts=0, last_sync_error="",
                    late_minutes=0, late_note="", created_at=at, updated_at=at)
        _insert(conn, "appointment", id=99, telehealth=False, pos_code="11", **visit)  # in person: no meeting
    migrate.upgrade(database)
    with engine.connect() as conn:
        flags = dict(conn.execute(text("SELECT id, sync_flag FROM appointment")).all())
    engine.dispose()
    assert flags == {**{n: (s.value if s in FLAGGED_SYNC_STATES else None) for n, s in states.items()}, 99: None}
