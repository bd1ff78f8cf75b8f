"""The schema comes only from migrations: up, down, up again, and no drift from the models."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
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
