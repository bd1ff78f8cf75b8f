"""The client's side of a session against a real database and the Zoom sandbox: My sessions, the
launch window, the waiting room, and the one-time join link that only its client can use, once,
while the session runs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, ZoomConnection
from rxapp.services import changes, crypto
from rxapp.services.audit import trail
from rxapp.services.permissions import NotAllowed
from rxapp.services.telehealth import portal
from rxapp.services.telehealth.meetings import actions, sync
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from rxapp.services.telehealth.portal import JoinRefused
from tests.integration.zoom_helpers import SignedIn, sign_in, user_id, visit, wait_until

NEW_YORK = ZoneInfo("America/New_York")




@pytest.fixture
def alex(lee: SignedIn) -> SignedIn:
    return sign_in("alex@demo.client")


@pytest.fixture
def sam(lee: SignedIn) -> SignedIn:
    return sign_in("sam@demo.client")


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[changes.AppointmentChanged]:
    """Every change announced during the test (the listener list is restored afterwards)."""
    heard: list[changes.AppointmentChanged] = []
    monkeypatch.setattr(changes, "_listeners", list(changes._listeners))
    changes.subscribe(heard.append)
    return heard


def _client_id(email: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one().id or 0


def _at(days: int, hour: str) -> datetime:
    """`hour` in New York, `days` from today, as aware UTC."""
    day = (now() + timedelta(days=days)).astimezone(NEW_YORK).date()
    return datetime.combine(day, datetime.strptime(hour, "%H:%M").time(), NEW_YORK).astimezone(ZoneInfo("UTC"))


def _schedule(who: SignedIn, client_email: str, start: datetime, topic: str = "Weekly session") -> int:
    local = start.astimezone(NEW_YORK)
    draft = MeetingDraft(topic=topic, description="", date=local.date().isoformat(), hour=local.strftime("%H:%M"),
                         timezone="America/New_York", client_id=_client_id(client_email), duration_minutes=50)
    result = schedule_meeting(who.principal, draft, overlap_confirmed=True)
    assert result.meeting_id is not None
    return result.meeting_id


def _row(meeting_id: int) -> SimpleNamespace:
    return visit(meeting_id)


def _live(lee: SignedIn, client_email: str = "alex@demo.client", topic: str = "Live session") -> int:
    """A meeting created at Zoom that Dr. Lee has started (the way the Start meeting link does)."""
    meeting_id = _schedule(lee, client_email, _at(2, "10:00"), topic)
    assert asyncio.run(sync.sync_meeting(meeting_id, force=True))
    assert "/s/" in asyncio.run(actions.start_url(lee.principal, meeting_id))
    return meeting_id


def _token(path: str | None) -> str:
    assert path is not None and re.fullmatch(r"/join/[A-Za-z0-9_-]{20,}", path), path
    return path.removeprefix("/join/")


def _refusal(token: str, who: SignedIn | None) -> str:
    with pytest.raises(JoinRefused) as refused:
        portal.redeem_join_link(token, who.principal if who else None)
    return str(refused.value)




def test_a_client_sees_only_their_own_upcoming_sessions_soonest_first(lee, alex, sam) -> None:
    later = _schedule(lee, "alex@demo.client", _at(3, "10:00"), "Later")
    sooner = _schedule(lee, "alex@demo.client", _at(2, "10:00"), "Sooner")
    called_off = _schedule(lee, "alex@demo.client", _at(2, "14:00"), "Called off")
    asyncio.run(actions.cancel(lee.principal, called_off, "Dr. Lee is away"))
    finished = _schedule(lee, "alex@demo.client", _at(1, "09:00"), "Finished")
    assert asyncio.run(sync.sync_meeting(finished, force=True))
    begun = _at(1, "09:05")
    set_clock(lambda: begun)  # a meeting can be ended once its start has come
    asyncio.run(actions.end(lee.principal, finished))
    set_clock(None)
    _schedule(lee, "sam@demo.client", _at(2, "12:00"), "Sam's session")

    sessions = portal.my_sessions(alex.principal)
    assert [s.topic for s in sessions] == ["Sooner", "Later"]
    assert [s.meeting_id for s in sessions] == [sooner, later]
    for view in sessions:
        assert view.start_at.tzinfo is not None and view.start_at.utcoffset() == timedelta(0)
        assert view.start_at == _row(view.meeting_id).start_at
        assert (view.practitioner_name, view.status, view.duration_minutes) == ("Dr. Dana Lee", "waiting", 50)
        assert view.can_launch is False  # days ahead
    assert sessions[0].start_at == _at(2, "10:00")
    assert [s.topic for s in portal.my_sessions(sam.principal)] == ["Sam's session"]


def test_a_session_that_is_over_leaves_my_sessions(lee, alex) -> None:
    start = _at(2, "10:00")
    meeting_id = _schedule(lee, "alex@demo.client", start, "Soon over")
    set_clock(lambda: start + timedelta(minutes=49))
    assert [s.meeting_id for s in portal.my_sessions(alex.principal)] == [meeting_id]
    set_clock(lambda: start + timedelta(minutes=51))
    assert portal.my_sessions(alex.principal) == []


def test_a_session_can_be_launched_from_15_minutes_before_its_start(lee, alex) -> None:
    start = _at(2, "10:00")
    meeting_id = _schedule(lee, "alex@demo.client", start)

    def can_launch_at(moment: datetime) -> bool:
        set_clock(lambda: moment)
        [view] = portal.my_sessions(alex.principal)
        assert view.can_launch == portal.waiting_room(alex.principal, meeting_id).can_launch
        return view.can_launch

    assert not can_launch_at(start - timedelta(minutes=16))
    assert can_launch_at(start - timedelta(minutes=15))
    assert can_launch_at(start - timedelta(minutes=1))
    assert can_launch_at(start + timedelta(minutes=49))
    set_clock(lambda: start + timedelta(minutes=51))
    assert portal.waiting_room(alex.principal, meeting_id).can_launch is False


def test_a_live_session_can_be_launched_whenever_the_provider_started_it(lee, alex) -> None:
    meeting_id = _live(lee)  # two days before its start
    [view] = portal.my_sessions(alex.principal)
    assert (view.meeting_id, view.status, view.can_launch) == (meeting_id, "live", True)
    asyncio.run(actions.end(lee.principal, meeting_id))
    ended = portal.waiting_room(alex.principal, meeting_id)
    assert (ended.status, ended.can_launch) == ("ended", False)
    assert portal.my_sessions(alex.principal) == []


def test_entering_the_waiting_room_records_the_client_once_and_tells_the_provider(lee, alex, announced) -> None:
    start = _at(2, "10:00")
    meeting_id = _schedule(lee, "alex@demo.client", start)
    announced.clear()
    arrived = start - timedelta(minutes=5)
    set_clock(lambda: arrived)
    assert portal.waiting_room(alex.principal, meeting_id).status == "waiting"
    assert _row(meeting_id).client_waiting_since is None  # only looking is not entering

    view = portal.enter_waiting_room(alex.principal, meeting_id)
    assert (view.meeting_id, view.status, view.can_launch) == (meeting_id, "waiting", True)
    assert _row(meeting_id).client_waiting_since == arrived
    assert announced == [changes.AppointmentChanged(meeting_id, _row(meeting_id).practice_id,
                                                    user_id("dr.lee@demo.clinic"),
                                                    _client_id("alex@demo.client"))]

    set_clock(lambda: arrived + timedelta(minutes=2))  # a reload, a second tab
    portal.enter_waiting_room(alex.principal, meeting_id)
    assert _row(meeting_id).client_waiting_since == arrived
    assert len(announced) == 1


def test_another_client_cannot_reach_someone_elses_session(lee, alex, sam) -> None:
    meeting_id = _live(lee)
    for attempt in (portal.waiting_room, portal.enter_waiting_room, portal.issue_join_link):
        with pytest.raises(NotAllowed):
            attempt(sam.principal, meeting_id)
        with pytest.raises(NotAllowed):  # an id that does not exist looks the same
            attempt(alex.principal, meeting_id + 1000)
    assert _row(meeting_id).client_waiting_since is None
    with unit_of_work() as s:
        assert s.execute(text("SELECT COUNT(*) FROM join_link")).one()[0] == 0


@pytest.mark.parametrize("email", ["dr.lee@demo.clinic", "frontdesk@demo.clinic", "owner@demo.clinic"])
def test_practice_people_do_not_use_the_client_portal(lee, alex, email) -> None:
    meeting_id = _live(lee)
    who = sign_in(email)
    for attempt in (portal.waiting_room, portal.enter_waiting_room, portal.issue_join_link):
        with pytest.raises(NotAllowed):
            attempt(who.principal, meeting_id)
    with pytest.raises(NotAllowed):
        portal.my_sessions(who.principal)


def test_a_join_link_is_issued_only_once_the_provider_started(lee, alex) -> None:
    meeting_id = _schedule(lee, "alex@demo.client", _at(2, "10:00"))
    assert asyncio.run(sync.sync_meeting(meeting_id, force=True))
    assert portal.issue_join_link(alex.principal, meeting_id) is None
    asyncio.run(actions.start_url(lee.principal, meeting_id))
    first = _token(portal.issue_join_link(alex.principal, meeting_id))
    second = _token(portal.issue_join_link(alex.principal, meeting_id))
    assert first != second


def test_a_join_link_works_once_for_its_client(lee, alex) -> None:
    meeting_id = _live(lee)
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    join_url = portal.redeem_join_link(token, alex.principal)
    assert "pwd=" in join_url
    # Zoom's link, with the client's name for Zoom to report (how attendance recognises them).
    assert join_url == crypto.decrypt(_row(meeting_id).join_url_encrypted or "") + "&uname=Alex+Rivera"
    with unit_of_work() as s:
        assert "meeting.client_joined" in [a.action for a in s.exec(select(AuditEvent)).all()]
    assert "already used" in _refusal(token, alex)


def test_join_url_is_the_one_zoom_gave_for_the_meeting(zoom, lee, alex) -> None:
    meeting_id = _live(lee)
    with unit_of_work() as s:
        access = crypto.decrypt(s.exec(select(ZoomConnection)).one().access_token_encrypted)
    at_zoom = httpx.get(f"{zoom.url}/v2/meetings/{_row(meeting_id).zoom_meeting_id}",
                        headers={"Authorization": f"Bearer {access}"}).json()
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    assert portal.redeem_join_link(token, alex.principal) == at_zoom["join_url"] + "&uname=Alex+Rivera"


def test_a_join_link_is_refused_to_anyone_but_its_client_without_using_it_up(lee, alex, sam) -> None:
    meeting_id = _live(lee)
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    assert "belongs to someone else" in _refusal(token, sam)
    assert "belongs to someone else" in _refusal(token, None)
    assert "belongs to someone else" in _refusal(token, lee)  # not even the provider
    assert "pwd=" in portal.redeem_join_link(token, alex.principal)


def test_a_join_link_stops_working_when_the_session_ends(lee, alex) -> None:
    meeting_id = _live(lee)
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    asyncio.run(actions.end(lee.principal, meeting_id))
    assert "has ended" in _refusal(token, alex)
    assert portal.issue_join_link(alex.principal, meeting_id) is None


def test_a_join_link_stops_working_when_the_meeting_is_deleted_in_zoom(zoom, lee, alex) -> None:
    meeting_id = _live(lee)
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    with unit_of_work() as s:
        access = crypto.decrypt(s.exec(select(ZoomConnection)).one().access_token_encrypted)
    httpx.delete(f"{zoom.url}/v2/meetings/{_row(meeting_id).zoom_meeting_id}",
                 headers={"Authorization": f"Bearer {access}"}).raise_for_status()
    assert wait_until(lambda: _row(meeting_id).status == "cancelled")  # Zoom's meeting.deleted webhook
    assert "has ended" in _refusal(token, alex)
    assert portal.waiting_room(alex.principal, meeting_id).status == "cancelled"


def test_an_unknown_join_token_is_refused(lee, alex) -> None:
    _live(lee)
    assert "not valid" in _refusal("not-a-real-token-at-all-0123456789", alex)
    assert "not valid" in _refusal("", alex)


def test_join_links_are_stored_only_as_hashes(lee, alex) -> None:
    meeting_id = _live(lee)
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    with unit_of_work() as s:
        rows = [tuple(r) for r in s.execute(text("SELECT * FROM join_link")).all()]
    assert len(rows) == 1
    assert not any(token in str(value) for value in rows[0])
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]



def test_a_join_link_redeemed_twice_at_the_same_moment_works_only_once(lee, alex, monkeypatch) -> None:
    meeting_id = _live(lee)
    token = _token(portal.issue_join_link(alex.principal, meeting_id))
    # Hold each redemption just before it commits until the other one got there too (a fixed
    # version lets only one through, so the wait simply times out and it goes on).
    both_checked = threading.Barrier(2)
    record = trail.record

    def record_when_both_checked(*args: object, **kwargs: object) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)
        record(*args, **kwargs)

    monkeypatch.setattr(trail, "record", record_when_both_checked)
    with ThreadPoolExecutor(2) as pool:
        attempts = [pool.submit(portal.redeem_join_link, token, alex.principal) for _ in range(2)]
    outcomes = ["joined" if a.exception() is None else str(a.exception()) for a in attempts]
    assert outcomes.count("joined") == 1, outcomes


def test_the_safety_poll_asks_for_pushes_again_after_the_worker_forgot_them(lee, alex, monkeypatch) -> None:
    """Without Redis the watches live in the worker's memory: a restarted worker has none, and the
    page's safety poll (it runs while the socket is down) must register its watch again."""
    from rxapp import live
    from rxapp.state.portal import WaitingRoomState
    from tests.integration.page_states import page_state, run

    meeting_id = _schedule(lee, "alex@demo.client", _at(2, "10:00"))
    monkeypatch.setattr(live, "_registry", live._MemoryRegistry())
    room = page_state(WaitingRoomState, "/portal/waiting", "alex@demo.client", query={"meeting": str(meeting_id)})
    run(room.load())
    tab = room.router.session.client_token
    assert (room.status, room.push_ready) == ("waiting", True)
    assert asyncio.run(live.registry().watchers(f"meeting:{meeting_id}")) == [tab]

    monkeypatch.setattr(live, "_registry", live._MemoryRegistry())  # the worker restarted
    run(room.poll())
    assert asyncio.run(live.registry().watchers(f"meeting:{meeting_id}")) == [tab]
    assert room.status == "waiting"
