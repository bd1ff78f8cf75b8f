"""Every fault the control API injects, on API and OAuth operations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import Zoom


def _call(zoom: Zoom, operation: str, tokens: dict[str, Any], meeting_id: int, **kw: Any) -> httpx.Response:
    token = tokens["access_token"]
    calls = {
        "users.me": ("GET", "/users/me", {}),
        "users.get": ("GET", "/users/me", {}),
        "users.settings": ("GET", "/users/me/settings", {}),
        "meetings.create": ("POST", "/users/me/meetings", {"json": {"topic": "t"}}),
        "meetings.get": ("GET", f"/meetings/{meeting_id}", {}),
        "meetings.update": ("PATCH", f"/meetings/{meeting_id}", {"json": {"topic": "u"}}),
        "meetings.delete": ("DELETE", f"/meetings/{meeting_id}", {}),
        "meetings.status": ("PUT", f"/meetings/{meeting_id}/status", {"json": {"action": "end"}}),
        "meetings.list": ("GET", "/users/me/meetings", {}),
    }
    if operation == "token":
        return zoom.refresh(tokens["refresh_token"])
    if operation == "revoke":
        return zoom.http.post("/oauth/revoke", data={"token": token},
                              auth=(zoom.config.client_id, zoom.config.client_secret))
    method, path, extra = calls[operation]
    if operation == "users.get":
        path = "/users/" + zoom.api("GET", "/users/me", token).json()["id"]
    return zoom.api(method, path, token, **extra, **kw)


OPERATIONS = ["token", "revoke", "users.me", "users.get", "users.settings", "meetings.create", "meetings.get",
              "meetings.update", "meetings.delete", "meetings.status", "meetings.list"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_500_then_normal_for_every_operation(zoom: Zoom, operation: str) -> None:
    tokens = zoom.connect()
    meeting = zoom.create(tokens["access_token"])
    assert zoom.control("POST", "/faults", json={"operation": operation, "kind": "500", "count": 2}).status_code == 200
    for _ in range(2):
        failed = _call(zoom, operation, tokens, meeting["id"])
        assert failed.status_code == 500, operation
        assert failed.json()["code"] == 500
    if operation == "meetings.status":
        zoom.control("POST", f"/meetings/{meeting['id']}/start")
    normal = _call(zoom, operation, tokens, meeting["id"])
    assert normal.status_code < 300, (operation, normal.text)


def test_502_html_and_xml_bodies(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    zoom.control("POST", "/faults", json={"operation": "meetings.list", "kind": "502", "count": 1})
    zoom.control("POST", "/faults", json={"operation": "meetings.list", "kind": "xml", "count": 1, "status": 400})
    bad_gateway = zoom.api("GET", "/users/me/meetings", token)
    assert bad_gateway.status_code == 502 and bad_gateway.headers["content-type"].startswith("text/html")
    xml = zoom.api("GET", "/users/me/meetings", token)
    assert xml.status_code == 400 and xml.text.startswith("<?xml")
    with pytest.raises(ValueError):
        xml.json()
    assert zoom.api("GET", "/users/me/meetings", token).status_code == 200


def test_429_kinds(zoom: Zoom) -> None:
    tokens = zoom.connect()
    zoom.control("POST", "/faults", json={"operation": "meetings.create", "kind": "429"})
    zoom.control("POST", "/faults", json={"operation": "meetings.create", "kind": "429-daily"})
    qps = zoom.api("POST", "/users/me/meetings", tokens["access_token"], json={"topic": "t"})
    assert qps.status_code == 429 and qps.headers["X-RateLimit-Type"] == "QPS" and qps.headers["Retry-After"] == "1"
    daily = zoom.api("POST", "/users/me/meetings", tokens["access_token"], json={"topic": "t"})
    assert daily.status_code == 429 and daily.headers["X-RateLimit-Type"] == "Daily-limit"
    assert daily.json()["message"].startswith("You have exceeded the daily rate limit (100)")
    zoom.control("POST", "/faults", json={"operation": "token", "kind": "429"})
    assert zoom.refresh(tokens["refresh_token"]).status_code == 429


def test_timeout_before_the_work(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    zoom.control("POST", "/faults", json={"operation": "meetings.create", "kind": "timeout", "delay": 0.4})
    with pytest.raises(httpx.ReadTimeout):
        zoom.http.post("/v2/users/me/meetings", json={"topic": "t"}, timeout=0.1,
                       headers={"Authorization": f"Bearer {token}"})
    patient = zoom.control("POST", "/faults", json={"operation": "meetings.get", "kind": "timeout", "delay": 0.2})
    assert patient.status_code == 200
    answered = zoom.api("GET", "/meetings/12345678901", token)
    assert answered.status_code == 504
    assert zoom.control("GET", "/meetings").json()["meetings"] == []  # nothing was created


def test_timeout_after_the_work(zoom: Zoom) -> None:
    token = zoom.connect()["access_token"]
    zoom.control("POST", "/faults", json={"operation": "meetings.create", "kind": "timeout-after", "delay": 0.4})
    with pytest.raises(httpx.ReadTimeout):
        zoom.http.post("/v2/users/me/meetings", json={"topic": "Created anyway"}, timeout=0.1,
                       headers={"Authorization": f"Bearer {token}"})
    listed = zoom.api("GET", "/users/me/meetings", token).json()
    assert [m["topic"] for m in listed["meetings"]] == ["Created anyway"]


def test_token_timeout_after_loses_the_new_refresh_token(zoom: Zoom) -> None:
    tokens = zoom.connect()
    zoom.control("POST", "/faults", json={"operation": "token", "kind": "timeout-after", "delay": 0.4})
    with pytest.raises(httpx.ReadTimeout):
        zoom.http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                       auth=(zoom.config.client_id, zoom.config.client_secret), timeout=0.1)
    # Zoom rotated the token although the client never saw the answer: the grant is lost.
    assert zoom.refresh(tokens["refresh_token"]).json()["reason"] == "Invalid Token!"


def test_fault_management(zoom: Zoom) -> None:
    bad_op = zoom.control("POST", "/faults", json={"operation": "nope", "kind": "500"})
    bad_kind = zoom.control("POST", "/faults", json={"operation": "users.me", "kind": "teapot"})
    assert bad_op.status_code == 400 and bad_kind.status_code == 400
    zoom.control("POST", "/faults", json={"operation": "users.me", "kind": "500", "count": 5})
    assert zoom.control("GET", "/faults").json()["faults"]["users.me"][0]["remaining"] == 5
    assert zoom.control("DELETE", "/faults").json() == {"faults": {}}
    token = zoom.connect()["access_token"]
    assert zoom.api("GET", "/users/me", token).status_code == 200
