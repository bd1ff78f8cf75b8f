"""A throwaway Redis server (Debian's `redis-server`, nothing saved to disk), for tests and benchmarks.

`temporary_server(workdir)` starts one on a free port, waits until it answers, yields its URL and
stops it when the block ends. (`make run-scaled` starts its own from scripts/run.sh.)
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from devtools.ports import free_port


class RedisNotInstalled(RuntimeError):
    """No redis-server on this machine."""


@dataclass(frozen=True)
class RunningRedis:
    url: str
    pid: int


@contextmanager
def temporary_server(workdir: Path) -> Iterator[RunningRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisNotInstalled("redis-server is not installed; `make test` installs Debian's redis-server")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",  # noqa: S603
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield RunningRedis(f"redis://127.0.0.1:{port}/0", proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
