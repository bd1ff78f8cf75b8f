"""A browser's Reflex state belongs to one signed-in user (issue 10, items 1 and 12).

The Playwright tests in tests/e2e/test_sign_out.py prove it on the wire; these pin the pieces:
the whole state tree is forgotten at sign-out and whenever a (re)connect or page load finds
another user (or none), and any handler of a signed-out browser sends it to sign-in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import reflex as rx
from reflex.event import Event

from rxapp import live
from rxapp.services import changes
from rxapp.services.identity import auth
from rxapp.state.auth import AuthState, BrowserOwnerCheck, NotSignedIn, on_backend_error
from rxapp.state.clients import ClientsState
from rxapp.state.dev_mail import DevMailState
from rxapp.state.meetings import MeetingsState
from rxapp.state.portal_trust import PortalTrustState
from tests.integration.page_states import page_state, redirects, run
from tests.integration.zoom_helpers import user_id

HYDRATE = Event(name=f"{rx.State.get_full_name()}.hydrate_and_load")


def _lee_filled_browser() -> ClientsState:
    """A tab where Dr. Lee opened the Clients page."""
    clients = page_state(ClientsState, "/clients", "dr.lee@demo.clinic")
    run(clients.guard())
    run(clients.load())
    assert "Sam Taylor" in [r["name"] for r in clients.rows]
    return clients


def test_a_handler_of_a_signed_out_browser_sends_it_to_sign_in(demo) -> None:
    clients = page_state(ClientsState, "/clients", "frontdesk@demo.clinic")
    run(clients.load())
    auth.sign_out(clients._session_token())  # e.g. Sign out in another tab

    with pytest.raises(NotSignedIn) as refused:
        run(clients.set_search("jo"))

    assert redirects(on_backend_error(refused.value)) == ["/login?next=/clients"]


def test_a_signed_in_user_without_the_permission_is_still_refused_not_signed_out(demo) -> None:
    trust = page_state(PortalTrustState, "/portal/practitioners", "frontdesk@demo.clinic")
    run(trust.load())
    assert trust.choices == []


def test_a_reconnect_with_another_users_cookie_gets_a_forgotten_tree(demo) -> None:
    clients = _lee_filled_browser()
    root = clients._get_root_state()
    page_state(AuthState, "/portal", "alex@demo.client", root=root)  # same tab, Alex's cookie now

    run(BrowserOwnerCheck().preprocess(app=None, state=root, event=HYDRATE))  # type: ignore[arg-type]

    assert clients.rows == [] and clients.user_name == ""
    assert "Sam Taylor" not in str(root.dict())


def test_a_page_load_after_the_session_ended_forgets_the_tree(demo) -> None:
    clients = _lee_filled_browser()
    auth.sign_out(clients._session_token())

    assert redirects(run(clients.guard())) == ["/login?next=/clients"]
    assert clients.rows == [] and "Sam Taylor" not in str(clients._get_root_state().dict())


def test_the_same_user_keeps_their_tree(demo) -> None:
    clients = _lee_filled_browser()
    run(BrowserOwnerCheck().preprocess(app=None, state=clients._get_root_state(), event=HYDRATE))  # type: ignore[arg-type]
    assert "Sam Taylor" in [r["name"] for r in clients.rows]


def test_sign_out_forgets_every_page_and_starts_a_new_browser_session(demo) -> None:
    clients = _lee_filled_browser()
    mail = run(clients.get_state(DevMailState))
    mail.mails = [{"to": "sam@demo.client", "subject": "Telehealth session"}]
    signing_out = run(clients.get_state(AuthState))

    events = run(signing_out.sign_out())

    assert clients.rows == [] and mail.mails == [] and signing_out.user_name == ""
    assert auth.principal_for_token(clients._session_token()) is None
    # The browser drops its Reflex client token: the next page load starts a new session.
    assert [(e.handler.fn.__qualname__, e.args[0][1]._var_value) for e in events[:1]] == [
        ("_remove_session_storage", "token")]


def test_a_live_push_to_a_signed_out_browser_is_dropped_quietly(demo, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    meetings = page_state(MeetingsState, "/meetings", "dr.lee@demo.clinic")
    auth.sign_out(meetings._session_token())
    root = meetings._get_root_state()

    class App:
        @asynccontextmanager
        async def modify_state(self, token: rx.BaseStateToken) -> AsyncIterator[rx.State]:
            yield root

    registry = live._MemoryRegistry()
    run(registry.watch(f"practitioner:{user_id('dr.lee@demo.clinic')}", "tab-token"))
    monkeypatch.setattr(live, "_registry", registry)
    monkeypatch.setattr(live, "_app", App())

    run(live._push(changes.AppointmentChanged(appointment_id=1, practice_id=1,
                                              practitioner_id=user_id("dr.lee@demo.clinic"), client_id=1)))

    assert "push to a browser failed" not in caplog.text
