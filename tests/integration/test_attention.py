"""The owner's Needs attention lists: failed Zoom events and failed messages of their practice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Notification, NotificationStatus, Practice, WebhookEvent
from rxapp.services.audit import attention
from rxapp.services.permissions import NotAllowed
from tests.factories import telehealth_visit
from tests.integration.zoom_helpers import principal_of

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _failed_event(practice_id: int, n: int, failed: bool = True) -> None:
    with unit_of_work() as s:
        s.add(WebhookEvent(practice_id=practice_id, dedupe_key=f"k{practice_id}:{n}", event="meeting.started",
                           payload="{}", attempts=5, error=f"RuntimeError: reason {n}",
                           processed_at=T0 + timedelta(minutes=n),
                           failed_at=T0 + timedelta(minutes=n) if failed else None))


def _failed_message(practice_id: int, n: int, attempts: int) -> None:
    with unit_of_work() as s:
        s.add(Notification(practice_id=practice_id, idempotency_key=f"m{practice_id}:{n}",
                           to_address="alex@demo.client",
                           subject=f"Subject {n}", body_text="x", status=NotificationStatus.FAILED, attempts=attempts,
                           last_error=f"SMTPException: {n}", failed_at=T0 + timedelta(minutes=n),
                           next_attempt_at=T0 + timedelta(minutes=n + 5)))


def test_the_owner_sees_the_practice_s_failures_newest_first_and_capped(demo) -> None:
    with unit_of_work() as s:
        own = s.exec(select(Practice)).one().id or 0
        other = Practice(name="Other practice")
        s.add(other)
        s.flush()
        other_id = other.id or 0
    for n in range(3):
        _failed_event(own, n)
    _failed_event(own, 9, failed=False)  # processed fine
    _failed_event(other_id, 7)
    _failed_message(own, 1, attempts=2)
    _failed_message(own, 2, attempts=8)
    _failed_message(other_id, 3, attempts=8)
    owner = principal_of("owner@demo.clinic")
    events = attention.failed_zoom_events(owner, limit=2)
    assert [e.reason for e in events.items] == ["RuntimeError: reason 2", "RuntimeError: reason 1"] and events.more
    assert not attention.failed_zoom_events(owner).more
    messages = attention.failed_messages(principal_of("manager@demo.clinic"))
    assert [(m.subject, m.retry_at is None) for m in messages.items] == [("Subject 2", True), ("Subject 1", False)]
    assert not messages.more


@pytest.mark.parametrize("email", ["dr.lee@demo.clinic", "frontdesk@demo.clinic", "alex@demo.client"])
def test_only_owners_and_managers_see_what_needs_attention(demo, email: str) -> None:
    with pytest.raises(NotAllowed):
        attention.failed_zoom_events(principal_of(email))
    with pytest.raises(NotAllowed):
        attention.failed_messages(principal_of(email))


def test_the_owner_page_lists_meetings_zoom_is_out_of_step_with_in_the_viewers_timezone(demo) -> None:
    from rxapp.models import AppointmentStatus, Client, SyncState, User
    from rxapp.state.attention import _view

    start = datetime(2026, 12, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York (the owner's practice timezone)
    with unit_of_work() as s:
        lee = s.exec(select(User).where(User.email == "dr.lee@demo.clinic")).one()
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        telehealth_visit(s, practice_id=lee.practice_id, practitioner_id=lee.id or 0, client_id=alex.id or 0,
                         topic="Stuck session", start_at=start, timezone="America/New_York",
                         status=AppointmentStatus.BOOKED, sync_state=SyncState.NEEDS_ATTENTION,
                         last_sync_error="Zoom is disconnected for Dr. Dana Lee.")
    [row] = _view(principal_of("owner@demo.clinic")).meetings
    assert row["title"] == "Stuck session with Alex Rivera"
    assert row["reason"] == "Zoom is disconnected for Dr. Dana Lee."
    assert "Dr. Dana Lee" in row["detail"] and "UTC" not in row["when"] and "10:00" in row["when"]
