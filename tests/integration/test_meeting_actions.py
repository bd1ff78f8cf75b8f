"""The Meetings page's row actions against a real database and the Zoom sandbox: actions by id
(never by position), the decisions the page shows are the ones the services enforce, Retry,
End and its email, plausible dates, honest limits, the viewer's timezone, and what the client
is told about a session that needs attention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, Notification, SyncState
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.services.telehealth import portal
from rxapp.services.telehealth.meetings import actions, sync
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, MeetingInvalid, latest_day, schedule_meeting
from rxapp.services.telehealth.zoom import connections
from rxapp.state.meetings import MeetingsState
from rxapp.state.new_meeting import NewMeetingState
from tests.integration.zoom_helpers import SignedIn, control, sign_in, visit

NEW_YORK = ZoneInfo("America/New_York")


def _client_id(email: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one().id or 0


def _draft(day: date, hour: str = "10:00", client: str = "alex@demo.client", topic: str = "Session",
           description: str = "") -> MeetingDraft:
    return MeetingDraft(topic=topic, description=description, date=day.isoformat(), hour=hour,
                        timezone="America/New_York", client_id=_client_id(client), duration_minutes=50)


def _day(days: int) -> date:
    return (now() + timedelta(days=days)).astimezone(NEW_YORK).date()


def _schedule(who: SignedIn, hour: str = "10:00", client: str = "alex@demo.client", topic: str = "Session",
              days: int = 3) -> int:
    meeting_id = schedule_meeting(who.principal, _draft(_day(days), hour, client, topic),
                                  overlap_confirmed=True).meeting_id
    assert meeting_id is not None
    assert asyncio.run(sync.sync_meeting(meeting_id, force=True))
    return meeting_id


def _row(meeting_id: int) -> SimpleNamespace:
    return visit(meeting_id)


def _set(meeting_id: int, **values: object) -> None:
    with unit_of_work() as s:
        appointment, meeting = s.get(Appointment, meeting_id), s.get(Meeting, meeting_id)
        assert appointment is not None and meeting is not None
        for name, value in values.items():
            setattr(meeting if name in Meeting.model_fields else appointment, name, value)


def _mail(to: str, subject_contains: str) -> list[Notification]:
    with unit_of_work() as s:
        return [n for n in s.exec(select(Notification).where(Notification.to_address == to))
                if subject_contains in n.subject]


def _page_as(who: SignedIn, monkeypatch: pytest.MonkeyPatch) -> MeetingsState:
    """The Meetings page's state for a signed-in user, without a browser."""
    async def principal(self: MeetingsState) -> Principal:
        return who.principal

    monkeypatch.setattr(MeetingsState, "_principal", principal)
    monkeypatch.setattr(MeetingsState, "_session_token", lambda self: who.token)
    state = MeetingsState()
    asyncio.run(state._reload())
    return state


def _toast(event: object) -> str:
    return str(event)


async def _drain(events: AsyncIterator[object]) -> list[object]:
    """Every event a generator handler yields."""
    return [e async for e in events]


# Issue 10, item 2: actions by id.

def test_cancel_acts_on_the_meeting_chosen_when_a_push_puts_another_above_it(zoom, lee, monkeypatch) -> None:
    chosen = _schedule(lee, "10:00", "alex@demo.client", "Chosen")
    page = _page_as(lee, monkeypatch)
    assert [r["topic"] for r in page.rows] == ["Chosen"]
    page.open_cancel(page.rows[0]["id"])
    page.set_cancel_reason("Dr. Lee is away")
    inserted = _schedule(lee, "08:00", "sam@demo.client", "Inserted")  # sorts above the chosen one
    asyncio.run(page._reload())  # what the live push does
    assert [r["topic"] for r in page.rows] == ["Inserted", "Chosen"]
    assert "Meeting cancelled" in _toast(asyncio.run(page.confirm_cancel()))
    assert _row(chosen).status == AppointmentStatus.CANCELLED and _row(inserted).status == AppointmentStatus.BOOKED
    assert len(_mail("alex@demo.client", "cancelled")) == 1 and _mail("sam@demo.client", "cancelled") == []
    # It had a Zoom meeting (synced above), so the email says its link no longer works.
    assert "The Zoom meeting was removed" in _mail("alex@demo.client", "cancelled")[0].body_text


