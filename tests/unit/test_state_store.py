"""The disk state manager's expiry sweep is throttled (rxapp/state_store.py).

Reflex's own sweep lists and stats every saved state file every 2 s; with 1,000 open waiting rooms
that was a quarter of a core (benchmarks/bench_waiting_room.py)."""

from __future__ import annotations

import pytest
from reflex.istate.manager.disk import StateManagerDisk
from reflex.istate.manager.memory import StateManagerMemory

from rxapp import state_store


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(state_store.time, "monotonic", lambda: now[0])
    return now


def _disk_manager(sweeps: list[float], clock: list[float]) -> StateManagerDisk:
    manager = object.__new__(StateManagerDisk)  # no states folder needed: only the sweep is exercised
    manager._purge_expired_states = lambda: sweeps.append(clock[0])  # type: ignore[method-assign]
    return manager


def test_the_sweep_runs_at_most_once_per_interval(clock: list[float]) -> None:
    sweeps: list[float] = []
    manager = _disk_manager(sweeps, clock)
    assert state_store.throttle_disk_purge(manager, every_seconds=300)

    for _ in range(151):  # Reflex's write-queue task: every 2 s for 5 minutes
        manager._purge_expired_states()
        clock[0] += 2
    assert sweeps == [1300.0]  # once, when 300 s had passed since the manager's own first sweep

    manager._purge_expired_states()
    assert len(sweeps) == 1
    clock[0] += 300
    manager._purge_expired_states()
    assert len(sweeps) == 2


def test_throttling_twice_or_another_manager_changes_nothing(clock: list[float]) -> None:
    sweeps: list[float] = []
    manager = _disk_manager(sweeps, clock)
    assert state_store.throttle_disk_purge(manager, every_seconds=300)
    assert not state_store.throttle_disk_purge(manager, every_seconds=1)  # still the 300 s throttle
    clock[0] += 10
    manager._purge_expired_states()
    assert sweeps == []
    assert not state_store.throttle_disk_purge(object.__new__(StateManagerMemory))
