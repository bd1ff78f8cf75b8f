"""The schema comes only from migrations: up, down, up again, and no drift from the models."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
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
