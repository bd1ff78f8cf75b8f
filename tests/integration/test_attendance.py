"""Issue 27.1: attendance from Zoom's participant events, through the real sandbox and the app's
webhook route. The client is recognised by the name our join link gives Zoom; a guest with no
email is "a participant"; only who and when are stored; duplicated and out-of-order events change
nothing; after the end the outcome is offered (Completed when the client attended, No-show when
they never joined), never set."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Attendance, WebhookEvent
from rxapp.services.scheduling import appointments
from rxapp.services.telehealth import meeting_list, portal
from rxapp.services.telehealth.meetings import actions, attendance
from rxapp.services.telehealth.zoom import webhooks
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, control, meeting_at_zoom, sign_in, visit, wait_until

NEW_YORK = ZoneInfo("America/New_York")


def _zoom_id(meeting_id: int) -> int:
    zoom_id = visit(meeting_id).zoom_meeting_id
    assert zoom_id
    return zoom_id


def _summary(meeting_id: int) -> attendance.Summary | None:
    with unit_of_work() as s:
        return attendance.summaries(s, [meeting_id]).get(meeting_id)


def _advance(zoom: ZoomSandbox, minutes: int) -> None:
    control(zoom.url, "POST", "/clock/advance", json={"seconds": minutes * 60})


def _row(lee: SignedIn, meeting_id: int) -> meeting_list.MeetingRow:
    page = meeting_list.list_meetings(lee.principal, meeting_list.MeetingFilters(period="all", page_size=50))
    return next(r for r in page.rows if r.id == meeting_id)


def test_the_client_s_minutes_come_from_zoom_and_completed_is_offered(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=5)
    zoom_id = _zoom_id(meeting_id)
    control(zoom.url, "POST", f"/meetings/{zoom_id}/start")
    assert wait_until(lambda: visit(meeting_id).status == AppointmentStatus.IN_PROGRESS)
    # Alex joins through the portal's join link: Zoom's page with his name filled in.
    alex = sign_in("alex@demo.client")
    link = portal.issue_join_link(alex.principal, meeting_id)
    assert link is not None
    join_url = portal.redeem_join_link(link.removeprefix("/join/"), alex.principal)
    page = httpx.get(join_url)
    assert "You have joined the meeting" in page.text
    alex_uuid = re.search(r'name="participant_uuid" value="([^"]+)"', page.text)
    assert alex_uuid
    assert wait_until(lambda: (_summary(meeting_id) or attendance.Summary(None, None, 0, "")).client_state
                      == "meeting")
    # A guest who is not signed in to Zoom (no email, another name) drops in and out.
    guest = control(zoom.url, "POST", f"/meetings/{zoom_id}/join", json={"name": "Someone Else"})
    _advance(zoom, 49)
    control(zoom.url, "POST", f"/meetings/{zoom_id}/leave", json={"participant_uuid": guest["participant_uuid"]})
    assert httpx.post(f"{zoom.url}/j/{zoom_id}/leave", data={"participant_uuid": alex_uuid.group(1)}).status_code == 200
    _advance(zoom, 2)
    control(zoom.url, "POST", f"/meetings/{zoom_id}/end")
    assert wait_until(lambda: visit(meeting_id).ended_at is not None and (_summary(meeting_id) or attendance.Summary(
        None, None, 0, "")).host is not None and _summary(meeting_id).host.left_at is not None)  # type: ignore[union-attr]

    summary = _summary(meeting_id)
    assert summary is not None and summary.client is not None and summary.host is not None
    assert summary.client.minutes == 49 and summary.others == 1 and summary.client_state == "left"
    assert summary.host.minutes == 51
    text = attendance.describe(summary, "America/New_York")
    joined = summary.client.joined_at.astimezone(NEW_YORK).strftime("%H:%M")
    assert text == f"Client joined {joined}, left {summary.client.left_at.astimezone(NEW_YORK):%H:%M} (49 min)"  # type: ignore[union-attr]

    # Only who and when are kept: no name or email of anyone, in the spans or the stored events.
    with unit_of_work() as s:
        spans = s.exec(select(Attendance).where(Attendance.appointment_id == meeting_id)).all()
        stored = " ".join(e.payload for e in s.exec(select(WebhookEvent)).all())
    assert sorted(span.who for span in spans) == ["client", "host", "participant"]
    for secret in ("Alex", "Rivera", "Someone", "alex@demo.client", "lee@zoom.demo", "Dana Lee"):
        assert secret not in stored
    assert '"role": "client"' in stored and '"role": "host"' in stored

    # Ended: the outcome is offered, not set.
    row = _row(lee, meeting_id)
    assert visit(meeting_id).outcome_recorded_at is None
    assert attendance.offer(True, row.outcome_recorded, row.attendance) == attendance.COMPLETED
    appointments.set_outcome(lee.principal, meeting_id, AppointmentStatus.COMPLETED)
    row = _row(lee, meeting_id)
    assert row.outcome_recorded and attendance.offer(True, row.outcome_recorded, row.attendance) == ""
    # Deleting the ended meeting from the list takes its attendance with it.
    actions.delete(lee.principal, meeting_id)
    with unit_of_work() as s:
        assert s.exec(select(Attendance).where(Attendance.appointment_id == meeting_id)).first() is None


def test_a_client_who_never_joined_is_offered_as_a_no_show(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = meeting_at_zoom(lee, "sam@demo.client", 5)
    zoom_id = _zoom_id(meeting_id)
    control(zoom.url, "POST", f"/meetings/{zoom_id}/start")
    control(zoom.url, "POST", f"/meetings/{zoom_id}/join", json={"name": "Not The Client"})
    _advance(zoom, 20)
    control(zoom.url, "POST", f"/meetings/{zoom_id}/end")
    assert wait_until(lambda: visit(meeting_id).ended_at is not None and _summary(meeting_id) is not None
                      and _summary(meeting_id).others == 1)  # type: ignore[union-attr]
    row = _row(lee, meeting_id)
    assert row.attendance is not None and row.attendance.client is None
    assert attendance.offer(True, False, row.attendance) == attendance.NO_SHOW
    assert visit(meeting_id).status == AppointmentStatus.COMPLETED  # "Ended"; nothing recorded
    assert visit(meeting_id).outcome_recorded_at is None


def _participant_event(name: str, zoom_id: int, person: dict, at: datetime, ts: int) -> dict:
    time_field = "leave_time" if name.endswith("_left") else "join_time"
    return {"event": f"meeting.participant_{name}", "event_ts": ts,
            "payload": {"account_id": "acct", "object": {
                "id": str(zoom_id), "uuid": "instance==", "host_id": "host", "duration": 50, "type": 2,
                "participant": {**person, time_field: at.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}


def test_repeated_and_out_of_order_events_change_nothing(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=5)
    zoom_id = _zoom_id(meeting_id)
    alex = {"user_id": "16778250", "user_name": "Alex Rivera", "id": "", "participant_uuid": "P-ALEX",
            "email": ""}
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    left = _participant_event("left", zoom_id, alex, start + timedelta(minutes=30), 2_000)
    joined = _participant_event("joined", zoom_id, alex, start, 1_000)
    rejoined = _participant_event("joined", zoom_id, {**alex, "user_id": "16778251"}, start + timedelta(minutes=40),
                                  3_000)
    left_again = _participant_event("left", zoom_id, {**alex, "user_id": "16778251"}, start + timedelta(minutes=45),
                                    4_000)
    # The leave arrives first, then its join; each twice; then a rejoin, its leave before it.
    for event in (left, left, joined, joined, left_again, rejoined, rejoined):
        control(zoom.url, "POST", "/webhooks/send", json=event)
    assert wait_until(lambda: _spans(meeting_id) == [(start, start + timedelta(minutes=30)),
                                                      (start + timedelta(minutes=40), start + timedelta(minutes=45))])
    summary = _summary(meeting_id)
    assert summary is not None and summary.client is not None and summary.client.minutes == 35
    # Deliveries Zoom retries (the same bytes) are stored once.
    for delivery in control(zoom.url, "GET", "/deliveries")["deliveries"][-3:]:
        control(zoom.url, "POST", f"/deliveries/{delivery['id']}/resend")
    assert wait_until(lambda: len(control(zoom.url, "GET", "/deliveries")["deliveries"]) >= 10)
    assert _spans(meeting_id) == [(start, start + timedelta(minutes=30)),
                                  (start + timedelta(minutes=40), start + timedelta(minutes=45))]


def test_a_join_and_its_leave_applied_at_the_same_moment_make_one_span(zoom: ZoomSandbox, lee: SignedIn,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Zoom's deliveries arrive at once: two events of one meeting take turns, so the leave finds its join
    instead of each opening a span of its own (which would count a guest twice, or keep a client who
    left "in the meeting" until its end)."""
    meeting_id = meeting_at_zoom(lee, minutes_ahead=5)
    zoom_id = _zoom_id(meeting_id)
    guest = {"user_id": "16778299", "user_name": "Someone Else", "id": "", "participant_uuid": "P-GUEST",
             "email": ""}
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    events = [_participant_event("joined", zoom_id, guest, start, 1_000),
              _participant_event("left", zoom_id, guest, start + timedelta(minutes=20), 2_000)]
    both_here = threading.Barrier(2, timeout=1)
    real_record = attendance.record

    def record(*args: Any, **kwargs: Any) -> bool:
        # Without turns both events get here together, both find no span, and each adds one. With turns the
        # other event waits for this one's commit, and the barrier gives up after 1 s.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_here.wait()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(attendance, "record", record)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda event: webhooks.HANDLERS[event["event"]](event), events))
    with unit_of_work() as s:
        spans = [(a.joined_at, a.left_at) for a in s.exec(select(Attendance).where(
            Attendance.appointment_id == meeting_id, Attendance.who == "participant"))]
    assert spans == [(start, start + timedelta(minutes=20))]


def _spans(meeting_id: int) -> list[tuple[datetime | None, datetime | None]]:
    with unit_of_work() as s:
        return sorted(((a.joined_at, a.left_at) for a in s.exec(select(Attendance).where(
            Attendance.appointment_id == meeting_id, Attendance.who == "client"))),
            key=lambda p: p[0] or p[1] or datetime.min.replace(tzinfo=UTC))


@pytest.mark.parametrize("status", [AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW])
def test_recording_an_outcome_says_who_and_when(lee: SignedIn, status: AppointmentStatus) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=5)
    with unit_of_work() as s:
        appointment = s.get(Appointment, meeting_id)
        assert appointment is not None
        appointment.start_at = now() - timedelta(hours=1)
    appointments.set_outcome(lee.principal, meeting_id, status)
    row = visit(meeting_id)
    assert row.status == status and row.outcome_recorded_at is not None
    assert json.dumps(str(row.outcome_recorded_at))
