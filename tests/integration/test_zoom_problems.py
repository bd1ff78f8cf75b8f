"""What the pages learn about a practitioner's Zoom comes typed from the services, not as text."""

from __future__ import annotations

from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import ZoomConnection, ZoomConnectionStatus
from rxapp.services.telehealth.meetings.schedule import zoom_blocker, zoom_problem
from rxapp.services.telehealth.zoom import connections
from rxapp.services.telehealth.zoom.connections import ConnectionState
from rxapp.services.telehealth.zoom.errors import ZoomNeedsReconnect, ZoomNotAllowed, ZoomNotConnected
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, demo_practice, sign_in


def test_needs_reconnect_is_a_typed_error_whatever_its_message(zoom: ZoomSandbox, lee: SignedIn) -> None:
    assert zoom_blocker(lee.principal) is None and zoom_problem(lee.principal) == ""
    with unit_of_work() as s:
        row = s.exec(select(ZoomConnection)).one()
        row.status, row.last_error = ZoomConnectionStatus.NEEDS_RECONNECT, "Zoom refused the refresh token"
    blocker = zoom_blocker(lee.principal)
    assert isinstance(blocker, ZoomNeedsReconnect)
    assert zoom_problem(lee.principal) == str(blocker) and "reconnect" in str(blocker).lower()
    view = connections.connection_view(lee.principal, lee.principal.user_id)
    assert view.status is ConnectionState.NEEDS_RECONNECT


def test_not_connected_and_not_allowed_are_not_needs_reconnect(zoom: ZoomSandbox) -> None:
    demo_practice(allow_zoom=False)
    lee = sign_in("dr.lee@demo.clinic")
    assert type(zoom_blocker(lee.principal)) is ZoomNotAllowed
    demo_practice(allow_zoom=True)
    blocker = zoom_blocker(lee.principal)
    assert type(blocker) is ZoomNotConnected and not isinstance(blocker, ZoomNeedsReconnect)
    view = connections.connection_view(lee.principal, lee.principal.user_id)
    assert view.status is ConnectionState.NOT_CONNECTED
    assert zoom_blocker(sign_in("owner@demo.clinic").principal) is None  # not a practitioner


def test_the_meetings_page_gets_the_typed_blocker(zoom: ZoomSandbox, lee: SignedIn) -> None:
    from rxapp.state.meetings import MeetingsState

    with unit_of_work() as s:
        s.exec(select(ZoomConnection)).one().status = ZoomConnectionStatus.NEEDS_RECONNECT
    _, problem, _, _ = MeetingsState._page_context(lee.principal)
    assert isinstance(problem, ZoomNeedsReconnect)
