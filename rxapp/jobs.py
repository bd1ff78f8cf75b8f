"""Background jobs (APScheduler in the backend process): the outbox sender, Zoom retries, retention.

Each job claims its rows in the database, so running it in several worker processes at once
sends nothing twice. With several workers (REDIS_URL set) one of them runs the jobs at a time, the
holder of a lease in Redis: the others would only poll the same rows again (on two workers the second
copy cost ~0.3% of a core, PostgreSQL included, of the ~3% that 1,000 open waiting rooms idle at;
`benchmarks/bench_waiting_room.py`).
When the holder stops, another worker takes over within LEASE_SECONDS; when Redis cannot be asked,
every worker runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from rxapp.services.notify import outbox, reminders
from rxapp.services.scheduling import waitlist
from rxapp.services.telehealth.meetings import events as meeting_events  # noqa: F401  (registers Zoom event handlers)
from rxapp.services.telehealth.meetings import sync
from rxapp.services.telehealth.zoom import webhooks
from rxapp.settings import get_settings

log = logging.getLogger(__name__)


def _deliver_outbox(rounds: int = 20) -> None:
    """Batches until one sends nothing (or `rounds`): a burst (10,000 reminders due in one minute)
    drains in one run instead of 50 messages per poll."""
    for _ in range(rounds):
        if not outbox.deliver_due(limit=outbox.BATCH):
            return


async def deliver_notifications() -> None:
    try:
        await asyncio.to_thread(_deliver_outbox)
    except Exception:  # a failing run must not stop the schedule
        log.exception("outbox delivery failed")


async def send_reminders() -> None:
    try:
        await asyncio.to_thread(reminders.run_due)
    except Exception:
        log.exception("sending reminders failed")


async def expire_waitlist_offers() -> None:
    try:
        await asyncio.to_thread(waitlist.expire_offers)
    except Exception:
        log.exception("expiring waitlist offers failed")


async def process_webhooks() -> None:
    try:
        await asyncio.to_thread(webhooks.process_pending)
    except Exception:
        log.exception("webhook processing failed")


async def prune_webhook_events() -> None:
    try:
        await asyncio.to_thread(webhooks.prune_processed)
    except Exception:
        log.exception("pruning Zoom events failed")


async def sync_meetings() -> None:
    try:
        await sync.sync_due()
    except Exception:
        log.exception("meeting sync failed")


def build_scheduler() -> AsyncIOScheduler:
    settings = get_settings()
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(deliver_notifications, "interval", seconds=settings.outbox_poll_seconds,
                      id="deliver-notifications", max_instances=1, coalesce=True)
    # Exactly once comes from the reminder rows' claim, not from the scheduler (no shared job store).
    scheduler.add_job(send_reminders, "interval", seconds=20, id="send-reminders", max_instances=1, coalesce=True)
    scheduler.add_job(sync_meetings, "interval", seconds=5, id="sync-meetings", max_instances=1, coalesce=True)
    scheduler.add_job(expire_waitlist_offers, "interval", seconds=60, id="expire-waitlist-offers", max_instances=1,
                      coalesce=True)
    scheduler.add_job(process_webhooks, "interval", seconds=30, id="process-webhooks", max_instances=1,
                      coalesce=True)
    # Stored Zoom events are kept WEBHOOK_RETENTION_DAYS after processing, then deleted.
    scheduler.add_job(prune_webhook_events, "interval", hours=1, id="prune-webhook-events", max_instances=1,
                      coalesce=True)
    return scheduler


LEASE_KEY = "telehealth:jobs:lease"
LEASE_SECONDS, RENEW_SECONDS = 30, 10
# Extend the lease only while this worker still holds it; give it up only if so.
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


async def holds_lease(redis: Any, worker: str) -> bool:
    """Take the jobs' lease if it is free, or extend it if this worker holds it; True if it does now.
    True as well when Redis cannot be asked: then every worker runs the jobs, as without Redis."""
    try:
        return bool(await redis.set(LEASE_KEY, worker, nx=True, ex=LEASE_SECONDS)
                    or await redis.eval(_RENEW, 1, LEASE_KEY, worker, LEASE_SECONDS))
    except Exception:
        log.warning("jobs lease: Redis unavailable, this worker runs the jobs")
        return True


async def _run_while_leading(scheduler: AsyncIOScheduler, redis: Any, worker: str) -> None:
    while True:
        if await holds_lease(redis, worker):
            scheduler.resume()
        else:
            scheduler.pause()
        await asyncio.sleep(RENEW_SECONDS)


@asynccontextmanager
async def scheduler_lifespan() -> AsyncIterator[None]:
    if os.environ.get("RUN_JOBS", "1") == "0":
        yield
        return
    scheduler = build_scheduler()
    url = get_settings().redis_url
    if not url:
        scheduler.start()
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
        return
    import redis.asyncio as aioredis

    redis, worker = aioredis.Redis.from_url(url), uuid.uuid4().hex
    scheduler.start(paused=True)
    leading = asyncio.create_task(_run_while_leading(scheduler, redis, worker))
    try:
        yield
    finally:
        leading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await leading
        scheduler.shutdown(wait=False)
        with contextlib.suppress(Exception):  # hand over at once rather than when the lease runs out
            await redis.eval(_RELEASE, 1, LEASE_KEY, worker)
        await redis.aclose()
