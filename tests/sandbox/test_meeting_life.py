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
    assert zoom.control("POST", f"/meetings/{mid}/join", json={"name": "Early"}).json()["state"] == "waiting"
    assert zoom.control("POST", f"/meetings/{mid}/start").json()["status"] == "started"
    late = zoom.control("POST", f"/meetings/{mid}/join", json={"name": "Late"}).json()
    assert late["state"] == "joined"
    assert zoom.control("POST", f"/meetings/{mid}/leave", json={"participant_uuid": late["participant_uuid"]}) \
        .json() == {"state": "left"}
    assert zoom.control("POST", f"/meetings/{mid}/leave", json={"participant_uuid": late["participant_uuid"]}) \
        .status_code == 404
    assert zoom.control("POST", f"/meetings/{mid}/end").json()["status"] == "ended"
    for name in ("meeting.participant_joined_waiting_room", "meeting.started", "meeting.participant_joined",
                 "meeting.participant_left_waiting_room", "meeting.participant_left", "meeting.ended"):
        receiver.wait_for(name)


def test_participant_events_have_zoom_s_documented_shape(zoom: Zoom, receiver: Receiver) -> None:
    """Host, client and a guest with no email: each event carries the participant fields Zoom's webhook
    documents require, the host with their user id, the guest with an empty email and id."""
    meeting = zoom.create(zoom.connect("lee@zoom.demo")["access_token"])
    mid = meeting["id"]
    client = zoom.control("POST", f"/meetings/{mid}/join", json={"name": "Alex Rivera",
                                                                  "email": "alex@demo.client"}).json()
    zoom.control("POST", f"/meetings/{mid}/start")
    guest = zoom.control("POST", f"/meetings/{mid}/join", json={"name": "Someone"}).json()
    zoom.control("POST", f"/meetings/{mid}/leave", json={"participant_uuid": guest["participant_uuid"]})
    zoom.control("POST", f"/meetings/{mid}/end")
    required = {"meeting.participant_joined": (3, ("user_id", "user_name", "email", "join_time")),
                "meeting.participant_left": (3, ("user_id", "email", "leave_time")),
                "meeting.participant_joined_waiting_room": (1, ("user_id", "email", "date_time")),
                "meeting.participant_left_waiting_room": (1, ("user_id", "email", "date_time"))}
    seen: dict[str, list[dict]] = {}
    for name, (count, fields) in required.items():
        for delivery in receiver.wait_for(name, count):
            obj = delivery.json["payload"]["object"]
            assert obj["id"] == str(mid) and obj["uuid"] and obj["host_id"]
            for field in fields:
                assert field in obj["participant"], (name, field)
            seen.setdefault(name, []).append(obj["participant"])
    joined = {p["user_name"]: p for p in seen["meeting.participant_joined"]}
    lee = next(u for u in zoom.control("GET", "/users").json()["users"] if u["email"] == "lee@zoom.demo")
    assert joined["Dana Lee"]["id"] == lee["id"] and joined["Dana Lee"]["email"] == "lee@zoom.demo"
    assert joined["Someone"]["email"] == "" and joined["Someone"]["id"] == ""
    assert joined["Alex Rivera"]["participant_uuid"] == client["participant_uuid"]
    left = {p["participant_uuid"] for p in seen["meeting.participant_left"]}
    assert left == {p["participant_uuid"] for p in joined.values()}  # the end reports everyone still there


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
