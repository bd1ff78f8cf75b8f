"""Issue 15.1: the start route tells the waiting room first and asks Zoom for the start link meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AuditEvent, Client, Notification
from rxapp.services import changes
from rxapp.services.telehealth.meetings import actions, sync
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from rxapp.services.telehealth.zoom.client import ZoomApi, ZoomMeeting
from rxapp.services.telehealth.zoom.errors import ZoomError
from tests.integration.zoom_helpers import SignedIn, control


def _started_meeting_soon(lee: SignedIn, topic: str) -> int:
    with unit_of_work() as s:
        client_id = s.exec(select(Client).where(Client.email == "alex@demo.client")).one().id or 0
    start = (now() + timedelta(minutes=10)).astimezone(ZoneInfo("America/New_York"))
    draft = MeetingDraft(topic=topic, description="", date=start.date().isoformat(), hour=start.strftime("%H:%M"),
                         timezone="America/New_York", client_id=client_id)
    meeting_id = schedule_meeting(lee.principal, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None and asyncio.run(sync.sync_meeting(meeting_id, force=True))
    return meeting_id


def _status(meeting_id: int) -> str:
    with unit_of_work() as s:
        row = s.get(Appointment, meeting_id)
        assert row is not None
        return "scheduled" if row.status == "booked" else row.status


def test_the_waiting_room_is_told_before_zoom_answers_with_the_start_link(zoom, lee, monkeypatch) -> None:
    meeting_id = _started_meeting_soon(lee, "Announce first")
    # Zoom answers the start link's meeting lookup only after a second.
    control(zoom.url, "POST", "/faults", json={"operation": "meetings.get", "kind": "timeout-after", "delay": 1})
    zoom_answered = False
    real_get_meeting = ZoomApi.get_meeting

    async def get_meeting(api: ZoomApi, zoom_id: int) -> ZoomMeeting:
        nonlocal zoom_answered
        found = await real_get_meeting(api, zoom_id)
        zoom_answered = True
        return found

    monkeypatch.setattr(ZoomApi, "get_meeting", get_meeting)
    seen: list[tuple[str, bool]] = []
    monkeypatch.setattr(changes, "_listeners", [lambda change: seen.append((_status(change.appointment_id),
                                                                            zoom_answered))])

    assert "/s/" in asyncio.run(actions.start_url(lee.principal, meeting_id))
    assert zoom_answered
    assert seen and seen[0] == ("in_progress", False)


def test_when_zoom_cannot_give_the_start_link_the_client_waits_again(zoom, lee, monkeypatch) -> None:
    meeting_id = _started_meeting_soon(lee, "Start fails")
    control(zoom.url, "POST", "/faults", json={"operation": "meetings.get", "kind": "500", "count": 2})
    seen: list[str] = []
    monkeypatch.setattr(changes, "_listeners", [lambda change: seen.append(_status(change.appointment_id))])
    with pytest.raises(ZoomError):
        asyncio.run(actions.start_url(lee.principal, meeting_id))
    assert seen == ["in_progress", "scheduled"] and _status(meeting_id) == "scheduled"
    with unit_of_work() as s:  # the "provider started" email is withdrawn before it was sent
        keys = [n.idempotency_key for n in s.exec(select(Notification))]
        actions_logged = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.subject_id == str(meeting_id)))]
    assert f"meeting-started:{meeting_id}" not in keys
    assert "meeting.start_failed" in actions_logged
