"""Fixtures for the Zoom sandbox's contract tests.

The sandbox runs for real over HTTP (run_sandbox); a small Starlette receiver
in another thread captures webhook deliveries. Every /v2 answer is checked with
openapi-core against Zoom's OpenAPI document and every webhook body with
jsonschema against Zoom's webhook document (both vendored in zoom_sandbox/spec/).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.testing import RunningSandbox, run_sandbox, serve_app

SPEC_DIR = Path(__file__).resolve().parents[2] / "zoom_sandbox" / "spec"
API_SPEC_PATH = SPEC_DIR / "zoom-api.openapi.json"
WEBHOOK_SPEC_PATH = SPEC_DIR / "zoom-webhooks.openapi.json"

# Formats as Zoom's document means them: a participant's `email` (format "email") "returns an empty
# string value" for someone not signed in to Zoom or outside the host's account (its description).
_ZOOM_FORMATS = jsonschema.FormatChecker()
_ZOOM_FORMATS.checkers = dict(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)


@_ZOOM_FORMATS.checks("email")
def _email_or_empty(value: object) -> bool:
    return not isinstance(value, str) or value == "" or "@" in value

WEBHOOK_SECRET = "test-webhook-secret"
REDIRECT = "http://127.0.0.1:9/callback"


# -- spec validation -----------------------------------------------------------------
class ApiContract:
    """Validates sandbox answers against zoom-api.openapi.json."""

    def __init__(self) -> None:
        self.spec = OpenAPI.from_file_path(str(API_SPEC_PATH))
        self.raw = json.loads(API_SPEC_PATH.read_text())
        self.checked = 0

    def check(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        assert path.startswith("/v2/")
        status = response.status_code
        if status == 429 and response.headers.get("content-type", "").startswith("application/json"):
            self._check_rate_limit_headers(request.method.lower(), path, response)
        documented = self._documented_statuses(request.method.lower(), path)
        if documented is not None and str(status) not in documented:
            # Statuses Zoom's document leaves out (401, 5xx faults) still use Zoom's error shape.
            if response.headers.get("content-type", "").startswith("application/json"):
                body = response.json()
                assert isinstance(body.get("code"), int) and isinstance(body.get("message"), str), body
            return
        mock_req = MockRequest("https://api.zoom.us", request.method.lower(), path,
                               args=dict(request.url.params))
        ctype = response.headers.get("content-type", "").split(";")[0] or None
        mock_resp = MockResponse(response.content, status_code=status, content_type=ctype or "application/json")
        try:
            self.spec.validate_response(mock_req, mock_resp)
        except Exception as exc:
            if not self._ambiguous_settings(path, status, response, exc):
                raise
        if status >= 400 and ctype == "application/json":
            body = response.json()
            assert isinstance(body.get("code"), int) and isinstance(body.get("message"), str), body
        self.checked += 1

    def _operation(self, method: str, path: str) -> dict[str, Any] | None:
        for template, ops in self.raw["paths"].items():
            pattern = "/v2" + template
            parts, actual = pattern.split("/"), path.split("/")
            matches = len(parts) == len(actual) and all(
                p.startswith("{") or p == a for p, a in zip(parts, actual, strict=True))
            if matches and method in ops:
                return ops[method]
        return None

    def _documented_statuses(self, method: str, path: str) -> set[str] | None:
        operation = self._operation(method, path)
        return None if operation is None else set(operation["responses"])

    def rate_limit_label(self, method: str, path: str) -> str:
        """The operation's "Rate Limit Label" in Zoom's document, as the header spells it (Light)."""
        operation = self._operation(method, path)
        assert operation is not None, path
        found = re.search(r"Rate Limit Label\]\([^)]*\):\*\*\s*`([A-Z-]+)`", operation["description"])
        assert found, f"no rate limit label for {method} {path}"
        return found.group(1).capitalize()

    def _check_rate_limit_headers(self, method: str, path: str, response: httpx.Response) -> None:
        """Zoom's 429: X-RateLimit-Category (the documented label), -Type, -Limit, -Remaining,
        and Retry-After (seconds for QPS, an HTTP date for the daily limit)."""
        headers = response.headers
        assert headers["X-RateLimit-Category"] == self.rate_limit_label(method, path)
        assert headers["X-RateLimit-Type"] in ("QPS", "Daily-limit")
        assert headers["X-RateLimit-Limit"].isdigit() and headers["X-RateLimit-Remaining"] == "0"
        if headers["X-RateLimit-Type"] == "QPS":
            assert headers["Retry-After"].isdigit()
        else:
            reset = parsedate_to_datetime(headers["Retry-After"])
            assert headers["Retry-After"].endswith(" GMT") and reset.utcoffset() == timedelta(0)
            assert (reset.hour, reset.minute, reset.second) == (0, 0, 0)

    def _ambiguous_settings(self, path: str, status: int, response: httpx.Response, exc: Exception) -> bool:
        """GET settings' schema is a oneOf whose branches all accept any object, so no body
        can match exactly one; then check the body against the 'User settings' branch."""
        text = f"{exc!r} {exc.__cause__!r}"
        if not (path.endswith("/settings") and status == 200 and "is valid under each of" in text):
            return False
        schema = self.raw["paths"]["/users/{userId}/settings"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]["oneOf"][0]
        OAS30Validator(schema).validate(response.json())
        return True


# Fields Zoom sends that its webhook document leaves out (documented elsewhere by Zoom):
# app_deauthorized's user_data_retention is on the "Deauthorization" page of Zoom's docs.
UNDOCUMENTED_BUT_SENT = {("app_deauthorized", "payload.user_data_retention")}


class WebhookContract:
    """Validates webhook deliveries against zoom-webhooks.openapi.json (OpenAPI 3.1 webhooks).

    Beyond the JSON schema: the raw bytes (UTF-8, no \\u escapes, signature over exactly
    those bytes), the headers, the top-level shape of the document's example for the event
    (app_deauthorized has event_ts inside payload), and no field the document does not list.
    """

    URI = "urn:zoom-webhooks"

    def __init__(self) -> None:
        self.doc = json.loads(WEBHOOK_SPEC_PATH.read_text())
        self.events = set(self.doc["webhooks"])
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.URI, resource)

    def _content(self, event: str) -> dict[str, Any]:
        return self.doc["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]

    def example(self, event: str) -> dict[str, Any]:
        """The JSON example Zoom's document gives for an event."""
        examples = self._content(event)["examples"]
        return json.loads(next(iter(examples.values()))["value"])

    def check(self, body: dict[str, Any]) -> None:
        event = body["event"]
        assert event in self.events, f"event {event} is not in the webhook document"
        pointer = f"{self.URI}#/webhooks/{event}/post/requestBody/content/application~1json/schema"
        validator = jsonschema.Draft202012Validator(
            {"$ref": pointer}, registry=self.registry, format_checker=_ZOOM_FORMATS)
        validator.validate(body)
        assert list(body) == list(self.example(event)), f"{event}: top-level keys differ from Zoom's example"
        extra = [p for p in self._undocumented(body, self._content(event)["schema"], "")
                 if (event, p) not in UNDOCUMENTED_BUT_SENT]
        assert extra == [], f"{event}: fields not in Zoom's webhook document: {extra}"

    def check_delivery(self, item: Received, secret: str = "") -> None:
        """Raw bytes and headers of one delivery, as Zoom sends them."""
        body = item.body
        text = body.decode("utf-8")  # raw UTF-8
        assert "\\u" not in text, "non-ASCII must be sent as raw UTF-8, not \\u escapes"
        assert body == json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode(), \
            "body is not compact UTF-8 JSON"
        headers = item.headers
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"] == "Zoom Marketplace/1.0a"
        assert headers["x-zm-trackingid"]
        timestamp = headers["x-zm-request-timestamp"]
        assert timestamp.isdigit() and len(timestamp) == 10  # seconds
        expected = hmac.new((secret or WEBHOOK_SECRET).encode(), f"v0:{timestamp}:".encode() + body,
                            hashlib.sha256).hexdigest()
        assert headers["x-zm-signature"] == f"v0={expected}", "signature is not over the raw bytes"

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
        return schema

    def _undocumented(self, value: Any, schema: dict[str, Any], path: str) -> list[str]:
        schema = self._resolve(schema)
        found: list[str] = []
        if isinstance(value, dict) and "properties" in schema:
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                if key not in schema["properties"]:
                    found.append(where)
                else:
                    found += self._undocumented(item, schema["properties"][key], where)
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for item in value:
                found += self._undocumented(item, schema["items"], path + "[]")
        return found


