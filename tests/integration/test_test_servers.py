"""The throwaway servers the tests and benchmarks start (devtools/): free ports that outgoing
connections cannot take, and a PostgreSQL that tries another port when its first is taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from devtools import ports, postgres


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports.free_port()))
        sock.listen()
        yield sock.getsockname()[1]


def test_free_ports_lie_below_the_range_outgoing_connections_take_theirs_from() -> None:
    start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    chosen = {ports.free_port() for _ in range(50)}
    assert all(1024 < port < start for port in chosen)
    assert len(chosen) > 40  # spread at random, so parallel test processes seldom pick the same one


@pytest.mark.postgres
def test_postgres_moves_to_another_port_when_its_first_is_taken(listening: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    offered = iter([listening, ports.free_port()])
    monkeypatch.setattr(postgres, "free_port", lambda: next(offered))
    with postgres.temporary_server() as url:
        assert f":{listening}" not in url
        with create_engine(f"{url}/postgres").connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1


@pytest.mark.postgres
def test_postgres_on_a_taken_port_of_your_choice_says_why_it_would_not_start(listening: int) -> None:
    with pytest.raises(postgres.PostgresWouldNotStart, match="Address already in use"), \
            postgres.temporary_server(listening):
        pass