def test_a_foreign_meeting_id_is_refused_by_the_page_and_by_the_services(zoom, lee, monkeypatch) -> None:
    lees = _schedule(lee, topic="Dr. Lee's")
    patel = sign_in("dr.patel@demo.clinic")
    page = _page_as(patel, monkeypatch)
    assert "no longer in the list" in _toast(page.open_cancel(str(lees)))
    assert "no longer in the list" in _toast(page.ask_end(str(lees)))
    page.cancel_id, page.cancel_reason = lees, "crafted"  # a crafted event that set the id anyway
    assert "not allowed" in _toast(asyncio.run(page.confirm_cancel()))
    page.confirm_action, page.confirm_id = "delete", lees
    assert "not allowed" in _toast(asyncio.run(page.confirm()))
    events = asyncio.run(_drain(page.retry_meeting(str(lees))))
    assert "not allowed" in _toast(events[-1])
    with pytest.raises(NotAllowed):
        asyncio.run(actions.retry(patel.principal, lees))
    assert _row(lees).status == AppointmentStatus.BOOKED and _mail("alex@demo.client", "cancelled") == []


# Issue 11, item 2: the page shows what the services decide.

def test_a_cancelled_meeting_whose_zoom_delete_failed_offers_delete_and_retry_not_cancel(zoom, lee,
                                                                                         monkeypatch) -> None:
    meeting_id = _schedule(lee, topic="Stuck at Zoom")
    asyncio.run(actions.cancel(lee.principal, meeting_id, "Dr. Lee is away"))
    zoom_id = _row(meeting_id).zoom_meeting_id
    _set(meeting_id, sync_state=SyncState.NEEDS_ATTENTION, zoom_meeting_id=zoom_id or 123,
         last_sync_error="Deleting the Zoom meeting failed: Zoom is not connected")
    [row] = _page_as(lee, monkeypatch).rows
    assert (row["status"], row["can_cancel"], row["can_delete"], row["can_retry"]) == ("Needs attention", "", "1", "1")
    with pytest.raises(actions.MeetingActionRefused):
        asyncio.run(actions.cancel(lee.principal, meeting_id, "again"))
    result = actions.delete(lee.principal, meeting_id)
    assert result.warning and "delete it in Zoom" in result.message


# Issue 11, item 3: Retry.

def test_retry_requeues_a_needs_attention_meeting_and_zoom_catches_up(zoom, lee, monkeypatch) -> None:
    meeting_id = _schedule(lee, topic="Needs a retry")
    _set(meeting_id, sync_state=SyncState.NEEDS_ATTENTION, topic="Renamed while Zoom was unreachable",
         last_sync_error="Updating Zoom failed: Zoom is not connected")
    page = _page_as(lee, monkeypatch)
    assert page.rows[0]["can_retry"] == "1" and page.rows[0]["start_href"] == ""
    events = asyncio.run(_drain(page.retry_meeting(page.rows[0]["id"])))
    assert "Trying Zoom again" in _toast(events[0]) and "in step" in _toast(events[-1])
    row = _row(meeting_id)
    assert row.sync_state == SyncState.SYNCED and row.last_sync_error == ""
    [at_zoom] = [m for m in control(zoom.url, "GET", "/meetings")["meetings"] if m["id"] == row.zoom_meeting_id]
    assert at_zoom["topic"] == "Renamed while Zoom was unreachable"
    assert page.rows[0]["can_retry"] == "" and page.rows[0]["status"] == "Scheduled"
    with pytest.raises(actions.MeetingActionRefused):  # nothing needs attention any more
        asyncio.run(actions.retry(lee.principal, meeting_id))