@pytest.fixture(scope="session")
def api_contract() -> ApiContract:
    return ApiContract()


@pytest.fixture(scope="session")
def webhook_contract() -> WebhookContract:
    return WebhookContract()


# -- webhook receiver ---------------------------------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.json["event"]


# The sandbox under test waits this long for the receiver's answer: long enough that a machine busy with
# other tests does not turn an ordinary delivery into a retry; a "slow" receiver answers after it.
WEBHOOK_TIMEOUT_SECONDS = 2.0
SLOW_RECEIVER_SECONDS = WEBHOOK_TIMEOUT_SECONDS + 0.5


@dataclass
class Receiver:
    """Captures deliveries; `plan` scripts the next answers: an int status or 'slow'."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    plan: list[Any] = field(default_factory=list)

    def clear(self) -> None:
        self.received.clear()
        self.plan.clear()

    def events(self, name: str | None = None) -> list[Received]:
        return [r for r in self.received if name is None or r.event == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} x {name}, got {[r.event for r in self.received]}")

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        self.received.append(Received(dict(request.headers), raw, time.time()))
        body = json.loads(raw)
        if body.get("event") == "endpoint.url_validation":
            plain = body["payload"]["plainToken"]
            encrypted = hmac.new(WEBHOOK_SECRET.encode(), plain.encode(), hashlib.sha256).hexdigest()
            return JSONResponse({"plainToken": plain, "encryptedToken": encrypted})
        action = self.plan.pop(0) if self.plan else 200
        if action == "slow":
            await asyncio.sleep(SLOW_RECEIVER_SECONDS)
            return Response(status_code=200)
        return Response(status_code=int(action))


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    app = Starlette(routes=[Route("/hook", rec.handle, methods=["POST"]),
                            Route("/", lambda r: Response("ok"), methods=["GET"])])
    with serve_app(app) as running:
        rec.url = running.base_url + "/hook"
        yield rec


# -- sandbox + client --------------------------------------------------------------------
def test_config(receiver: Receiver, **overrides: Any) -> SandboxConfig:
    base = SandboxConfig(
        redirect_uri=f"{REDIRECT},http://127.0.0.1:9/other", webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET, enable_control=True, webhook_retry_delays=(0.1, 0.2),
        webhook_timeout=WEBHOOK_TIMEOUT_SECONDS,
    )
    return replace(base, **overrides)


test_config.__test__ = False  # type: ignore[attr-defined]


class Zoom:
    """A tiny client that checks every /v2 answer against the contract."""

    def __init__(self, sandbox: RunningSandbox, contract: ApiContract) -> None:
        self.sandbox = sandbox
        self.config = sandbox.config
        self.http = httpx.Client(base_url=sandbox.base_url, timeout=10)
        self.contract = contract

    def control(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, "/_sandbox" + path, **kw)

    def code(self, email: str = "lee@zoom.demo", **extra: Any) -> str:
        body = {"email": email, "client_id": self.config.client_id, "redirect_uri": REDIRECT,
                "state": "st", **extra}
        response = self.control("POST", "/authorize", json=body)
        assert response.status_code == 200, response.text
        return response.json()["code"]

    def token(self, data: dict[str, str], auth: tuple[str, str] | None = None) -> httpx.Response:
        return self.http.post("/oauth/token", data=data,
                              auth=auth or (self.config.client_id, self.config.client_secret))

    def exchange(self, code: str, **extra: str) -> httpx.Response:
        return self.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra})

    def connect(self, email: str = "lee@zoom.demo", **extra: Any) -> dict[str, Any]:
        response = self.exchange(self.code(email, **extra))
        assert response.status_code == 200, response.text
        return response.json()

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def api(self, method: str, path: str, token: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        response = self.http.request(method, "/v2" + path, headers=headers, **kw)
        self.contract.check(response)
        return response

    def create(self, token: str, **body: Any) -> dict[str, Any]:
        body.setdefault("topic", "Consultation")
        body.setdefault("start_time", "2030-03-04T15:00:00Z")
        body.setdefault("duration", 30)
        response = self.api("POST", "/users/me/meetings", token, json=body)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture(scope="session")
def shared_sandbox(receiver: Receiver) -> Iterator[RunningSandbox]:
    with run_sandbox(test_config(receiver)) as running:
        yield running


@pytest.fixture
def zoom(shared_sandbox: RunningSandbox, receiver: Receiver, api_contract: ApiContract,
         webhook_contract: WebhookContract) -> Iterator[Zoom]:
    client = Zoom(shared_sandbox, api_contract)
    assert client.control("POST", "/reset").status_code == 200
    receiver.clear()
    yield client
    _check_deliveries(receiver, webhook_contract)
    client.http.close()


def _check_deliveries(receiver: Receiver, contract: WebhookContract) -> None:
    """Every delivery of a test must match Zoom's webhook document, bytes and headers included."""
    for item in receiver.received:
        if item.event != "endpoint.url_validation":  # one test signs it with another secret
            contract.check_delivery(item)
        if item.event not in ("endpoint.url_validation", "custom.test"):
            contract.check(item.json)


@pytest.fixture
def make_sandbox(receiver: Receiver, api_contract: ApiContract,
                 webhook_contract: WebhookContract) -> Iterator[Callable[..., Zoom]]:
    """Start an extra sandbox with different settings (rate limits, TTLs, control off)."""
    stack: list[Any] = []

    def make(**overrides: Any) -> Zoom:
        manager = run_sandbox(test_config(receiver, **overrides))
        running = manager.__enter__()
        stack.append(manager)
        return Zoom(running, api_contract)

    receiver.clear()
    yield make
    for manager in reversed(stack):
        manager.__exit__(None, None, None)
    _check_deliveries(receiver, webhook_contract)


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge
