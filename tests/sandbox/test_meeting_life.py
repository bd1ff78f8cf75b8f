"""Meeting life: host start page, the 2-hour start link, participants, ending."""

from __future__ import annotations

from collections.abc import Callable

from .conftest import Receiver, Zoom


def _path(url: str, zoom: Zoom) -> str:
    assert url.startswith(zoom.sandbox.base_url)
    return url[len(zoom.sandbox.base_url):]


def test_host_page_starts_and_end_button_ends(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token, topic="Therapy session")
    page = zoom.http.get(_path(meeting["start_url"], zoom))
    assert page.status_code == 200 and "Meeting in progress" in page.text and ">End Meeting</button>" in page.text
    started = receiver.wait_for("meeting.started")[0].json["payload"]["object"]
    assert started["id"] == str(meeting["id"]) and started["uuid"] == meeting["uuid"]
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).json()["status"] == "started"
    zoom.http.get(_path(meeting["start_url"], zoom))  # reloading does not start it twice
    zak = page.text.split('name="zak" value="')[1].split('"')[0]
    ended_page = zoom.http.post(f"/s/{meeting['id']}/end", data={"zak": zak})
    assert ended_page.status_code == 200 and "has ended" in ended_page.text
    ended = receiver.wait_for("meeting.ended")[0].json["payload"]["object"]
    assert ended["id"] == str(meeting["id"]) and ended["end_time"]
    assert len(receiver.events("meeting.started")) == 1
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).json()["status"] == "waiting"


def test_start_link_expires_after_two_hours(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token)
    zoom.control("POST", "/clock/advance", json={"seconds": 7201})
    expired = zoom.http.get(_path(meeting["start_url"], zoom))
    assert expired.status_code == 410 and "This link has expired" in expired.text
    token = zoom.connect()["access_token"]  # the access token expired meanwhile too
    fresh = zoom.api("GET", f"/meetings/{meeting['id']}", token).json()["start_url"]
    assert zoom.http.get(_path(fresh, zoom)).status_code == 200
    assert zoom.http.get(f"/s/{meeting['id']}?zak=forged").status_code == 403


def test_start_link_ttl_is_configurable(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(start_url_ttl=60)
    meeting = zoom.create(zoom.connect()["access_token"])
    zoom.control("POST", "/clock/advance", json={"seconds": 61})
    assert zoom.http.get(_path(meeting["start_url"], zoom)).status_code == 410


def test_participants_wait_before_host_and_join_after(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token, topic="Check-up")
    join = _path(meeting["join_url"], zoom)
    waiting = zoom.http.get(join + "&uname=Pat%20Client")
    assert waiting.status_code == 200 and "You are in the waiting room" in waiting.text and "Check-up" in waiting.text
    event = receiver.wait_for("meeting.participant_joined_waiting_room")[0].json["payload"]["object"]
    assert event["participant"]["user_name"] == "Pat Client" and event["id"] == str(meeting["id"])
    zoom.control("POST", f"/meetings/{meeting['id']}/start")
    joined = zoom.http.get(join)
    assert "You have joined the meeting" in joined.text
    receiver.wait_for("meeting.participant_joined")
    wrong = zoom.http.get(f"/j/{meeting['id']}?pwd=wrong")
    assert wrong.status_code == 403 and "passcode" in wrong.text.lower()
    assert zoom.http.get("/j/99999999999").status_code == 404


def test_control_drives_meeting_life(zoom: Zoom, receiver: Receiver) -> None:
    meeting = zoom.create(zoom.connect()["access_token"])
    mid = meeting["id"]
    assert zoom.control("POST", f"/meetings/{mid}/join", json={"name": "Early"}).json() == {"state": "waiting"}
    assert zoom.control("POST", f"/meetings/{mid}/start").json()["status"] == "started"
    assert zoom.control("POST", f"/meetings/{mid}/join", json={"name": "Late"}).json() == {"state": "joined"}
    assert zoom.control("POST", f"/meetings/{mid}/end").json()["status"] == "ended"
    for name in ("meeting.participant_joined_waiting_room", "meeting.started", "meeting.participant_joined",
                 "meeting.ended"):
        receiver.wait_for(name)


def test_basic_account_runs_one_meeting_at_a_time(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect("basic@zoom.demo")["access_token"]
    first, second = zoom.create(token), zoom.create(token)
    zoom.http.get(_path(first["start_url"], zoom))
    zoom.http.get(_path(second["start_url"], zoom))
    assert zoom.api("GET", f"/meetings/{first['id']}", token).json()["status"] == "waiting"
    assert zoom.api("GET", f"/meetings/{second['id']}", token).json()["status"] == "started"
    ended = receiver.wait_for("meeting.ended")[0].json["payload"]["object"]
    assert ended["id"] == str(first["id"])
    # A licensed user may run two.
    lee = zoom.connect("lee@zoom.demo")["access_token"]
    a, b = zoom.create(lee), zoom.create(lee)
    zoom.control("POST", f"/meetings/{a['id']}/start")
    zoom.control("POST", f"/meetings/{b['id']}/start")
    assert zoom.api("GET", f"/meetings/{a['id']}", lee).json()["status"] == "started"
