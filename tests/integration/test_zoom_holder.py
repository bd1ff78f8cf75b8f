"""No dead ends with Zoom, against the sandbox over HTTP: one Zoom account serves one
practitioner; meetings needing attention come back when Zoom is reconnected; moving or
re-assigning a meeting records who asked and reaches Zoom through the account that holds it."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, Meeting, Notification, TrustedPractitioner, ZoomConnection
from rxapp.services.permissions import NotAllowed
from rxapp.services.scheduling.appointments import (
    AppointmentChange,
    AppointmentInvalid,
    AppointmentRefused,
    change_appointment,
)
from rxapp.services.telehealth.meetings import actions, sync
from rxapp.services.telehealth.meetings.attention import meetings_needing_attention
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from rxapp.services.telehealth.zoom import connections, tokens
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, connect, control, sign_in, user_id, visit, wait_until


def _connection(practitioner_id: int) -> ZoomConnection | None:
    with unit_of_work() as s:
        return s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()


def _client_id(email: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one().id or 0


def _schedule(who: SignedIn, topic: str, days: int = 2, hour: str = "10:00") -> int:
    start = (now() + timedelta(days=days)).astimezone(ZoneInfo("America/New_York"))
    draft = MeetingDraft(topic=topic, description="", date=start.date().isoformat(), hour=hour,
                         timezone="America/New_York", client_id=_client_id("alex@demo.client"))
    meeting_id = schedule_meeting(who.principal, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None
    return meeting_id


def _row(meeting_id: int) -> SimpleNamespace:
    return visit(meeting_id)


def _sync(meeting_id: int) -> bool:
    return asyncio.run(sync.sync_meeting(meeting_id, force=True))


def _at_zoom(zoom: ZoomSandbox, topic: str) -> list[dict]:
    return [m for m in control(zoom.url, "GET", "/meetings")["meetings"] if m["topic"] == topic and not m["deleted"]]


def _calls(zoom: ZoomSandbox, operation: str) -> int:
    return control(zoom.url, "GET", "/stats")["calls"].get(operation, 0)


def _lee_works(lee: SignedIn) -> bool:
    me = asyncio.run(tokens.call_zoom(lee.principal.user_id, lambda api: api.get_me()))
    return bool(me.id)


# One Zoom account, one practitioner (issue 10 item 10)

def test_a_zoom_account_held_by_a_colleague_is_refused_naming_who_holds_it(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = _schedule(lee, "Lee keeps her Zoom")
    patel = sign_in("dr.patel@demo.clinic")
    attempt = connect(zoom.url, patel, "lee@zoom.demo")
    outcome = connections.review(patel.principal, attempt)
    assert outcome is not None and not outcome.scopes
    assert "already connected for Dr. Dana Lee" in outcome.refused and "Nothing was changed" in outcome.refused
    assert _connection(patel.principal.user_id) is None
    held = _connection(lee.principal.user_id)
    assert held is not None and held.status == "connected" and held.last_error == ""
    # Zoom kept only the newest authorization: Lee carries on with it, her meetings too.
    assert _lee_works(lee) and _sync(meeting_id) and len(_at_zoom(zoom, "Lee keeps her Zoom")) == 1
    with unit_of_work() as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "zoom.connect_refused")).one()
    assert refused.actor_user_id == patel.principal.user_id


def test_a_manager_cannot_connect_a_held_account_for_another_practitioner(zoom: ZoomSandbox, lee: SignedIn) -> None:
    owner, patel_id = sign_in("owner@demo.clinic"), user_id("dr.patel@demo.clinic")
    outcome = connections.review(owner.principal, connect(zoom.url, owner, "lee@zoom.demo", practitioner_id=patel_id))
    assert outcome is not None and "already connected for Dr. Dana Lee" in outcome.refused
    assert _connection(patel_id) is None and _lee_works(lee)
    # Patel's own Zoom account is fine, and Lee reconnecting her own is no conflict.
    assert not connections.review(owner.principal, connect(zoom.url, owner, "patel@zoom.demo", patel_id)).refused
    assert not connections.review(lee.principal, connect(zoom.url, lee, "lee@zoom.demo")).refused
    assert _connection(patel_id).status == "connected" and _lee_works(lee)


# No dead ends (issue 11 item 3)

def test_reconnecting_zoom_requeues_every_meeting_needing_attention(zoom: ZoomSandbox, lee: SignedIn) -> None:
    synced = [_schedule(lee, f"Weekly {n}", days=2 + n) for n in range(3)]
    for meeting_id in synced:
        assert _sync(meeting_id)
    never_created = _schedule(lee, "Made while disconnected", days=6)
    asyncio.run(connections.disconnect(lee.principal, lee.principal.user_id))
    assert not _sync(never_created)  # Zoom not connected: only a person can fix that
    stuck = [*synced, never_created]
    assert {_row(m).sync_state for m in stuck} == {"needs_attention"}

    owner = sign_in("owner@demo.clinic").principal
    listed = meetings_needing_attention(owner)
    assert [m.meeting_id for m in listed] == stuck  # soonest first
    assert {m.practitioner_name for m in listed} == {"Dr. Dana Lee"} and listed[0].patient_name == "Alex Rivera"
    assert all(m.reason and m.start_at.tzinfo is not None for m in listed)

    attempt = connect(zoom.url, lee, "lee@zoom.demo")
    assert connections.review(lee.principal, attempt).requeued == 4
    assert {_row(m).sync_state for m in synced} == {"pending_update"}
    assert _row(never_created).sync_state == "pending_create"
    patches = _calls(zoom, "meetings.update")
    assert asyncio.run(sync.sync_due()) == 4
    assert {_row(m).sync_state for m in stuck} == {"synced"} and meetings_needing_attention(owner) == []
    assert _calls(zoom, "meetings.update") == patches  # Zoom was still right: no PATCH spent of the 100 a day
    for n in range(3):
        assert len(_at_zoom(zoom, f"Weekly {n}")) == 1  # updated in place, never created twice
    assert len(_at_zoom(zoom, "Made while disconnected")) == 1


def test_who_sees_the_meetings_needing_attention(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = _schedule(lee, "Flagged")
    with unit_of_work() as s:
        row = s.get(Meeting, meeting_id)
        row.sync_state, row.last_sync_error = "needs_attention", "Creating the Zoom meeting failed: refused"
    for email, expected in (("owner@demo.clinic", [meeting_id]), ("manager@demo.clinic", [meeting_id]),
                            ("dr.lee@demo.clinic", [meeting_id]), ("dr.patel@demo.clinic", [])):
        assert [m.meeting_id for m in meetings_needing_attention(sign_in(email).principal)] == expected
    [entry] = meetings_needing_attention(sign_in("owner@demo.clinic").principal)
    assert entry.reason == "Creating the Zoom meeting failed: refused" and entry.topic == "Flagged"
    for email in ("frontdesk@demo.clinic", "alex@demo.client"):
        with pytest.raises(NotAllowed):
            meetings_needing_attention(sign_in(email).principal)


def _patel_connected_and_trusted_by_alex(zoom: ZoomSandbox) -> SignedIn:
    patel = sign_in("dr.patel@demo.clinic")
    connect(zoom.url, patel, "patel@zoom.demo")
    with unit_of_work() as s:
        s.add(TrustedPractitioner(practice_id=patel.principal.practice_id, client_id=_client_id("alex@demo.client"),
                                  practitioner_id=patel.principal.user_id))
    return patel


def test_reassigning_moves_the_zoom_meeting_through_the_account_that_holds_it(zoom: ZoomSandbox,
                                                                                 lee: SignedIn) -> None:
    meeting_id = _schedule(lee, "Handed over")
    assert _sync(meeting_id)
    lee_meeting = _row(meeting_id).zoom_meeting_id
    assert _row(meeting_id).zoom_holder_practitioner_id == lee.principal.user_id
    patel = _patel_connected_and_trusted_by_alex(zoom)
    manager = sign_in("manager@demo.clinic")
    result = change_appointment(manager.principal, meeting_id,
                                AppointmentChange(practitioner_id=patel.principal.user_id))
    assert result.ids == [meeting_id]
    row = _row(meeting_id)
    assert row.practitioner_id == patel.principal.user_id and row.changed_by_user_id == manager.principal.user_id
    assert row.sync_state == "pending_update" and row.zoom_holder_practitioner_id == lee.principal.user_id

    assert _sync(meeting_id)
    row = _row(meeting_id)
    assert row.sync_state == "synced" and row.zoom_meeting_id != lee_meeting
    assert row.zoom_holder_practitioner_id == patel.principal.user_id
    [at_zoom] = _at_zoom(zoom, "Handed over")
    assert at_zoom["id"] == row.zoom_meeting_id and at_zoom["host_email"] == "patel@zoom.demo"
    # Zoom's meeting.deleted for Lee's copy is our own doing: the session stays scheduled.
    assert wait_until(lambda: any(m["id"] == lee_meeting and m["deleted"]
                                  for m in control(zoom.url, "GET", "/meetings")["meetings"]))
    time.sleep(1.0)
    assert _row(meeting_id).status == "booked"
    with unit_of_work() as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.changed")).one()
        mails = s.exec(select(Notification).where(Notification.to_address == "alex@demo.client")).all()
    assert audit.actor_user_id == manager.principal.user_id
    assert any("Dr. Priya Patel" in m.body_text and "changed" in m.subject for m in mails)


def test_a_pending_move_is_synced_with_the_holders_credentials_not_the_assignees(zoom: ZoomSandbox,
                                                                                    lee: SignedIn) -> None:
    """Re-assigned while the new practitioner's Zoom is broken: Lee's copy is still removed with
    Lee's connection, and the meeting waits (needs attention) for Patel's Zoom, not lost."""
    meeting_id = _schedule(lee, "Patel reconnects")
    assert _sync(meeting_id)
    patel = _patel_connected_and_trusted_by_alex(zoom)
    assert change_appointment(sign_in("owner@demo.clinic").principal, meeting_id,
                              AppointmentChange(practitioner_id=patel.principal.user_id)).ids
    control(zoom.url, "POST", "/users/patel@zoom.demo/revoke")  # Patel's grant dies at Zoom
    assert wait_until(lambda: _connection(patel.principal.user_id) is None)
    assert not _sync(meeting_id)
    row = _row(meeting_id)
    assert row.sync_state == "needs_attention" and row.zoom_meeting_id is None
    assert _at_zoom(zoom, "Patel reconnects") == []  # deleted in Lee's account, through Lee's connection
    assert connections.review(patel.principal, connect(zoom.url, patel, "patel@zoom.demo")).requeued == 1
    assert asyncio.run(sync.sync_due()) == 1
    [at_zoom] = _at_zoom(zoom, "Patel reconnects")
    assert at_zoom["host_email"] == "patel@zoom.demo"


def test_rescheduling_records_who_asked_and_keeps_the_zoom_link(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = _schedule(lee, "New time")
    assert _sync(meeting_id)
    before = _row(meeting_id)
    owner = sign_in("owner@demo.clinic")
    day = (now() + timedelta(days=5)).astimezone(ZoneInfo("Europe/London")).date().isoformat()
    result = change_appointment(owner.principal, meeting_id, AppointmentChange(
        date=day, hour="15:30", timezone="Europe/London", duration_minutes=45))
    assert result.ids == [meeting_id]
    row = _row(meeting_id)
    assert row.changed_by_user_id == owner.principal.user_id and row.sync_state == "pending_update"
    assert _sync(meeting_id)
    [at_zoom] = _at_zoom(zoom, "New time")
    assert at_zoom["id"] == before.zoom_meeting_id and at_zoom["duration"] == 45
    assert at_zoom["start_time"] == sync.zoom_time(_row(meeting_id).start_at) and at_zoom["timezone"] == "Europe/London"
    with pytest.raises(AppointmentInvalid) as bad:
        change_appointment(owner.principal, meeting_id, AppointmentChange(date="2020-01-01", hour="10:00"))
    assert "hour" in bad.value.errors  # a telehealth appointment cannot move into the past
    with pytest.raises(NotAllowed):
        change_appointment(sign_in("dr.patel@demo.clinic").principal, meeting_id, AppointmentChange(hour="10:00"))
    asyncio.run(actions.cancel(owner.principal, meeting_id, "Closed"))
    with pytest.raises(AppointmentRefused):
        change_appointment(owner.principal, meeting_id,
                           AppointmentChange(practitioner_id=user_id("dr.patel@demo.clinic")))
