"""Backup and restore of the whole database: `python -m rxapp.manage backup FILE` / `restore FILE`.

- SQLite: the online backup API (`sqlite3.Connection.backup`), page by page, safe while the app runs
  and writes (a consistent snapshot); the file is itself a SQLite database.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot, safe while the app runs), restored with
  `pg_restore --clean --if-exists --no-owner --single-transaction` (all or nothing).

The schema's Alembic revision travels inside the backup (its `alembic_version` table) and is read
before anything is restored: a backup from a NEWER schema than this code knows is refused (restore it
with the version that made it, or upgrade this code first); an older one is restored and then migrated
up. Secrets (SECRET_KEYS) are not in the database: keep the key file with the backups, separately.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from rxapp import migrate
from rxapp.settings import get_settings


class BackupRefused(Exception):
    """The backup cannot be restored here; the message says why."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupRefused("An in-memory SQLite database has nothing to back up.")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it (never on a command line)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(tool: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL client tool (no shell; our own arguments); its stdout. A failure says why."""
    found = shutil.which(tool)
    if found is None:
        raise BackupRefused(f"{tool} is not installed (Debian: apt install postgresql-client).")
    done = subprocess.run([found, *args], env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise BackupRefused(f"{tool} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database onto another with the online backup API (page by page, consistent)."""
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        with copy:
            origin.backup(copy)
    finally:
        copy.close()
        origin.close()


def _known_revisions() -> set[str]:
    return {r.revision for r in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()}


def backup(target: str | Path, database_url: str | None = None) -> str:
    """Write a backup of the database to `target`; returns the schema revision it holds."""
    url = database_url or get_settings().database_url
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
    else:
        uri, env = _libpq(url)
        _run("pg_dump", "--format=custom", "--no-owner", f"--file={target}", uri, env=env)
    return revision_of(target)


def revision_of(backup_file: str | Path) -> str:
    """The Alembic revision inside a backup (SQLite file or pg_dump custom archive)."""
    path = Path(backup_file)
    if not path.is_file():
        raise BackupRefused(f"There is no backup file at {path}.")
    with path.open("rb") as head:
        magic = head.read(16)
    if magic.startswith(b"SQLite format 3"):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    elif magic.startswith(b"PGDMP"):
        dumped = _run("pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path))
        lines = dumped.split("COPY public.alembic_version (version_num) FROM stdin;\n", 1)
        row = (lines[1].split("\n", 1)[0],) if len(lines) == 2 else None
    else:
        raise BackupRefused(f"{path} is not a backup made by this app (neither SQLite nor pg_dump).")
    if not row or not row[0]:
        raise BackupRefused(f"{path} holds no schema revision: it is not a backup of this app's database.")
    return str(row[0])


def restore(source: str | Path, database_url: str | None = None) -> str:
    """Replace the database with a backup (then migrate it up to this code's schema); returns the
    backup's revision. Raises `BackupRefused` for a backup from a newer schema or of another kind
    than the database."""
    url = database_url or get_settings().database_url
    source = Path(source)
    revision = revision_of(source)
    if revision not in _known_revisions():
        raise BackupRefused(f"This backup comes from a newer schema ({revision}) than this version of the app "
                            "knows: restore it with the version that made it, or upgrade the app first.")
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    with source.open("rb") as head:
        if head.read(15).startswith(b"SQLite format 3") != is_sqlite:
            raise BackupRefused("This backup was made from the other kind of database (SQLite / PostgreSQL).")
    if is_sqlite:
        live = _sqlite_path(url)
        with tempfile.TemporaryDirectory() as scratch:  # the backup file itself is never opened for writing
            copy = Path(scratch) / "restore.db"
            shutil.copyfile(source, copy)
            _sqlite_copy(copy, live)
    else:
        uri, env = _libpq(url)
        _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={uri}",
             str(source), env=env)
    migrate.upgrade(url)
    return revision
