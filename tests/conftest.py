"""Shared fixtures: a real database per test, on SQLite and on a throwaway PostgreSQL server.

Every database is created by running the Alembic migrations once into a template, which each
test then copies (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL).
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from devtools import postgres
from rxapp import clock, db, migrate
from rxapp.clock import set_clock
from rxapp.models.types import FLAGGED_SYNC_STATES
from rxapp.services import crypto
from rxapp.services.identity import passwords
from rxapp.settings import get_settings

# One key for the whole run, so nothing falls back to a developer's local key file.
os.environ.setdefault("SECRET_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("APP_ENV", "test")

# Argon2id at the app's cost (t=3, 64 MiB, p=4: 0.1-0.4 s a hash here) was a quarter of the suite's time:
# nearly every test loads the demo practice (a hash) and signs someone in (a check). The tests hash with
# argon2id at its lowest cost instead: the same code paths and hash format. Hashes made at the app's cost
# (the e2e stack's, which runs the app unchanged) still verify, at their own cost.
# tests/unit/test_passwords.py checks the app's own parameters, kept here.
APP_PASSWORD_HASHER = passwords._hasher
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("not-a-real-password")

# TEST_NOW=<ISO instant with offset>: the app's clock runs on from that instant for the whole run (the
# wall clock shifted, so leases and timeouts still pass), so that date-dependent tests can be tried on
# any day of the week and on clock-change days (scripts/clock_check.sh).
if os.environ.get("TEST_NOW"):
    _shift = datetime.fromisoformat(os.environ["TEST_NOW"]) - datetime.now(UTC)
    clock._wall_clock = lambda: datetime.now(UTC) + _shift
    set_clock(None)


def reset_app_caches() -> None:
    """Forget settings, engine and keys so a changed environment takes effect."""
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    db.get_engine.cache_clear()
    get_settings.cache_clear()
    crypto.reset_cache()


_FLAGS_DISAGREE = text(
    "SELECT a.id, a.sync_flag, m.sync_state FROM appointment a LEFT JOIN meeting m ON m.id = a.id "
    "WHERE COALESCE(a.sync_flag, '') <> CASE WHEN m.sync_state IN ({}) THEN m.sync_state ELSE '' END".format(
        ", ".join(f"'{s.value}'" for s in sorted(FLAGGED_SYNC_STATES))))


def _assert_sync_flags_agree() -> None:
    """After a test that used the database: every appointment's `sync_flag` says what its meeting's
    sync state is (rxapp.models.scheduling._carry_sync_flags), whatever path the test's changes took."""
    if not db.get_engine.cache_info().currsize:
        return
    try:
        with db.get_engine().connect() as conn:
            disagree = conn.execute(_FLAGS_DISAGREE).all()
    except DBAPIError as exc:
        if "sync_flag" in str(exc) or "no such table" in str(exc) or "does not exist" in str(exc):
            return  # the test left an older schema (migration tests)
        raise
    assert not disagree, f"appointment.sync_flag disagrees with meeting.sync_state (id, flag, state): {disagree}"


@pytest.fixture(autouse=True)
def _wall_clock() -> Iterator[None]:
    yield
    set_clock(None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server in a temporary folder for this test run; yields its base URL."""
    try:
        with postgres.temporary_server() as url:
            yield url
            _pg_admin_engine(url).dispose()
    except postgres.PostgresNotInstalled as exc:
        pytest.fail(str(exc))


@functools.cache
def _pg_admin_engine(server: str) -> Engine:
    return create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")


def _pg_admin(server: str, sql: str) -> None:
    with _pg_admin_engine(server).connect() as conn:
        conn.execute(text(sql))


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> str:
    _pg_admin(postgres_server, "CREATE DATABASE app_template")
    migrate.upgrade(f"{postgres_server}/app_template")
    return "app_template"


def _postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield f"{server}/{name}"
    finally:
        reset_app_caches()
        _pg_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A freshly migrated database for one test, wired into the app's settings; yields its URL."""
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        monkeypatch.setenv("DATABASE_URL", url)
        reset_app_caches()
        yield url
        _assert_sync_flags_agree()
        reset_app_caches()
    else:
        for url in _postgres_database(request):
            monkeypatch.setenv("DATABASE_URL", url)
            reset_app_caches()
            yield url
            _assert_sync_flags_agree()


@pytest.fixture
def sqlite_database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """SQLite only, for tests whose subject is not the database."""
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    reset_app_caches()
    yield url
    _assert_sync_flags_agree()
    reset_app_caches()
