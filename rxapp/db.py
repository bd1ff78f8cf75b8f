"""Database engine and the unit-of-work helper every service uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, create_engine

from rxapp.settings import get_settings


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so several threads can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for reads that need no transaction: each statement sees the data as it is when it
    runs (autocommit), so there is no BEGIN and no COMMIT round trip. For pages that only read, like
    the meeting list; anything that writes, or must read several rows at one instant, uses
    `unit_of_work`."""
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


@contextmanager
def reading_planned_for_values(parallel: bool = True) -> Iterator[Connection]:
    """Reads in one transaction in which, on PostgreSQL, each statement is planned for its own values.
    psycopg prepares a statement it has run five times, and PostgreSQL may then settle on a generic
    plan, blind to whose rows, which status, words or dates are asked: at a million rows that made the
    meeting list's search among Scheduled 36 ms instead of 3, and the dashboard's year a third slower
    (planning costs about half a millisecond). `parallel=False` also plans without parallel workers
    (for ~100,000 rows their start-up cost more than they saved). Benchmarks: bench_meeting_list.py,
    bench_dashboard.py."""
    with get_engine().connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            if not parallel:
                conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        yield conn
