"""What an owner or manager must look at: Zoom events we gave up on and messages that failed.

Each list is the practice's own, newest first and capped; `more` says whether older ones exist.
Times are returned in UTC; the page shows them in the viewer's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlmodel import col, func, select

from rxapp.db import unit_of_work
from rxapp.models import Notification, NotificationStatus, WebhookEvent
from rxapp.services.notify.outbox import MAX_ATTEMPTS, one_line, opened
from rxapp.services.notify.sms import credits as sms_credits
from rxapp.services.permissions import Action, Principal, require

LATEST = 50

T = TypeVar("T")


@dataclass(frozen=True)
class Capped(Generic[T]):
    """The newest `items` of a list; `more` is True when older ones were left out."""

    items: list[T]
    more: bool


@dataclass(frozen=True)
class FailedZoomEvent:
    id: int
    failed_at: datetime
    event: str
    reason: str
    attempts: int


@dataclass(frozen=True)
class FailedMessage:
    id: int
    failed_at: datetime
    to: str
    subject: str
    reason: str
    attempts: int
    retry_at: datetime | None  # None once the last attempt failed


def failed_zoom_events(principal: Principal, limit: int = LATEST) -> Capped[FailedZoomEvent]:
    """Zoom events of the principal's practice whose processing failed on every attempt.
    Raises `NotAllowed` unless the principal may see what needs attention."""
    require(principal, Action.VIEW_ATTENTION)
    with unit_of_work() as session:
        rows = session.exec(
            select(WebhookEvent)
            .where(WebhookEvent.practice_id == principal.practice_id, col(WebhookEvent.failed_at).is_not(None))
            .order_by(col(WebhookEvent.failed_at).desc(), col(WebhookEvent.id).desc())
            .limit(limit + 1)
        ).all()
        items = [FailedZoomEvent(id=r.id or 0, failed_at=r.failed_at or r.received_at, event=r.event, reason=r.error,
                                 attempts=r.attempts) for r in rows[:limit]]
    return Capped(items, len(rows) > limit)


def failed_messages(principal: Principal, limit: int = LATEST) -> Capped[FailedMessage]:
    """Messages of the principal's practice whose last send failed (being retried, or given up).
    Raises `NotAllowed` unless the principal may see what needs attention."""
    require(principal, Action.VIEW_ATTENTION)
    with unit_of_work() as session:
        rows = session.exec(
            select(Notification)
            .where(Notification.practice_id == principal.practice_id,
                   Notification.status == NotificationStatus.FAILED)
            .order_by(col(Notification.failed_at).desc().nulls_last(), col(Notification.id).desc())
            .limit(limit + 1)
        ).all()
        items = [FailedMessage(id=r.id or 0, failed_at=r.failed_at or r.next_attempt_at, to=r.to_address,
                               subject=r.subject or f"Text message: {one_line(opened(r)[0], 60)}",
                               reason=r.last_error, attempts=r.attempts,
                               retry_at=r.next_attempt_at if r.attempts < MAX_ATTEMPTS else None)
                 for r in rows[:limit]]
    return Capped(items, len(rows) > limit)


@dataclass(frozen=True)
class CreditWarning:
    balance: int
    threshold: int
    unsent: int  # SMS not sent for lack of credits (still listed among the failed messages)


def sms_credit_warning(principal: Principal) -> CreditWarning | None:
    """The practice's SMS credit balance when it is below the owner's threshold, else None.
    Raises `NotAllowed` unless the principal may see what needs attention."""
    require(principal, Action.VIEW_ATTENTION)
    with unit_of_work() as session:
        low = sms_credits.low_balance(session, principal.practice_id)
        if low is None:
            return None
        unsent = session.exec(select(func.count()).select_from(Notification).where(
            Notification.practice_id == principal.practice_id, Notification.status == NotificationStatus.FAILED,
            Notification.last_error == sms_credits.NOT_ENOUGH)).one()
        return CreditWarning(balance=low[0], threshold=low[1], unsent=int(unsent))
