"""A fake of Twilio's Messages API over real HTTP, for tests: the REST shape Twilio documents.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded (To, From, Body,
StatusCallback), HTTP basic auth AccountSid:AuthToken; 201 with the message resource, or
Twilio's error body `{"code", "message", "more_info", "status"}`. `fail_next` makes the next
sends answer 400/401/429/5xx. `deliver` plays Twilio calling the status callback, signed
with `X-Twilio-Signature` like Twilio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zoom_sandbox.testing import http, serve_app

ERRORS = {400: (21211, "The 'To' number is not a valid phone number."), 401: (20003, "Authenticate"),
          429: (20429, "Too Many Requests"), 500: (20500, "Internal Server Error"),
          503: (20503, "Service Unavailable")}


def sign(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's signature: base64 HMAC-SHA1 over the URL and the sorted name+value pairs."""
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "1" * 32
    auth_token: str = "fake-twilio-auth-token"
    sender: str = "+12025550199"
    messages: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    failures: list[int] = field(default_factory=list)
    base_url: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    async def _messages(self, request: Request) -> Response:
        self.requests += 1
        sid = request.path_params["sid"]
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if sid != self.account_sid or not hmac.compare_digest(auth, expected):
            return self._error(401)
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self._error(400)
        form = {k: str(v) for k, v in (await request.form()).items()}
        if self.failures:
            return self._error(self.failures.pop(0))
        if not form.get("To", "").startswith("+") or form.get("From") != self.sender or not form.get("Body"):
            return self._error(400)
        message_sid = f"SM{next(self._ids):032x}"
        self.messages.append({**form, "sid": message_sid})
        return JSONResponse(status_code=201, content={
            "sid": message_sid, "account_sid": sid, "to": form["To"], "from": form["From"], "body": form["Body"],
            "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json"})

    def _error(self, status: int) -> JSONResponse:
        code, message = ERRORS.get(status, (status * 100, "Error"))
        return JSONResponse(status_code=status, content={
            "code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self._messages, methods=["POST"]),
            Route("/", lambda _: Response("fake twilio"), methods=["GET"]),
        ])

    def deliver(self, message_sid: str, status: str, error_code: str = "", *, token: str | None = None) -> int:
        """Call the message's StatusCallback as Twilio does; returns the HTTP status the app answered."""
        message = next(m for m in self.messages if m["sid"] == message_sid)
        params = {"MessageSid": message_sid, "MessageStatus": status, "AccountSid": self.account_sid,
                  "To": message["To"], "From": message["From"], "ApiVersion": "2010-04-01"}
        if error_code:
            params["ErrorCode"] = error_code
        return post_signed(message["StatusCallback"], params, token or self.auth_token).status_code


def post_signed(url: str, params: dict[str, str], token: str) -> httpx.Response:
    """POST form params to `url` with Twilio's signature made with `token`."""
    return http().post(url, data=params, headers={"X-Twilio-Signature": sign(token, url, params)}, timeout=10)


@contextmanager
def run_fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with serve_app(fake.app()) as running:
        fake.base_url = running.base_url
        yield fake
