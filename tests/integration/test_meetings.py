"""Scheduling and managing meetings against the Zoom sandbox over HTTP: safe settings, every
Zoom failure (5xx, timeout after creation, daily limit, revoked token), no duplicates, events."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, Meeting, Notification
from rxapp.services import crypto
from rxapp.services.permissions import NotAllowed
from rxapp.services.telehealth.meetings import actions, sync
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, MeetingInvalid, schedule_meeting, trusted_patients
from rxapp.services.telehealth.zoom import webhooks
from tests.integration.conftest import WEBHOOK_SECRET, ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, control, demo_practice, sign_in, visit, wait_until


def _client_id(email: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one().id or 0


def _draft(**changes: object) -> MeetingDraft:
    start = (now() + timedelta(days=2)).astimezone(ZoneInfo("America/New_York"))
    values = {"topic": "Weekly session", "description": "Check-in", "date": start.date().isoformat(),
              "hour": "10:00", "timezone": "America/New_York", "client_id": _client_id("alex@demo.client"),
              "duration_minutes": 50}
    values.update(changes)
    return MeetingDraft(**values)  # type: ignore[arg-type]


def _row(meeting_id: int) -> SimpleNamespace:
    return visit(meeting_id)


def _zoom_meetings(zoom: ZoomSandbox, topic: str) -> list[dict]:
    return [m for m in control(zoom.url, "GET", "/meetings")["meetings"]
            if m["topic"] == topic and not m.get("deleted")]


def _as_zoom_has_it(zoom: ZoomSandbox, zoom_id: int) -> dict:
    """The meeting read through Zoom's own API with the practitioner's stored token."""
    from rxapp.models import ZoomConnection

    with unit_of_work() as s:
        token = crypto.decrypt(s.exec(select(ZoomConnection)).one().access_token_encrypted)
    answer = httpx.get(f"{zoom.url}/v2/meetings/{zoom_id}", headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    return answer.json()


def _schedule(who: SignedIn, **changes: object) -> int:
    result = schedule_meeting(who.principal, _draft(**changes), overlap_confirmed=True)
    assert result.meeting_id is not None
    return result.meeting_id


def _sync(meeting_id: int) -> bool:
    return asyncio.run(sync.sync_meeting(meeting_id, force=True))


def test_a_meeting_is_created_at_zoom_with_safe_settings_and_the_patient_is_emailed(zoom, lee) -> None:
    meeting_id = _schedule(lee)
    assert _row(meeting_id).sync_state == "pending_create"
    assert _sync(meeting_id)
    row = _row(meeting_id)
    assert row.sync_state == "synced" and row.zoom_meeting_id and row.zoom_meeting_id > 10**10
    at_zoom = _as_zoom_has_it(zoom, row.zoom_meeting_id)
    settings = at_zoom["settings"]
    assert settings["waiting_room"] is True and settings["join_before_host"] is True
    assert settings["auto_recording"] == "none" and settings["host_video"] and settings["participant_video"]
    assert at_zoom["password"] and len(at_zoom["password"]) <= 10
    assert at_zoom["timezone"] == "America/New_York"
    assert at_zoom["start_time"] == sync.zoom_time(row.start_at)
    assert crypto.decrypt(row.join_url_encrypted or "") == at_zoom["join_url"]
    with unit_of_work() as s:
        [mail] = s.exec(select(Notification).where(Notification.to_address == "alex@demo.client")).all()
    local = row.start_at.astimezone(ZoneInfo("America/Chicago"))
    assert local.strftime("%H:%M") in mail.body_text and "America/Chicago" in mail.body_text
    assert "/portal" in mail.body_text and "BEGIN:VCALENDAR" in mail.ics and at_zoom["join_url"] not in mail.body_text


@pytest.mark.parametrize(("changes", "field"), [
    ({"topic": "  "}, "topic"),
    ({"topic": "x" * 201}, "topic"),
    ({"description": "x" * 2001}, "description"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"date": "2020-01-01"}, "date"),
    ({"date": ""}, "date"),
    ({"hour": "25:99"}, "hour"),
])
def test_bad_input_is_explained_per_field_and_nothing_is_saved(zoom, lee, changes, field) -> None:
    with pytest.raises(MeetingInvalid) as exc:
        schedule_meeting(lee.principal, _draft(**changes))
    assert field in exc.value.errors
    with unit_of_work() as s:
        assert s.exec(select(Meeting)).all() == []


def test_only_patients_who_trust_the_practitioner_can_be_chosen(zoom, lee) -> None:
    assert [name for _, name in trusted_patients(lee.principal)] == ["Alex Rivera", "Sam Taylor"]
    with pytest.raises(MeetingInvalid) as exc:  # a crafted event naming Jo, who trusts Dr. Patel
        schedule_meeting(lee.principal, _draft(client_id=_client_id("jo@demo.client")))
    assert "patient" in exc.value.errors


def test_zoom_not_connected_points_to_the_meeting_tab(zoom) -> None:
    demo_practice()
    patel = sign_in("dr.patel@demo.clinic")
    with pytest.raises(MeetingInvalid) as exc:
        schedule_meeting(patel.principal, _draft(client_id=_client_id("jo@demo.client")))
    assert "Meeting tab" in exc.value.errors["zoom"]


def test_overlaps_are_warned_about_and_may_still_be_saved(zoom, lee) -> None:
    _schedule(lee)
    warned = schedule_meeting(lee.principal, _draft(hour="10:30", topic="Second"))
    assert warned.meeting_id is None and warned.overlaps and "Weekly session" in warned.overlaps[0]
    saved = schedule_meeting(lee.principal, _draft(hour="10:30", topic="Second"), overlap_confirmed=True)
    assert saved.meeting_id is not None


def test_zoom_5xx_leaves_the_meeting_pending_and_a_retry_completes_it_once(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Five hundred")
    control(zoom.url, "POST", "/faults", json={"operation": "meetings.create", "kind": "502", "count": 1})
    assert not _sync(meeting_id)
    row = _row(meeting_id)
    assert row.sync_state == "pending_create" and row.next_sync_at and "waiting" in row.last_sync_error
    assert _sync(meeting_id)
    assert _row(meeting_id).sync_state == "synced"
    assert len(_zoom_meetings(zoom, "Five hundred")) == 1


def test_a_create_that_timed_out_after_zoom_made_it_is_adopted_not_repeated(zoom, short_zoom_timeout, lee) -> None:
    meeting_id = _schedule(lee, topic="Lost answer")
    control(zoom.url, "POST", "/faults", json={"operation": "meetings.create", "kind": "timeout-after",
                                               "count": 1, "delay": 4})
    assert not _sync(meeting_id)  # our 2 s timeout fires; Zoom created it anyway
    assert _row(meeting_id).zoom_meeting_id is None
    assert len(_zoom_meetings(zoom, "Lost answer")) == 1
    assert _sync(meeting_id)
    [at_zoom] = _zoom_meetings(zoom, "Lost answer")
    assert _row(meeting_id).zoom_meeting_id == int(at_zoom["id"])


def test_the_daily_limit_is_surfaced_and_retried_after_midnight_utc(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Daily limit")
    control(zoom.url, "POST", "/faults", json={"operation": "meetings.create", "kind": "429-daily", "count": 1})
    assert not _sync(meeting_id)
    row = _row(meeting_id)
    assert row.sync_state == "pending_create" and "daily limit" in row.last_sync_error
    assert row.next_sync_at is not None and row.next_sync_at.hour == 0 and row.next_sync_at > now()
    assert _sync(meeting_id) and len(_zoom_meetings(zoom, "Daily limit")) == 1


def test_a_token_revoked_mid_way_needs_attention_without_duplicates(zoom, lee) -> None:
    first = _schedule(lee, topic="Before revoke")
    assert _sync(first)
    row = _row(first)
    with unit_of_work() as s:  # Zoom forgets the grant (a lost refresh, another system's authorization…)
        from rxapp.models import ZoomConnection

        conn = s.exec(select(ZoomConnection)).one()
        httpx.post(f"{zoom.url}/oauth/token", auth=("sandbox-client-id", "sandbox-client-secret"),
                   data={"grant_type": "refresh_token",
                         "refresh_token": crypto.decrypt(conn.refresh_token_encrypted)}).raise_for_status()
        conn.access_expires_at = now()
    second = _schedule(lee, topic="After revoke")
    assert not _sync(second)
    failed = _row(second)
    assert failed.sync_state == "needs_attention" and "reconnect" in failed.last_sync_error.lower()
    assert _zoom_meetings(zoom, "After revoke") == [] and _row(first).zoom_meeting_id == row.zoom_meeting_id


def test_cancel_deletes_at_zoom_and_tells_the_patient_then_delete_keeps_an_audit_entry(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="To cancel")
    assert _sync(meeting_id)
    with pytest.raises(actions.MeetingActionRefused):
        actions.delete(lee.principal, meeting_id)  # only cancelled or ended
    with pytest.raises(actions.MeetingActionRefused):
        asyncio.run(actions.cancel(lee.principal, meeting_id, "  "))
    result = asyncio.run(actions.cancel(lee.principal, meeting_id, "Dr. Lee is unwell"))
    assert not result.warning and _zoom_meetings(zoom, "To cancel") == []
    with unit_of_work() as s:
        mails = s.exec(select(Notification).where(Notification.subject == "Telehealth session cancelled")).all()
    assert len(mails) == 1 and "Dr. Lee is unwell" in mails[0].body_text and "METHOD:CANCEL" in mails[0].ics
    actions.delete(lee.principal, meeting_id)
    with unit_of_work() as s:
        assert s.get(Meeting, meeting_id) is None
        assert "meeting.deleted" in [a.action for a in s.exec(select(AuditEvent)).all()]


def test_cancel_while_zoom_is_down_finishes_the_deletion_later(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Cancel later")
    assert _sync(meeting_id)
    control(zoom.url, "POST", "/faults", json={"operation": "meetings.delete", "kind": "500", "count": 1})
    result = asyncio.run(actions.cancel(lee.principal, meeting_id, "Moving clinics"))
    assert result.warning and _row(meeting_id).status == "cancelled"
    assert _row(meeting_id).sync_state == "pending_delete"
    assert _sync(meeting_id) and _zoom_meetings(zoom, "Cancel later") == []


def test_start_fetches_a_fresh_link_and_end_ends_it_at_zoom(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Start and end")
    assert _sync(meeting_id)
    url = asyncio.run(actions.start_url(lee.principal, meeting_id))
    assert "/s/" in url and _row(meeting_id).status == "in_progress"
    assert httpx.get(url).status_code == 200  # the host page: the meeting runs at Zoom
    asyncio.run(actions.end(lee.principal, meeting_id))
    assert _row(meeting_id).status == "completed"
    [at_zoom] = _zoom_meetings(zoom, "Start and end")
    assert at_zoom["status"] == "ended"


def test_nobody_else_can_act_on_a_meeting_by_guessing_its_id(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Private")
    patel, alex = sign_in("dr.patel@demo.clinic"), sign_in("alex@demo.client")
    for attempt in (lambda p: asyncio.run(actions.start_url(p, meeting_id)),
                    lambda p: asyncio.run(actions.end(p, meeting_id)),
                    lambda p: asyncio.run(actions.cancel(p, meeting_id, "x")),
                    lambda p: actions.delete(p, meeting_id)):
        for who in (patel, alex):
            with pytest.raises(NotAllowed):
                attempt(who.principal)
    owner = sign_in("owner@demo.clinic")
    with pytest.raises(NotAllowed):  # owners manage, but only the host may start (the link logs in as host)
        asyncio.run(actions.start_url(owner.principal, meeting_id))




def _post_event(zoom: ZoomSandbox, event: dict) -> None:
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    response = httpx.post(f"{zoom.app_url}/api/zoom/webhook", content=body, headers={
        "x-zm-request-timestamp": stamp, "x-zm-signature": webhooks.sign(WEBHOOK_SECRET, stamp, body),
        "content-type": "application/json"})
    assert response.status_code == 200


def test_zoom_events_move_the_list_and_duplicates_or_late_events_do_not(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Events")
    assert _sync(meeting_id)
    zoom_id = _row(meeting_id).zoom_meeting_id
    control(zoom.url, "POST", f"/meetings/{zoom_id}/start")
    assert wait_until(lambda: _row(meeting_id).status == "in_progress")
    started = next(d for d in control(zoom.url, "GET", "/deliveries")["deliveries"] if d["event"] == "meeting.started")
    control(zoom.url, "POST", f"/meetings/{zoom_id}/end")
    assert wait_until(lambda: _row(meeting_id).status == "completed")
    ended_at = _row(meeting_id).ended_at
    control(zoom.url, "POST", f"/deliveries/{started['id']}/resend")  # a late duplicate of the start
    time.sleep(1.0)
    assert _row(meeting_id).status == "completed" and _row(meeting_id).ended_at == ended_at


def test_a_meeting_deleted_in_zoom_is_cancelled_here_and_the_practitioner_told(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Deleted in Zoom")
    assert _sync(meeting_id)
    zoom_id = _row(meeting_id).zoom_meeting_id
    _post_event(zoom, {"event": "meeting.deleted", "event_ts": int(time.time() * 1000),
                       "payload": {"account_id": "a", "object": {"id": zoom_id, "uuid": "u", "host_id": "h",
                                                                 "topic": "Deleted in Zoom", "type": 2}}})
    assert wait_until(lambda: _row(meeting_id).status == "cancelled")
    assert "deleted in Zoom" in _row(meeting_id).cancel_reason
    with unit_of_work() as s:
        assert s.exec(select(Notification).where(Notification.to_address == "dr.lee@demo.clinic",
                                                 Notification.subject == "Zoom meeting deleted: Deleted in Zoom")
                      ).first()


def test_a_time_changed_in_zoom_is_followed_here(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Moved in Zoom")
    assert _sync(meeting_id)
    row = _row(meeting_id)
    new_start = row.start_at + timedelta(hours=2)
    _post_event(zoom, {"event": "meeting.updated", "event_ts": int((time.time() + 1) * 1000),
                       "payload": {"account_id": "a", "operator": "x", "operator_id": "y",
                                   "object": {"id": row.zoom_meeting_id, "start_time": sync.zoom_time(new_start)},
                                   "old_object": {"id": row.zoom_meeting_id}}})
    assert wait_until(lambda: _row(meeting_id).start_at == new_start)
