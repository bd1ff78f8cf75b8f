"""Free TCP ports on 127.0.0.1 for the servers that tests, benchmarks and `make run-scaled` start.

A port the kernel hands out for `bind(("127.0.0.1", 0))` comes from its ephemeral range, the same
range it takes the local ports of outgoing connections from. Between our releasing such a port and
a server binding it, any of the many connections the tests open (browsers, HTTP clients, database
pools) can take it, and the server then fails to start ("Address already in use"; seen once in CI
as a PostgreSQL that would not start). So we pick ports below the ephemeral range, which outgoing
connections never use, at random, and check that each is free now.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 20000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on or connects from now, outside the ephemeral range."""
    top = _ephemeral_start()
    if top - _LOWEST >= 1000:
        for _ in range(200):
            port = random.randrange(_LOWEST, top)
            if _bindable(port):
                return port
    with socket.socket() as sock:  # a machine with an unusual range: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
