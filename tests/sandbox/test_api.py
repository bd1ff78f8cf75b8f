"""The /v2 API: users, settings, meetings CRUD, validation, listing and pagination.

Every answer goes through the `Zoom.api` helper, which validates it against
Zoom's OpenAPI document with openapi-core.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .conftest import Receiver, Zoom


def test_users_me_and_by_id(zoom: Zoom) -> None:
    token = zoom.connect("patel@zoom.demo")["access_token"]
    me = zoom.api("GET", "/users/me", token).json()
    assert me["email"] == "patel@zoom.demo" and me["type"] == 2 and me["timezone"] == "Europe/London"
    assert len(me["id"]) == 22 and me["account_id"]
    assert zoom.api("GET", f"/users/{me['id']}", token).json() == me
    assert zoom.api("GET", "/users/patel@zoom.demo", token).json()["id"] == me["id"]
    other = zoom.api("GET", "/users/someone-else", token)
    assert other.status_code == 404 and other.json() == {"code": 1001, "message": "User does not exist: someone-else."}


def test_user_ids_are_stable(zoom: Zoom) -> None:
    from zoom_sandbox.users import find_user

    user = find_user("lee@zoom.demo")
    assert user is not None
    token = zoom.connect("lee@zoom.demo")["access_token"]
    assert zoom.api("GET", "/users/me", token).json()["id"] == user.id == "3EBGbG9TmNqNVX5GeBRZeI"


def test_settings_passcode_rules_basic_is_stricter(zoom: Zoom) -> None:
    lee = zoom.api("GET", "/users/me/settings", zoom.connect("lee@zoom.demo")["access_token"]).json()
    basic = zoom.api("GET", "/users/me/settings", zoom.connect("basic@zoom.demo")["access_token"]).json()
    lee_rules = lee["schedule_meeting"]["meeting_password_requirement"]
    basic_rules = basic["schedule_meeting"]["meeting_password_requirement"]
    assert basic_rules["length"] > lee_rules["length"]
    assert basic_rules["have_letter"] and basic_rules["have_number"]


def test_create_meeting(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token, topic="Follow-up", agenda="Check results", start_time="2030-03-04T15:00:00Z",
                          timezone="America/New_York", duration=45, settings={"waiting_room": True})
    assert meeting["id"] >= 10**10  # more than 10 digits
    assert meeting["start_time"] == "2030-03-04T15:00:00Z" and meeting["timezone"] == "America/New_York"
    assert meeting["duration"] == 45 and meeting["status"] == "waiting"
    assert meeting["settings"]["waiting_room"] is True
    assert meeting["join_url"].endswith(f"/j/{meeting['id']}?pwd={meeting['encrypted_password']}")
    assert f"/s/{meeting['id']}?zak=" in meeting["start_url"]
    assert meeting["password"]
    event = receiver.wait_for("meeting.created")[0].json
    assert event["payload"]["object"]["id"] == meeting["id"]


def test_local_start_time_uses_timezone(zoom: Zoom) -> None:
    token = zoom.connect("lee@zoom.demo")["access_token"]
    paris = zoom.create(token, start_time="2030-07-01T10:00:00", timezone="Europe/Paris")
    assert paris["start_time"] == "2030-07-01T08:00:00Z"
    # No timezone: the user's own (America/New_York for lee).
    local = zoom.create(token, start_time="2030-01-15T09:30:00")
    assert local["start_time"] == "2030-01-15T14:30:00Z" and local["timezone"] == "America/New_York"


def test_create_validation_errors(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    cases = {
        "topic": {"topic": "x" * 201},
        "agenda": {"agenda": "x" * 2001},
        "duration": {"duration": 0},
        "start_time": {"start_time": "tomorrow at noon"},
        "timezone": {"timezone": "Mars/Olympus"},
        "password": {"password": "far-too-long-passcode"},
        "settings.jbh_time": {"settings": {"jbh_time": 7}},
    }
    for name, body in cases.items():
        response = zoom.api("POST", "/users/me/meetings", token, json={"topic": "ok", **body})
        assert response.status_code == 400, name
        answer = response.json()
        assert answer["code"] == 300 and answer["message"] == "Validation Failed."
        assert answer["errors"][0]["field"] == name
    not_json = zoom.api("POST", "/users/me/meetings", token, content=b"[1,2]",
                        headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["code"] == 300


def test_passcode_rules_and_default_password(zoom: Zoom) -> None:
    token = zoom.connect("basic@zoom.demo")["access_token"]
    for weak in ("123456", "abcdefgh", "abcd1234x"):
        rejected = zoom.api("POST", "/users/me/meetings", token, json={"topic": "t", "password": weak})
        assert rejected.status_code == 400 and rejected.json()["errors"][0]["field"] == "password", weak
    accepted = zoom.create(token, password="k7m2q9z4")
    assert accepted["password"] == "k7m2q9z4"
    generated = zoom.create(token)
    from zoom_sandbox.users import BASIC_RULES

    assert generated["password"] and not BASIC_RULES.problems(generated["password"])
    licensed = zoom.connect("lee@zoom.demo")["access_token"]
    assert zoom.create(licensed, password="123456")["password"] == "123456"


def test_get_unknown_meeting_is_3001(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    for method in ("GET", "PATCH", "DELETE"):
        response = zoom.api(method, "/meetings/12345678901", token, json={} if method == "PATCH" else None)
        assert response.status_code == 404
        assert response.json() == {"code": 3001, "message": "Meeting does not exist: 12345678901."}
    status = zoom.api("PUT", "/meetings/12345678901/status", token, json={"action": "end"})
    assert status.status_code == 404 and status.json()["code"] == 3001


def test_meetings_of_other_users_are_invisible(zoom: Zoom) -> None:
    lee = zoom.connect("lee@zoom.demo")["access_token"]
    patel = zoom.connect("patel@zoom.demo")["access_token"]
    meeting = zoom.create(lee)
    assert zoom.api("GET", f"/meetings/{meeting['id']}", patel).json()["code"] == 3001


def test_get_returns_fresh_start_url(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token)
    first = zoom.api("GET", f"/meetings/{meeting['id']}", token).json()
    second = zoom.api("GET", f"/meetings/{meeting['id']}", token).json()
    assert first["start_url"] != second["start_url"] != meeting["start_url"]
    assert first["join_url"] == meeting["join_url"]


def test_patch_updates_and_fires_meeting_updated(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token, topic="Before", duration=30)
    response = zoom.api("PATCH", f"/meetings/{meeting['id']}", token,
                        json={"topic": "After", "start_time": "2030-05-01T12:00:00Z", "duration": 60})
    assert response.status_code == 204 and response.content == b""
    current = zoom.api("GET", f"/meetings/{meeting['id']}", token).json()
    assert (current["topic"], current["start_time"], current["duration"]) == ("After", "2030-05-01T12:00:00Z", 60)
    assert current["join_url"] == meeting["join_url"]  # rescheduling keeps a working link
    payload = receiver.wait_for("meeting.updated")[0].json["payload"]
    assert payload["object"]["topic"] == "After" and payload["old_object"]["topic"] == "Before"
    assert payload["object"]["id"] == meeting["id"]
    zoom.api("PATCH", f"/meetings/{meeting['id']}", token, json={"settings": {"waiting_room": True}})
    changed = receiver.wait_for("meeting.updated", count=2)[1].json["payload"]
    assert changed["object"]["settings"] == {"waiting_room": True}
    assert changed["old_object"]["settings"] == {"waiting_room": False}
    invalid = zoom.api("PATCH", f"/meetings/{meeting['id']}", token, json={"duration": 5000})
    assert invalid.status_code == 400 and invalid.json()["code"] == 300


def test_delete_fires_meeting_deleted_with_integer_id(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token)
    deleted = zoom.api("DELETE", f"/meetings/{meeting['id']}", token,
                       params={"schedule_for_reminder": "false", "cancel_meeting_reminder": "false"})
    assert deleted.status_code == 204
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).status_code == 404
    event = receiver.wait_for("meeting.deleted")[0].json
    assert event["payload"]["object"]["id"] == meeting["id"]
    listed = zoom.control("GET", "/meetings").json()["meetings"]
    assert listed[0]["deleted"] is True and listed[0]["host_email"] == "lee@zoom.demo"


def test_delete_in_progress_is_3002_and_status_end(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token)
    not_started = zoom.api("PUT", f"/meetings/{meeting['id']}/status", token, json={"action": "end"})
    assert not_started.status_code == 400
    zoom.control("POST", f"/meetings/{meeting['id']}/start")
    refused = zoom.api("DELETE", f"/meetings/{meeting['id']}", token)
    assert refused.status_code == 400 and refused.json()["code"] == 3002
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).json()["status"] == "started"
    ended = zoom.api("PUT", f"/meetings/{meeting['id']}/status", token, json={"action": "end"})
    assert ended.status_code == 204
    assert receiver.wait_for("meeting.ended")[0].json["payload"]["object"]["id"] == str(meeting["id"])
    assert zoom.api("DELETE", f"/meetings/{meeting['id']}", token).status_code == 204
    bad = zoom.api("PUT", f"/meetings/{meeting['id']}/status", token, json={"action": "explode"})
    assert bad.status_code in (400, 404)


def test_list_types_and_pagination(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    ids = [zoom.create(token, start_time=f"2030-01-{day:02d}T10:00:00Z")["id"] for day in range(1, 6)]
    seen: list[int] = []
    next_token = ""
    pages = 0
    while True:
        params = {"type": "scheduled", "page_size": 2, **({"next_page_token": next_token} if next_token else {})}
        page = zoom.api("GET", "/users/me/meetings", token, params=params).json()
        assert page["total_records"] == 5 and page["page_size"] == 2
        seen += [m["id"] for m in page["meetings"]]
        pages += 1
        next_token = page["next_page_token"]
        if not next_token:
            break
    assert pages == 3 and seen == ids
    zoom.control("POST", f"/meetings/{ids[0]}/start")
    live = zoom.api("GET", "/users/me/meetings", token, params={"type": "live"}).json()
    assert [m["id"] for m in live["meetings"]] == [ids[0]]
    upcoming = zoom.api("GET", "/users/me/meetings", token, params={"type": "upcoming"}).json()
    assert upcoming["total_records"] == 5
    bad = zoom.api("GET", "/users/me/meetings", token, params={"next_page_token": "nonsense"})
    assert bad.status_code == 400
    other = zoom.connect("patel@zoom.demo")["access_token"]
    assert zoom.api("GET", "/users/me/meetings", other).json()["total_records"] == 0


ZOOM_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _sandbox_now(zoom: Zoom) -> datetime:
    return datetime.fromisoformat(zoom.control("GET", "/clock").json()["now"].replace("Z", "+00:00"))


def test_a_start_time_zoom_cannot_express_is_code_300_and_stores_nothing(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    kept = zoom.create(token, start_time="2030-03-04T15:00:00Z")
    # Local 23:30 on 9999-12-31 in Los Angeles is year 10000 in UTC.
    for body in ({"start_time": "9999-12-31T23:30:00", "timezone": "America/Los_Angeles"},
                 {"start_time": "10000-01-01T00:00:00Z"}, {"start_time": "2030-02-30T10:00:00Z"}):
        refused = zoom.api("POST", "/users/me/meetings", token, json={"topic": "far", **body})
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["code"] == 300 and refused.json()["errors"][0]["field"] == "start_time"
        patched = zoom.api("PATCH", f"/meetings/{kept['id']}", token, json=body)
        assert patched.status_code == 400 and patched.json()["code"] == 300
    listed = zoom.api("GET", "/users/me/meetings", token)
    assert listed.status_code == 200 and [m["id"] for m in listed.json()["meetings"]] == [kept["id"]]
    assert zoom.api("GET", f"/meetings/{kept['id']}", token).json()["start_time"] == "2030-03-04T15:00:00Z"
    latest = zoom.create(token, start_time="9999-12-31T23:59:59Z")
    assert latest["start_time"] == "9999-12-31T23:59:59Z"
    assert zoom.api("GET", "/users/me/meetings", token).json()["total_records"] == 2


def test_a_past_start_time_becomes_now_as_zoom_documents(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    before = _sandbox_now(zoom)
    for past in ("2001-01-01T10:00:00Z", "0999-06-01T10:00:00Z", "0001-01-01T00:00:00"):
        meeting = zoom.create(token, start_time=past)
        assert ZOOM_TIME.fullmatch(meeting["start_time"]), meeting["start_time"]
        start = datetime.fromisoformat(meeting["start_time"].replace("Z", "+00:00"))
        assert before - timedelta(seconds=2) <= start <= _sandbox_now(zoom) + timedelta(seconds=2), past
    moved = zoom.api("PATCH", f"/meetings/{meeting['id']}", token, json={"start_time": "2020-01-01T00:00:00Z"})
    assert moved.status_code == 204
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).json()["start_time"] >= before.strftime("%Y-%m-%d")
    upcoming = zoom.api("GET", "/users/me/meetings", token, params={"type": "upcoming"}).json()
    assert upcoming["total_records"] == 3


def test_times_always_have_four_digit_years() -> None:
    from zoom_sandbox.meetings import fmt

    year_999 = datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert fmt(year_999) == "0999-01-02T03:04:05Z"
    assert fmt(year_999, millis=True) == "0999-01-02T03:04:05.000Z"


def test_settings_are_checked_against_zooms_documented_schema(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    refused = {
        "settings.auto_recording": {"auto_recording": "sometimes"},
        "settings.jbh_time": {"jbh_time": 7},
        "settings.approval_type": {"approval_type": 5},
        "settings.who_can_ask_questions": {"who_can_ask_questions": 9},
        "settings.calendar_type": {"calendar_type": 3},
        "settings.host_video": {"host_video": "yes"},
        "settings.breakout_room.enable": {"breakout_room": {"enable": "on"}},
        "settings": "not an object",
    }
    for field, settings in refused.items():
        answer = zoom.api("POST", "/users/me/meetings", token, json={"topic": "t", "settings": settings})
        assert answer.status_code == 400, (field, answer.text)
        assert answer.json()["code"] == 300 and answer.json()["errors"][0]["field"] == field
    meeting = zoom.create(token, settings={"auto_recording": "cloud", "jbh_time": 10, "encryption_type": "e2ee",
                                           "not_a_zoom_setting": True})
    assert meeting["settings"]["auto_recording"] == "cloud" and meeting["settings"]["jbh_time"] == 10
    assert meeting["settings"]["encryption_type"] == "e2ee"
    assert "not_a_zoom_setting" not in meeting["settings"]  # ignored, as Zoom ignores unknown fields
    bad_patch = zoom.api("PATCH", f"/meetings/{meeting['id']}", token, json={"settings": {"auto_recording": "x"}})
    assert bad_patch.status_code == 400 and bad_patch.json()["errors"][0]["field"] == "settings.auto_recording"
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).json()["settings"]["auto_recording"] == "cloud"


def test_an_instant_meeting_has_no_start_time(zoom: Zoom, receiver: Receiver) -> None:
    token = zoom.connect()["access_token"]
    meeting = zoom.create(token, type=1, start_time="2030-03-04T15:00:00Z")
    assert meeting["type"] == 1 and "start_time" not in meeting
    assert "start_time" not in zoom.api("GET", f"/meetings/{meeting['id']}", token).json()
    listed = zoom.api("GET", "/users/me/meetings", token).json()["meetings"]
    assert [("start_time" in m, m["type"]) for m in listed] == [(False, 1)]
    assert "start_time" not in receiver.wait_for("meeting.created")[0].json["payload"]["object"]
    zoom.control("POST", f"/meetings/{meeting['id']}/start")
    started = receiver.wait_for("meeting.started")[0].json["payload"]["object"]
    assert ZOOM_TIME.fullmatch(started["start_time"])  # when it really started