def test_retry_while_zoom_is_still_disconnected_says_so(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Still disconnected")
    asyncio.run(connections.disconnect(lee.principal, lee.principal.user_id))
    assert _row(meeting_id).sync_state == SyncState.NEEDS_ATTENTION
    result = asyncio.run(actions.retry(lee.principal, meeting_id))
    assert result.warning and "still needs attention" in result.message and "connect" in result.message.lower()
    assert _row(meeting_id).sync_state == SyncState.NEEDS_ATTENTION


# Issue 11, item 6: End only when it makes sense, and the client is told; New meeting only for practitioners.

def test_end_is_refused_before_the_start_and_ending_emails_the_client(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Ends by the clock")
    with pytest.raises(actions.MeetingActionRefused, match="not started yet"):
        asyncio.run(actions.end(lee.principal, meeting_id))
    begun = _row(meeting_id).start_at + timedelta(minutes=5)
    set_clock(lambda: begun)
    asyncio.run(actions.end(lee.principal, meeting_id))
    assert _row(meeting_id).status == AppointmentStatus.COMPLETED
    [mail] = _mail("alex@demo.client", "Telehealth session ended")
    assert "Ends by the clock" in mail.body_text and "Dr. Dana Lee ended" in mail.body_text


def test_new_meeting_is_offered_only_to_practitioners(zoom, lee, monkeypatch) -> None:
    assert _page_as(lee, monkeypatch).can_schedule
    for email in ("owner@demo.clinic", "manager@demo.clinic"):
        assert not _page_as(sign_in(email), monkeypatch).can_schedule


def test_a_client_whose_session_needs_attention_is_not_told_to_wait_for_the_provider(zoom, lee) -> None:
    meeting_id = _schedule(lee, topic="Broken at Zoom")
    _set(meeting_id, sync_state=SyncState.NEEDS_ATTENTION)
    alex = sign_in("alex@demo.client")
    in_window = _row(meeting_id).start_at - timedelta(minutes=5)
    set_clock(lambda: in_window)
    [view] = portal.my_sessions(alex.principal)
    assert view.status == portal.SessionStatus.SETTING_UP and not view.can_launch
    assert portal.enter_waiting_room(alex.principal, meeting_id).status == portal.SessionStatus.SETTING_UP
    assert portal.issue_join_link(alex.principal, meeting_id) is None


# Issue 11, item 7: plausible dates, honest limits, the viewer's timezone, plurals.

@pytest.mark.parametrize("day", ["9999-12-31", "far"])
def test_dates_more_than_two_years_ahead_are_refused_and_nothing_is_saved(zoom, lee, day) -> None:
    chosen = date(9999, 12, 31) if day == "9999-12-31" else latest_day(_day(0)) + timedelta(days=1)
    with pytest.raises(MeetingInvalid) as refused:
        schedule_meeting(lee.principal, _draft(chosen))
    assert "within 2 years" in refused.value.errors["date"]
    with unit_of_work() as s:
        assert s.exec(select(Meeting)).all() == []


def test_a_date_exactly_two_years_ahead_is_accepted(zoom, lee) -> None:
    assert schedule_meeting(lee.principal, _draft(latest_day(_day(0)))).meeting_id is not None


def test_the_stated_text_limits_are_the_enforced_ones_and_nothing_is_cut(zoom, lee, monkeypatch) -> None:
    form = NewMeetingState()
    form.edit("description", "x" * 2100 + "the end")
    assert form.description.endswith("the end") and form.errors["description"].startswith("Use at most 2,000")
    assert form.description_count == "2,107 / 2,000 characters"
    form.edit("topic", "t" * 201)
    assert len(form.topic) == 201 and "200" in form.errors["topic"] and form.topic_count == "201 / 200 characters"
    assert schedule_meeting(lee.principal, _draft(_day(3), description="d" * 2000)).meeting_id is not None
    with pytest.raises(MeetingInvalid):
        schedule_meeting(lee.principal, _draft(_day(3), description="d" * 2001))

    meeting_id = _schedule(lee, hour="12:00", topic="Reason limit")
    page = _page_as(lee, monkeypatch)
    page.open_cancel(str(meeting_id))
    page.set_cancel_reason("r" * 600)
    assert len(page.cancel_reason) == 600 and "500" in page.cancel_error
    assert page.cancel_reason_count == "600 / 500 characters"
    asyncio.run(page.confirm_cancel())
    assert _row(meeting_id).status == AppointmentStatus.BOOKED  # refused, not cut


def test_meetings_needing_attention_after_a_disconnect_are_listed_in_the_viewers_timezone(zoom, lee) -> None:
    meeting_id = _schedule(lee, hour="10:00", topic="After disconnect")
    outcome = asyncio.run(connections.disconnect(lee.principal, lee.principal.user_id))
    local = _row(meeting_id).start_at.astimezone(NEW_YORK)
    [listed] = outcome.meetings_needing_attention
    assert "10:00" in listed and local.tzname() in listed and "UTC" not in listed


def test_the_launch_prompt_and_the_client_use_the_same_launch_window(zoom, lee, monkeypatch) -> None:
    meeting_id = _schedule(lee, topic="Launch window")
    start = _row(meeting_id).start_at
    alex = sign_in("alex@demo.client")
    for minutes_before, inside in ((16, False), (15, True)):
        moment = start - timedelta(minutes=minutes_before)
        set_clock(lambda moment=moment: moment)
        page = _page_as(lee, monkeypatch)
        assert (page.launch_prompt != "") is inside
        assert portal.my_sessions(alex.principal)[0].can_launch is inside


def test_a_deleted_meetings_id_is_never_given_to_a_new_meeting(zoom, lee) -> None:
    """A row action still carrying a deleted meeting's id must not reach a new meeting, and the
    new meeting's emails must not be dropped as duplicates of the old one's (SQLite reused ids)."""
    _schedule(lee, topic="Kept")
    gone = _schedule(lee, hour="12:00", topic="Deleted")
    asyncio.run(actions.cancel(lee.principal, gone, "Dr. Lee is away"))
    actions.delete(lee.principal, gone)
    fresh = _schedule(lee, hour="14:00", client="sam@demo.client", topic="New")
    assert fresh > gone
    with pytest.raises(NotAllowed):  # the stale id finds nothing
        asyncio.run(actions.cancel(lee.principal, gone, "stale click"))
    assert len(_mail("sam@demo.client", "Telehealth session on")) == 1
