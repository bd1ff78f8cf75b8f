"""Where Reflex keeps each browser's state, tuned for many open pages.

Without Redis, Reflex keeps states in memory and saves them to `.states/` (`StateManagerDisk`), so a
restarted worker still knows every open page. Its write-queue task wakes every 2 s, even when nothing
changed, and each time lists and `stat`s every saved state file to delete the ones idle longer than
the state expiry (an hour). With 1,000 open waiting rooms that folder holds tens of thousands of
files: the sweep cost about a quarter of a core while the rooms were idle, and, holding the GIL,
delayed pushes by up to 300 ms (measured by `benchmarks/bench_waiting_room.py`). Sweeping once
every few minutes deletes the same files a little later and costs almost nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

# States expire after an hour without use; a file this much older is still removed.
PURGE_EVERY_SECONDS = 300.0


def throttle_disk_purge(manager: Any, every_seconds: float = PURGE_EVERY_SECONDS) -> bool:
    """Make a disk state manager sweep `.states/` at most once per `every_seconds`; True if it is one.

    Writing and reading states is unchanged; only the expiry sweep runs less often."""
    from reflex.istate.manager.disk import StateManagerDisk

    if not isinstance(manager, StateManagerDisk) or getattr(manager, "_sweep_throttled", False):
        return False
    sweep = manager._purge_expired_states
    lock = threading.Lock()  # the sweep runs in a worker thread
    last = [time.monotonic()]  # the manager swept once when it was created

    def purge_expired_states() -> None:
        with lock:
            if time.monotonic() - last[0] < every_seconds:
                return
            last[0] = time.monotonic()
        sweep()

    manager._purge_expired_states = purge_expired_states
    manager._sweep_throttled = True
    return True


@asynccontextmanager
async def state_store_lifespan(app: Any) -> AsyncIterator[None]:
    """Started once per backend worker, before any page connects."""
    if throttle_disk_purge(app.state_manager):
        log.info("state files are swept for expiry every %.0f s", PURGE_EVERY_SECONDS)
    yield
