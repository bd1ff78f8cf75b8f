"""Rate limits: per-second (QPS) and the daily create/update limit per user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from .conftest import ApiContract, Zoom

DAILY = ("You have exceeded the daily rate limit (3) of Meeting Create/Update API requests permitted for "
         "this particular user. You may resume these requests at GMT 00:00:00.")


def test_qps_limit_answers_429_with_retry_after(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(qps=3)
    token = zoom.connect()["access_token"]
    answers = [zoom.api("GET", "/users/me", token) for _ in range(6)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    first = limited[0]
    assert first.headers["Retry-After"] == "1" and first.headers["X-RateLimit-Type"] == "QPS"
    assert first.headers["X-RateLimit-Category"] == "Light"  # GET /users/{userId} in Zoom's document
    assert first.headers["X-RateLimit-Limit"] == "3" and first.headers["X-RateLimit-Remaining"] == "0"
    assert first.json() == {"code": 429, "message": "You have reached the maximum per-second rate limit for this "
                                                    "API. Try again later."}
    # Another user has its own window.
    other = zoom.connect("patel@zoom.demo")["access_token"]
    assert zoom.api("GET", "/users/me", other).status_code == 200


def test_daily_create_update_limit(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(daily_limit=3)
    token = zoom.connect("lee@zoom.demo")["access_token"]
    meeting = zoom.create(token)
    zoom.create(token)
    assert zoom.api("PATCH", f"/meetings/{meeting['id']}", token, json={"topic": "x"}).status_code == 204
    limited = zoom.api("POST", "/users/me/meetings", token, json={"topic": "four"})
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Type"] == "Daily-limit"
    assert limited.json() == {"code": 429, "message": DAILY}
    assert limited.headers["X-RateLimit-Category"] == "Light"  # create is LIGHT in Zoom's document
    assert limited.headers["X-RateLimit-Limit"] == "3" and limited.headers["X-RateLimit-Remaining"] == "0"
    # Retry-After is an HTTP date: the next 00:00 UTC of the sandbox clock.
    now = datetime.fromisoformat(zoom.control("GET", "/clock").json()["now"].replace("Z", "+00:00"))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    assert parsedate_to_datetime(limited.headers["Retry-After"]) == midnight
    assert limited.headers["Retry-After"] == midnight.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert zoom.api("PATCH", f"/meetings/{meeting['id']}", token, json={"topic": "y"}).status_code == 429
    # Reads are not limited, nor are other users.
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).status_code == 200
    assert zoom.create(zoom.connect("patel@zoom.demo")["access_token"])["id"]
    # The control API resets the counter ...
    assert zoom.control("POST", "/users/lee@zoom.demo/reset-daily-limit").status_code == 200
    for _ in range(3):
        zoom.create(token)
    assert zoom.api("POST", "/users/me/meetings", token, json={"topic": "x"}).status_code == 429
    # ... and so does 00:00 UTC on the sandbox clock.
    zoom.control("POST", "/clock/advance", json={"seconds": 86400})
    fresh = zoom.refresh(zoom.connect("lee@zoom.demo")["refresh_token"]).json()["access_token"]
    assert zoom.create(fresh)["id"]


def test_injected_429s_carry_the_documented_category(zoom: Zoom, api_contract: ApiContract) -> None:
    token = zoom.connect()["access_token"]
    for operation, kind, method, path in (("meetings.list", "429", "GET", "/users/me/meetings"),
                                          ("users.settings", "429-daily", "GET", "/users/me/settings"),
                                          ("meetings.get", "429", "GET", "/meetings/12345678901")):
        zoom.control("POST", "/faults", json={"operation": operation, "kind": kind})
        answer = zoom.api(method, path, token)  # the contract checks every header against the document
        assert answer.status_code == 429
        assert answer.headers["X-RateLimit-Category"] == api_contract.rate_limit_label(method.lower(), "/v2" + path)
    assert {api_contract.rate_limit_label("get", "/v2/users/me/meetings"),
            api_contract.rate_limit_label("get", "/v2/meetings/1")} == {"Medium", "Light"}
