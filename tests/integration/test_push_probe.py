"""The benchmark's push probe (benchmarks/push_probe.py) is not part of the product: no route serves
it and no page renders it unless the app is started with DEV_PLUGINS naming it, which production
refuses; mounted, it pushes only to the signed-in client's own waiting room."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from benchmarks import push_probe
from rxapp import api
from rxapp.pages.portal import waiting_room_page
from rxapp.settings import Settings, get_settings, production_problems
from tests.integration.zoom_helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_the_probe_refuses_strangers_and_other_peoples_rooms(demo: None) -> None:
    client = TestClient(Starlette(routes=[Route(push_probe.PATH, push_probe.endpoint(None), methods=["POST"])]))
    assert client.post("/dev/push-probe", params={"meeting": "x", "stamp": "1"}).status_code == 400
    assert client.post("/dev/push-probe", params={"meeting": 1, "stamp": 1}).status_code == 403
    client.cookies.set(get_settings().session_cookie_name, sign_in("dr.lee@demo.clinic").token)
    assert client.post("/dev/push-probe", params={"meeting": 1, "stamp": 1}).status_code == 403  # not a client
    client.cookies.set(get_settings().session_cookie_name, sign_in("alex@demo.client").token)
    assert client.post("/dev/push-probe", params={"meeting": 999, "stamp": 1}).status_code == 403  # not Alex's


def test_the_product_has_no_probe_route_and_no_probe_on_the_waiting_room(sqlite_database: str) -> None:
    assert not any(getattr(route, "path", "") == push_probe.PATH for route in api.build().routes)
    assert "push-probe" not in str(waiting_room_page())


def test_production_refuses_dev_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEYS", "k")
    settings = Settings(app_env="production", app_url="https://clinic.example", cookie_secure=True,
                        zoom_client_id="id", zoom_client_secret="secret", zoom_webhook_secret_token="token",
                        dev_plugins="benchmarks.push_probe")
    assert any("DEV_PLUGINS" in problem for problem in production_problems(settings))
    assert not any("DEV_PLUGINS" in problem for problem in production_problems(settings.model_copy(
        update={"dev_plugins": ""})))


def test_dev_plugins_mount_the_probe_route_and_its_hidden_number(sqlite_database: str) -> None:
    probe = ("import rxapp.rxapp as m; from benchmarks.push_probe import PATH, WAITING_ROOM; "
             "print(any(getattr(r, 'path', '') == PATH for r in m.http.routes)); "
             "print(next('push-probe' in str(render()) for render, kw in m.app._registration_context.decorated_pages "
             "if kw.get('route') == WAITING_ROOM))")
    env = {**os.environ, "DEV_PLUGINS": "benchmarks.push_probe", "DATABASE_URL": sqlite_database}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
