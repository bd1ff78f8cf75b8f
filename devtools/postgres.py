"""A throwaway PostgreSQL server in a temporary folder, for tests and benchmarks.

`temporary_server()` runs Debian's `initdb` and `pg_ctl` (as the `postgres` user when we are root,
because PostgreSQL refuses to run as root), tuned for speed over durability, and removes
everything again when the block ends.

`python -m devtools.postgres --port N` (used by `make run-scaled`) keeps one running until it is
sent SIGTERM, SIGINT or SIGHUP, then stops it and removes its data.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.ports import free_port


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL's `bin` folder, or None when none is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PostgresWouldNotStart(RuntimeError):
    """pg_ctl could not start the server; the message carries the end of the server's log."""


_START_ATTEMPTS = 3


@contextmanager
def temporary_server(port: int | None = None) -> Iterator[str]:
    """Start a server and yield its base URL (`postgresql+psycopg://postgres@127.0.0.1:<port>`,
    append `/<database>`); superuser `postgres`, trust authentication, `postgres` database only.

    Without a port it takes a free one, and another if the server cannot start on it (someone took
    the port in between). Raises `PostgresNotInstalled` when there is no PostgreSQL,
    `PostgresWouldNotStart` (with the server's log) when it will not start.
    """
    bindir = server_bindir()
    if bindir is None:
        raise PostgresNotInstalled("PostgreSQL is not installed; `make test` installs Debian's postgresql package")
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, log = base / "data", base / "log"
    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def pg(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        # Fixed programs from the PostgreSQL install with arguments we build: nothing untrusted.
        return subprocess.run([*as_user, str(bindir / tool), *args], check=check, capture_output=True)  # noqa: S603

    try:
        pg("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        for attempt in range(1, _START_ATTEMPTS + 1):
            chosen = port or free_port()
            options = (f"-p {chosen} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            started = pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "start", check=False)
            if started.returncode == 0:
                break
            if port is not None or attempt == _START_ATTEMPTS:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise PostgresWouldNotStart(
                    f"PostgreSQL would not start on port {chosen} (attempt {attempt}): "
                    f"{started.stderr.decode(errors='replace').strip()}\n--- server log ---\n{tail}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{chosen}"
    finally:
        pg("pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.postgres",
                                     description="Run a throwaway PostgreSQL until stopped (its data goes with it).")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # pg_ctl detaches the server into its own session, so a signal to our process group does not
    # reach it: we stop it ourselves on the way out.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    with temporary_server(args.port) as url:
        print(f"PostgreSQL ready at {url}/postgres", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
