"""Background jobs (APScheduler in the backend process): the outbox sender, Zoom retries, retention.

Each job claims its rows in the database, so running it in several worker processes at once
sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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


@asynccontextmanager
async def scheduler_lifespan() -> AsyncIterator[None]:
    if os.environ.get("RUN_JOBS", "1") == "0":
        yield
        return
    scheduler = build_scheduler()
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
