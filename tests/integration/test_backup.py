"""Issue 25.6: `manage backup FILE` and `restore FILE` on SQLite and PostgreSQL: a populated database is
backed up (while in use), wiped, restored, and has the same rows and a working sign-in; a backup from a
newer schema, or from the other kind of database, is refused before anything changes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from rxapp import backup, migrate
from rxapp.dev.demo_data import DEMO_PASSWORD, load_demo_data, load_demo_week
from rxapp.services.identity import auth

TABLES = ("practice", "user", "client", "appointment", "meeting", "audit_event", "notification", "reminder")


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in TABLES}
    engine.dispose()
    return found


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rxapp.manage", *args], capture_output=True, text=True)


def test_a_backup_restores_the_same_rows_and_sign_in_after_a_wipe(database: str, tmp_path: Path) -> None:
    load_demo_data()
    load_demo_week()
    before = _counts(database)
    assert before["appointment"] > 0 and before["client"] == 3
    made = _manage("backup", str(tmp_path / "practice.backup"))
    assert made.returncode == 0 and "Backed up to" in made.stdout, made.stderr
    migrate.downgrade(database, "base")  # the wipe: every table gone
    migrate.upgrade(database)
    assert _counts(database)["practice"] == 0
    restored = _manage("restore", str(tmp_path / "practice.backup"))
    assert restored.returncode == 0 and "Restored" in restored.stdout, restored.stderr
    assert _counts(database) == before
    assert auth.check_password("owner@demo.clinic", DEMO_PASSWORD)
    assert auth.check_password("alex@demo.client", DEMO_PASSWORD)


def test_a_backup_from_a_newer_schema_or_another_kind_of_database_is_refused(database: str, tmp_path: Path) -> None:
    load_demo_data()
    before = _counts(database)
    file = tmp_path / "practice.backup"
    backup.backup(file)
    if database.startswith("sqlite"):
        with sqlite3.connect(file) as db:
            db.execute("UPDATE alembic_version SET version_num = '9999z'")
        with pytest.raises(backup.BackupRefused, match="newer schema"):
            backup.restore(file)
    else:
        other = tmp_path / "other.db"
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            db.execute("INSERT INTO alembic_version VALUES ('0010c')")
        with pytest.raises(backup.BackupRefused, match="other kind of database"):
            backup.restore(other)
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    with pytest.raises(backup.BackupRefused, match="not a backup"):
        backup.restore(not_a_backup)
    refused = _manage("restore", str(tmp_path / "missing.backup"))
    assert refused.returncode != 0 and "There is no backup file" in refused.stderr
    assert _counts(database) == before  # nothing changed
