"""The benchmark's push probe (/dev/push-probe) is not there in production and pushes only to the
signed-in client's own waiting room."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rxapp import api
from rxapp.settings import get_settings
from tests.conftest import reset_app_caches
from tests.integration.zoom_helpers import sign_in


def test_the_probe_refuses_strangers_and_other_peoples_rooms(demo: None) -> None:
    client = TestClient(api.build())
    assert client.post("/dev/push-probe", params={"meeting": "x", "stamp": "1"}).status_code == 400
    assert client.post("/dev/push-probe", params={"meeting": 1, "stamp": 1}).status_code == 403
    client.cookies.set(get_settings().session_cookie_name, sign_in("dr.lee@demo.clinic").token)
    assert client.post("/dev/push-probe", params={"meeting": 1, "stamp": 1}).status_code == 403  # not a client
    client.cookies.set(get_settings().session_cookie_name, sign_in("alex@demo.client").token)
    assert client.post("/dev/push-probe", params={"meeting": 999, "stamp": 1}).status_code == 403  # not Alex's


def test_the_probe_is_not_mounted_in_production(sqlite_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    reset_app_caches()
    assert not any(getattr(route, "path", "") == "/dev/push-probe" for route in api.build().routes)
