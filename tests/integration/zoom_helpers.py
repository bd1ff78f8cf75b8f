"""Helpers for tests that connect demo practitioners to the real Zoom sandbox over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Appointment, Meeting, Practice, Role, User
from rxapp.services.identity import auth
from rxapp.services.permissions import Principal
from rxapp.services.telehealth.zoom import connections
from zoom_sandbox.testing import http


@dataclass
class SignedIn:
    principal: Principal
    token: str


def sign_in(email: str) -> SignedIn:
    new = auth.redeem_ticket(auth.check_password(email, demo_data.DEMO_PASSWORD))
    assert new is not None
    return SignedIn(new.principal, new.token)


def principal_of(email: str) -> Principal:
    """The principal of a demo user, as a signed-in session would give it."""
    with unit_of_work() as s:
        u = s.exec(select(User).where(User.email == email)).one()
    return Principal(u.id or 0, u.practice_id, Role(u.role), u.email, u.full_name)


def demo_practice(allow_zoom: bool = True) -> None:
    demo_data.load_demo_data()
    with unit_of_work() as s:
        s.exec(select(Practice)).one().allow_zoom = allow_zoom


def user_id(email: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(User).where(User.email == email)).one().id or 0


def authorize(zoom_url: str, authorize_url: str, zoom_email: str) -> tuple[str, str]:
    """Do what the browser does at Zoom (through the sandbox control API); returns (state, code)."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    answer = http().post(f"{zoom_url}/_sandbox/authorize", json={
        "email": zoom_email, "client_id": params["client_id"], "redirect_uri": params["redirect_uri"],
        "state": params["state"], "code_challenge": params["code_challenge"],
        "code_challenge_method": params["code_challenge_method"]})
    answer.raise_for_status()
    return params["state"], answer.json()["code"]


def connect(zoom_url: str, who: SignedIn, zoom_email: str, practitioner_id: int | None = None) -> int:
    """Connect a practitioner's Zoom the whole way through; returns the attempt id."""
    target = practitioner_id or who.principal.user_id
    url = connections.begin_connect(who.principal, target, who.token)
    state, code = authorize(zoom_url, url, zoom_email)
    return asyncio.run(connections.complete_connect(state, code, "", who.token))


def control(zoom_url: str, method: str, path: str, **kwargs) -> dict:
    response = http().request(method, f"{zoom_url}/_sandbox{path}", **kwargs)
    response.raise_for_status()
    return response.json() if response.content else {}


def refresh_calls(zoom_url: str) -> int:
    return control(zoom_url, "GET", "/stats")["calls"].get("token.refresh_token", 0)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll until `predicate()` holds (webhooks are processed just after they are answered). Only ever
    used for something that must happen, so the limit is generous: a loaded machine (browser tests
    starting apps beside these) took more than 10 s to deliver seven webhooks with their retries."""
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def visit(appointment_id: int) -> SimpleNamespace:
    """The appointment and its Zoom meeting (when it has one) as one read-only record, for asserts."""
    with unit_of_work() as s:
        appointment, meeting = s.get(Appointment, appointment_id), s.get(Meeting, appointment_id)
        assert appointment is not None
        return SimpleNamespace(**{**(meeting.model_dump() if meeting else {}), **appointment.model_dump(),
                                  "zoom": meeting is not None})


def meeting_at_zoom(who: SignedIn, client_email: str = "alex@demo.client", minutes_ahead: int = 10) -> int:
    """A telehealth session of `who` with the client, `minutes_ahead` from now (New York), created at Zoom
    as the New meeting modal does; its id."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from rxapp.clock import now
    from rxapp.models import Client
    from rxapp.services.telehealth.meetings import sync
    from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting

    with unit_of_work() as s:
        client_id = s.exec(select(Client.id).where(Client.email == client_email)).one()
    start = (now() + timedelta(minutes=minutes_ahead)).astimezone(ZoneInfo("America/New_York"))
    draft = MeetingDraft(topic="Weekly session", description="", date=start.date().isoformat(),
                         hour=start.strftime("%H:%M"), timezone="America/New_York", client_id=client_id or 0,
                         duration_minutes=50)
    meeting_id = schedule_meeting(who.principal, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None and asyncio.run(sync.sync_meeting(meeting_id, force=True))
    return meeting_id
