"""A throwaway PostgreSQL server in a temporary folder, for tests and benchmarks.

`temporary_server()` runs Debian's `initdb` and `pg_ctl` (as the `postgres` user when we are root,
because PostgreSQL refuses to run as root), tuned for speed over durability, and removes
everything again when the block ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL's `bin` folder, or None when none is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextmanager
def temporary_server() -> Iterator[str]:
    """Start a server and yield its base URL (`postgresql+psycopg://postgres@127.0.0.1:<port>`,
    append `/<database>`); superuser `postgres`, trust authentication, `postgres` database only.

    Raises `PostgresNotInstalled` when there is no PostgreSQL, `CalledProcessError` when it will
    not start.
    """
    bindir = server_bindir()
    if bindir is None:
        raise PostgresNotInstalled("PostgreSQL is not installed; `make test` installs Debian's postgresql package")
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, port = base / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def pg(tool: str, *args: str, check: bool = True) -> None:
        # Fixed programs from the PostgreSQL install with arguments we build: nothing untrusted.
        subprocess.run([*as_user, str(bindir / tool), *args], check=check, capture_output=True)  # noqa: S603

    options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200")
    try:
        pg("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        pg("pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)
