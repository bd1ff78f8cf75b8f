"""With several workers (REDIS_URL) one runs the background jobs at a time: the holder of a lease in a
real Redis (devtools/redis.py); without Redis to ask, every worker runs them (rxapp/jobs.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from devtools import redis as redis_server
from devtools.ports import free_port
from rxapp import jobs


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    try:
        with redis_server.temporary_server(tmp_path) as server:
            yield server.url
    except redis_server.RedisNotInstalled as exc:
        pytest.fail(str(exc))


def test_one_worker_holds_the_lease_and_another_takes_it_once_released(redis_url: str) -> None:
    async def scenario() -> list[bool]:
        redis = aioredis.Redis.from_url(redis_url)
        try:
            seen = [await jobs.holds_lease(redis, "first"), await jobs.holds_lease(redis, "second"),
                    await jobs.holds_lease(redis, "first")]  # renewed by its holder, refused to the other
            ttl = await redis.ttl(jobs.LEASE_KEY)
            assert 0 < ttl <= jobs.LEASE_SECONDS
            await redis.eval(jobs._RELEASE, 1, jobs.LEASE_KEY, "second")  # not the holder: nothing happens
            seen.append(await jobs.holds_lease(redis, "second"))
            await redis.eval(jobs._RELEASE, 1, jobs.LEASE_KEY, "first")
            seen.append(await jobs.holds_lease(redis, "second"))
            return seen
        finally:
            await redis.aclose()

    assert asyncio.run(scenario()) == [True, False, True, False, True]


def test_without_redis_to_ask_every_worker_runs_the_jobs() -> None:
    async def scenario() -> bool:
        redis = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
        try:
            return await jobs.holds_lease(redis, "first")
        finally:
            await redis.aclose()

    assert asyncio.run(scenario()) is True
