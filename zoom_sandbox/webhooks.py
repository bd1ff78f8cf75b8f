"""Webhook signing and delivery, the way Zoom does it (retry delays configurable for tests).

Each event body is serialised once, as raw UTF-8 JSON (no `\\u` escapes, like Zoom:
a receiver verifies the signature over exactly these bytes); every attempt signs
those same bytes with a fresh `x-zm-request-timestamp`. Only a 200 or 204 answer
within the timeout (3 s) counts as delivered; anything else schedules a retry
after the configured delays (Zoom: 5, 20 and 60 minutes after the previous
attempt); afterwards the event is dropped.
The delivery log keeps every attempt so tests and the admin page can show it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from zoom_sandbox.config import SandboxConfig

# Events whose `event_ts` Zoom puts inside `payload` instead of at the top level.
PAYLOAD_TS_EVENTS = frozenset({"app_deauthorized"})
DELIVERED = frozenset({200, 204})


def encode(body: dict[str, Any]) -> bytes:
    """Compact JSON in raw UTF-8, as Zoom sends it (non-ASCII characters are not escaped)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the secret token."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def encrypt_plain_token(secret: str, plain_token: str) -> str:
    """What a receiver must answer as `encryptedToken` in URL validation."""
    return hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()


@dataclass
class Attempt:
    at: float
    status: int | None = None
    error: str = ""
    answer: str = ""
    duration: float = 0.0


@dataclass
class Delivery:
    id: int
    event: str
    body: bytes
    event_ts: int
    created_at: float
    duplicate_of: int | None = None
    state: str = "pending"  # pending | delivered | failed | skipped
    attempts: list[Attempt] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "event_ts": self.event_ts,
            "state": self.state,
            "duplicate_of": self.duplicate_of,
            "body": json.loads(self.body),
            "attempts": [
                {"at": a.at, "status": a.status, "error": a.error, "answer": a.answer[:500],
                 "duration": round(a.duration, 3)}
                for a in self.attempts
            ],
        }


class WebhookDispatcher:
    """Sends signed events with retries as asyncio tasks and logs every attempt."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.webhook_timeout)
        return self._client

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.deliveries.clear()
        self._ids = itertools.count(1)

    def get(self, delivery_id: int) -> Delivery | None:
        return next((d for d in self.deliveries if d.id == delivery_id), None)

    def send(self, event: str, payload: dict[str, Any], event_ts_ms: int,
             extra: dict[str, Any] | None = None) -> Delivery:
        """Queue one event; returns its log entry at once (delivery is async)."""
        body_obj: dict[str, Any]
        if event in PAYLOAD_TS_EVENTS:
            body_obj = {"event": event, "payload": {**payload, "event_ts": event_ts_ms}}
        else:
            body_obj = {"event": event, "event_ts": event_ts_ms, "payload": payload}
        body_obj.update(extra or {})
        body = encode(body_obj)
        return self._queue(Delivery(next(self._ids), event, body, event_ts_ms, time.time()))

    def resend(self, original: Delivery) -> Delivery:
        """Same bytes again (same event_ts, new signature timestamp): a duplicate."""
        copy = Delivery(next(self._ids), original.event, original.body, original.event_ts,
                        time.time(), duplicate_of=original.id)
        return self._queue(copy)

    def _queue(self, delivery: Delivery) -> Delivery:
        self.deliveries.append(delivery)
        if not self.config.webhook_url:
            delivery.state = "skipped"
            return delivery
        task = asyncio.get_running_loop().create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return delivery

    async def _deliver(self, delivery: Delivery) -> None:
        delays = (0.0, *self.config.webhook_retry_delays)
        for delay in delays:
            if delay:
                await asyncio.sleep(delay)
            if await self._attempt(delivery):
                delivery.state = "delivered"
                return
        delivery.state = "failed"

    async def _attempt(self, delivery: Delivery) -> bool:
        # The signature timestamp is wall-clock time (the receiver compares it
        # with its own clock), not the sandbox clock that tests may advance.
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "user-agent": "Zoom Marketplace/1.0a",
            "x-zm-request-timestamp": timestamp,
            "x-zm-signature": sign(self.config.webhook_secret, timestamp, delivery.body),
            "x-zm-trackingid": "v=2.0;clid=us05;rid=" + secrets.token_hex(8),
        }
        attempt = Attempt(at=time.time())
        delivery.attempts.append(attempt)
        started = time.monotonic()
        try:
            # Zoom gives the receiver 3 s in all, not 3 s per network phase.
            response = await asyncio.wait_for(
                self._http().post(self.config.webhook_url, content=delivery.body, headers=headers),
                timeout=self.config.webhook_timeout,
            )
            attempt.status = response.status_code
            attempt.answer = response.text
        except (TimeoutError, httpx.TimeoutException):
            attempt.error = f"no answer within {self.config.webhook_timeout:g} s"
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        attempt.duration = time.monotonic() - started
        # Zoom counts a delivery only when it is answered 200 or 204 within 3 s (202 is a failure).
        return attempt.status in DELIVERED

    async def validate_endpoint(self) -> dict[str, Any]:
        """Run Zoom's `endpoint.url_validation` handshake against the webhook URL."""
        plain = secrets.token_urlsafe(16)
        body = encode({
            "payload": {"plainToken": plain},
            "event_ts": int(time.time() * 1000),
            "event": "endpoint.url_validation",
        })
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-zm-request-timestamp": timestamp,
            "x-zm-signature": sign(self.config.webhook_secret, timestamp, body),
        }
        expected = encrypt_plain_token(self.config.webhook_secret, plain)
        try:
            response = await self._http().post(self.config.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return {"valid": False, "error": f"{type(exc).__name__}: {exc}", "plainToken": plain}
        try:
            answer = response.json()
        except ValueError:
            answer = None
        valid = (
            response.status_code == 200 and isinstance(answer, dict)
            and answer.get("plainToken") == plain and answer.get("encryptedToken") == expected
        )
        return {"valid": valid, "status": response.status_code, "answer": answer, "plainToken": plain}
