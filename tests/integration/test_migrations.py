"""The schema comes only from migrations: up, down, up again, and no drift from the models."""

from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text
from sqlmodel import SQLModel

from rxapp import migrate


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


def test_every_meeting_of_the_old_schema_becomes_a_telehealth_appointment_with_the_same_id(database: str) -> None:
    migrate.downgrade(database, "0005e")
    engine = create_engine(database)
    at = datetime(2027, 1, 5, 15, 0)
    with engine.begin() as conn:
        _insert(conn, "practice", id=1, name="P", timezone="UTC", allow_zoom=True, standard_reminder_days=1,
                telehealth_reminder_minutes=15, telehealth_reminder_includes_link=False, telehealth_location_name="",
                telehealth_location_address="", default_pos_code="02", sms_credits=0,
                notify_client_when_started=True, created_at=at)
        _insert(conn, "user", id=1, practice_id=1, email="lee@x", full_name="Dr Lee", role="practitioner",
                is_active=True, created_at=at, updated_at=at)
        _insert(conn, "client", id=1, practice_id=1, full_name="Alex", timezone="UTC", created_at=at)
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
