"""Where an SMS goes: Twilio's REST API, or the embedded catcher (files shown on /dev/sms).

Choosing one is configuration only (`SMS_PROVIDER`). A provider either accepts a message and
returns its message id, or raises `SmsProviderError` with the provider's code and whether a
later attempt may succeed (429, 5xx, network) or not (400, 401, other 4xx).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import httpx

from rxapp.clock import now
from rxapp.settings import Settings, get_settings

STATUS_CALLBACK_PATH = "/sms/twilio/status"
INBOUND_PATH = "/sms/twilio/inbound"


@dataclass(frozen=True)
class OutgoingSms:
    to: str  # E.164
    body: str
    practice_id: int
    notification_id: int
    segments: int
    encoding: str
    credits: int


@dataclass(frozen=True)
class Accepted:
    message_id: str
    status: str  # the provider's first status ("queued", "accepted", "caught")


class SmsProviderError(Exception):
    """The provider refused or could not be reached; `code` is its HTTP status (or "network")."""

    def __init__(self, code: str, reason: str, *, retry: bool) -> None:
        super().__init__(f"{code}: {reason}")
        self.code, self.reason, self.retry = code, reason, retry


class SmsProvider(Protocol):
    def send(self, sms: OutgoingSms) -> Accepted:
        """Hand one SMS over; raises `SmsProviderError`. Blocking."""
        ...


class CatcherProvider:
    """The embedded default: every SMS becomes a JSON file in a folder, like the mail catcher's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, sms: OutgoingSms) -> Accepted:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = "SMcatch" + uuid.uuid4().hex
        at = now()
        record = {**asdict(sms), "message_id": message_id, "caught_at": at.isoformat()}
        # Written to a temporary name and renamed: the page never reads half a file.
        name = f"{at.strftime('%Y%m%dT%H%M%S%f')}-{message_id}.json"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.directory / name)
        return Accepted(message_id=message_id, status="caught")


class TwilioProvider:
    """Twilio's Messages API: a form-encoded POST with HTTP basic auth (account SID, auth token)."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.sid, self.sender = settings.twilio_account_sid, settings.twilio_from
        self._token = settings.twilio_auth_token
        self.base = settings.twilio_base_url.rstrip("/")
        self.status_callback = settings.app_url.rstrip("/") + STATUS_CALLBACK_PATH
        self.timeout = settings.twilio_timeout_seconds
        self._client = client

    def send(self, sms: OutgoingSms) -> Accepted:
        url = f"{self.base}/2010-04-01/Accounts/{self.sid}/Messages.json"
        form = {"To": sms.to, "From": self.sender, "Body": sms.body, "StatusCallback": self.status_callback}
        try:
            if self._client is not None:
                response = self._client.post(url, data=form, auth=(self.sid, self._token), timeout=self.timeout)
            else:
                with httpx.Client(timeout=self.timeout) as client:
                    response = client.post(url, data=form, auth=(self.sid, self._token))
        except httpx.HTTPError as exc:
            raise SmsProviderError("network", f"Twilio could not be reached ({type(exc).__name__})",
                                   retry=True) from exc
        if response.status_code in (200, 201):
            data = response.json()
            return Accepted(message_id=str(data.get("sid", "")), status=str(data.get("status", "queued")))
        raise SmsProviderError(str(response.status_code), _twilio_reason(response),
                               retry=response.status_code == 429 or response.status_code >= 500)


def _twilio_reason(response: httpx.Response) -> str:
    """Twilio's error body is JSON: `{"code": 21211, "message": "...", "status": 400}`."""
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    code, message = data.get("code"), str(data.get("message", ""))[:300]
    return f"Twilio error {code}: {message}" if code else (message or f"HTTP {response.status_code}")


def get_provider(settings: Settings | None = None) -> SmsProvider:
    """The configured provider."""
    settings = settings or get_settings()
    if settings.sms_provider == "twilio":
        return TwilioProvider(settings)
    return CatcherProvider(settings.sms_catcher_dir)
