"""Rate limits: per-second (QPS) and the daily create/update limit per user."""

from __future__ import annotations

from collections.abc import Callable

from .conftest import Zoom

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
