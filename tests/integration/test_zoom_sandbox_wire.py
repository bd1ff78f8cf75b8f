"""The app against the sandbox's Zoom wire format (issue 11.12): events in Zoom's real shape."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import WebhookEvent, ZoomConnection
from rxapp.services.telehealth.zoom import connections
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, connect, control, wait_until


def _connected(practitioner_id: int) -> bool:
    with unit_of_work() as s:
        return s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)
                      ).first() is not None


def _deauthorizations() -> int:
    with unit_of_work() as s:
        return len(s.exec(select(WebhookEvent).where(WebhookEvent.event == "app_deauthorized")).all())


def test_every_removal_of_the_app_in_zoom_is_acted_on(zoom: ZoomSandbox, lee: SignedIn) -> None:
    """app_deauthorized carries event_ts inside payload: two removals of the same Zoom user
    (after a disconnect in the app and a reconnect) are two events, not one and a duplicate."""
    who = lee.principal.user_id
    asyncio.run(connections.disconnect(lee.principal, who))  # revoke at Zoom: the first app_deauthorized
    assert wait_until(lambda: _deauthorizations() == 1)
    connect(zoom.url, lee, "lee@zoom.demo")
    assert _connected(who)
    control(zoom.url, "POST", "/users/lee@zoom.demo/revoke")  # removed in Zoom: the second one
    assert wait_until(lambda: not _connected(who))
    assert _deauthorizations() == 2

    def sent() -> list[dict]:
        return [d for d in control(zoom.url, "GET", "/deliveries")["deliveries"] if d["event"] == "app_deauthorized"]

    both = sent()
    assert len(both) == 2 and all("event_ts" not in d["body"] and d["body"]["payload"]["event_ts"] for d in both)
    # The sandbox marks a delivery once the app's answer is back, which may be just after the app acted on it.
    assert wait_until(lambda: all(d["state"] == "delivered" for d in sent()))
