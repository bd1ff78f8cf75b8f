"""Connecting, keeping and losing a practitioner's Zoom connection, against the sandbox over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Notification, PractitionerProfile, WebhookEvent, ZoomConnection
from rxapp.services import crypto
from rxapp.services.telehealth.zoom import connections, tokens, webhooks
from rxapp.services.telehealth.zoom.errors import ZoomNeedsReconnect, ZoomNotAllowed, ZoomUnavailable
from tests.integration.conftest import WEBHOOK_SECRET, ZoomSandbox
from tests.integration.zoom_helpers import (
    SignedIn,
    authorize,
    connect,
    control,
    demo_practice,
    meeting_at_zoom,
    refresh_calls,
    sign_in,
    user_id,
    visit,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


def _connection(practitioner_id: int) -> ZoomConnection | None:
    with unit_of_work() as s:
        return s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()


def _expire_stored_access_token(practitioner_id: int) -> None:
    """Our side believes the token expired, as it does an hour after a refresh."""
    with unit_of_work() as s:
        row = s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).one()
        row.access_expires_at = now()


def test_connecting_stores_encrypted_tokens_and_only_zoom_ids(zoom: ZoomSandbox, database: str) -> None:
    demo_practice()
    lee = sign_in("dr.lee@demo.clinic")
    attempt = connect(zoom.url, lee, "lee@zoom.demo")
    row = _connection(lee.principal.user_id)
    assert row is not None and row.status == "connected"
    assert "meeting:write:meeting" in row.scopes.split()
    users = control(zoom.url, "GET", "/users")
    lee_zoom = next(u for u in users["users"] if u["email"] == "lee@zoom.demo")
    assert row.zoom_user_id == lee_zoom["id"] and row.zoom_account_id
    access = crypto.decrypt(row.access_token_encrypted)
    refresh = crypto.decrypt(row.refresh_token_encrypted)
    if database.startswith("sqlite"):
        raw = Path(database.removeprefix("sqlite:///")).read_bytes()
        for suffix in ("-wal", ""):
            wal = Path(database.removeprefix("sqlite:///") + suffix)
            raw += wal.read_bytes() if wal.exists() else b""
        assert access.encode() not in raw and refresh.encode() not in raw
    outcome = connections.review(lee.principal, attempt)
    assert outcome is not None and outcome.practitioner_name == "Dr. Dana Lee" and not outcome.refused


def test_connect_is_refused_while_the_practice_does_not_allow_zoom(zoom: ZoomSandbox) -> None:
    demo_practice(allow_zoom=False)
    lee = sign_in("dr.lee@demo.clinic")
    with pytest.raises(ZoomNotAllowed):
        connections.begin_connect(lee.principal, lee.principal.user_id, lee.token)


def test_tampered_replayed_expired_or_foreign_states_store_nothing(zoom: ZoomSandbox) -> None:
    demo_practice()
    lee = sign_in("dr.lee@demo.clinic")
    state, code = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                            "lee@zoom.demo")

    def refused(state_value: str, session_token: str, code_value: str = code) -> str:
        with pytest.raises(connections.ConnectRefused) as exc:
            asyncio.run(connections.complete_connect(state_value, code_value, "", session_token))
        return exc.value.reason

    assert refused(state + "x", lee.token) == "invalid_state"  # tampered
    other_session = sign_in("dr.lee@demo.clinic")
    assert refused(state, other_session.token) == "invalid_state"  # started in another browser session
    assert _connection(lee.principal.user_id) is None

    state2, code2 = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                              "lee@zoom.demo")
    start = now()
    set_clock(lambda: start + connections.ATTEMPT_LIFETIME + connections.timedelta(seconds=1))
    assert refused(state2, lee.token, code2) == "invalid_state"  # expired
    set_clock(None)
    assert _connection(lee.principal.user_id) is None

    state3, code3 = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                              "lee@zoom.demo")
    asyncio.run(connections.complete_connect(state3, code3, "", lee.token))
    assert refused(state3, lee.token, code3) == "invalid_state"  # replayed


def test_a_reused_code_gives_a_clear_error_and_changes_nothing(zoom: ZoomSandbox) -> None:
    demo_practice()
    lee = sign_in("dr.lee@demo.clinic")
    state, code = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                            "lee@zoom.demo")
    asyncio.run(connections.complete_connect(state, code, "", lee.token))
    before = _connection(lee.principal.user_id)
    fresh_state, _ = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                               "lee@zoom.demo")
    with pytest.raises(connections.ConnectRefused) as exc:
        asyncio.run(connections.complete_connect(fresh_state, code, "", lee.token))
    assert exc.value.reason == "zoom_failed" and "Nothing was stored" in connections.REFUSAL_MESSAGES["zoom_failed"]
    after = _connection(lee.principal.user_id)
    assert before is not None and after is not None
    assert after.refresh_token_encrypted == before.refresh_token_encrypted


def test_declining_at_zoom_is_reported_and_stores_nothing(zoom: ZoomSandbox) -> None:
    demo_practice()
    lee = sign_in("dr.lee@demo.clinic")
    state, _ = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                         "lee@zoom.demo")
    attempt = asyncio.run(connections.complete_connect(state, "", "access_denied", lee.token))
    outcome = connections.review(lee.principal, attempt)
    assert outcome is not None and outcome.declined
    assert _connection(lee.principal.user_id) is None


async def _many_tokens(practitioner_id: int, n: int) -> list[str]:
    return [c.access_token for c in
            await asyncio.gather(*(tokens.get_credentials(practitioner_id) for _ in range(n)))]


def test_fifty_concurrent_requests_make_exactly_one_refresh(zoom: ZoomSandbox, lee: SignedIn) -> None:
    _expire_stored_access_token(lee.principal.user_id)
    got = asyncio.run(_many_tokens(lee.principal.user_id, 50))
    assert refresh_calls(zoom.url) == 1
    assert len(set(got)) == 1
    me = httpx.get(f"{zoom.url}/v2/users/me", headers={"Authorization": f"Bearer {got[0]}"})
    assert me.status_code == 200


_CHILD = """
import asyncio, json, sys
from rxapp.services.telehealth.zoom import tokens
async def main():
    creds = await asyncio.gather(*(tokens.get_credentials(int(sys.argv[1])) for _ in range(25)))
    print(json.dumps([c.access_token for c in creds]))
asyncio.run(main())
"""


def test_two_processes_refreshing_at_once_make_exactly_one_refresh(zoom: ZoomSandbox, lee: SignedIn) -> None:
    _expire_stored_access_token(lee.principal.user_id)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(lee.principal.user_id)], cwd=ROOT,
                             env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mine = asyncio.run(_many_tokens(lee.principal.user_id, 25))
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    theirs = json.loads(out)
    assert refresh_calls(zoom.url) == 1
    assert set(mine) == set(theirs) and len(set(mine)) == 1


def test_zoom_down_during_refresh_leaves_the_stored_pair_intact(zoom: ZoomSandbox, short_zoom_timeout: float,
                                                                lee: SignedIn) -> None:
    _expire_stored_access_token(lee.principal.user_id)
    before = _connection(lee.principal.user_id)
    for kind in ("500", "502", "xml", "timeout"):
        control(zoom.url, "POST", "/faults", json={"operation": "token", "kind": kind, "count": 1, "delay": 3})
        with pytest.raises(ZoomUnavailable):
            asyncio.run(tokens.get_credentials(lee.principal.user_id))
        after = _connection(lee.principal.user_id)
        assert after is not None and before is not None
        assert after.refresh_token_encrypted == before.refresh_token_encrypted
        assert after.status == "connected" and after.refresh_claimed_until is None
    asyncio.run(tokens.get_credentials(lee.principal.user_id))  # once Zoom is back, the pair still works
    assert _connection(lee.principal.user_id).refresh_token_encrypted != before.refresh_token_encrypted


def test_an_access_token_zoom_refuses_is_refreshed_once_and_the_call_retried(zoom: ZoomSandbox, lee: SignedIn) -> None:
    control(zoom.url, "POST", "/users/lee@zoom.demo/expire-access-tokens")
    me = asyncio.run(tokens.call_zoom(lee.principal.user_id, lambda api: api.get_me()))
    assert me.id and refresh_calls(zoom.url) == 1


def test_a_refused_refresh_token_means_reconnect_with_one_email(zoom: ZoomSandbox, monkeypatch, lee: SignedIn) -> None:
    row = _connection(lee.principal.user_id)
    # Spend the refresh token behind our back (as a lost refresh response would).
    httpx.post(f"{zoom.url}/oauth/token", data={"grant_type": "refresh_token",
                                               "refresh_token": crypto.decrypt(row.refresh_token_encrypted)},
               auth=("sandbox-client-id", "sandbox-client-secret")).raise_for_status()
    _expire_stored_access_token(lee.principal.user_id)
    for _ in range(2):
        with pytest.raises(ZoomNeedsReconnect):
            asyncio.run(tokens.get_credentials(lee.principal.user_id))
    assert _connection(lee.principal.user_id).status == "needs_reconnect"
    view = connections.connection_view(lee.principal, lee.principal.user_id)
    assert view.status == "needs_reconnect" and "refresh token" in view.last_error
    with unit_of_work() as s:
        mails = s.exec(select(Notification).where(Notification.to_address == "dr.lee@demo.clinic")).all()
    assert [m.subject for m in mails] == ["Action needed: reconnect your Zoom account"]
    connect(zoom.url, lee, "lee@zoom.demo")  # Reconnect restores it
    assert _connection(lee.principal.user_id).status == "connected"


def test_an_owner_connects_and_disconnects_for_a_practitioner(zoom: ZoomSandbox) -> None:
    demo_practice()
    owner, desk = sign_in("owner@demo.clinic"), sign_in("frontdesk@demo.clinic")
    patel_id = user_id("dr.patel@demo.clinic")
    connect(zoom.url, owner, "patel@zoom.demo", practitioner_id=patel_id)
    assert _connection(patel_id).status == "connected"
    from rxapp.services.permissions import NotAllowed

    with pytest.raises(NotAllowed):
        connections.begin_connect(desk.principal, patel_id, desk.token)
    with pytest.raises(NotAllowed):
        asyncio.run(connections.disconnect(sign_in("dr.lee@demo.clinic").principal, patel_id))
    result = asyncio.run(connections.disconnect(owner.principal, patel_id))
    assert result.revoked_at_zoom and _connection(patel_id) is None
    with unit_of_work() as s:
        actions = [a.action for a in s.exec(select(AuditEvent)).all()]
    assert "zoom.connected" in actions and "zoom.disconnected" in actions


def test_a_disconnect_in_the_app_is_not_reported_back_as_the_app_removed(zoom: ZoomSandbox, lee: SignedIn) -> None:
    """Zoom answers our revocation with app_deauthorized: it finds the connection already forgotten, so Lee,
    who disconnected on purpose, gets no "the app was removed" banner or email, and her meeting keeps the
    reason she caused."""
    meeting_id = meeting_at_zoom(lee)
    outcome = asyncio.run(connections.disconnect(lee.principal, lee.principal.user_id))
    assert outcome.revoked_at_zoom and len(outcome.meetings_needing_attention) == 1
    assert wait_until(lambda: _deauthorizations_processed() == 1)
    with unit_of_work() as s:
        profile = s.get(PractitionerProfile, lee.principal.user_id)
        actions = [a.action for a in s.exec(select(AuditEvent)).all()]
        subjects = [n.subject for n in s.exec(select(Notification)).all()]
    assert profile is not None and profile.zoom_notice == ""
    assert actions.count("zoom.disconnected") == 1 and "zoom.deauthorized" not in actions
    assert "Your Zoom account was disconnected" not in subjects
    row = visit(meeting_id)
    assert row.sync_state == "needs_attention" and row.last_sync_error == connections.DISCONNECTED
    assert "Meeting tab" in row.last_sync_error


def test_a_connection_two_requests_forget_at_once_is_forgotten_once(zoom: ZoomSandbox, lee: SignedIn) -> None:
    """The row's DELETE claims it: the second of two racing forgets (the app's webhook and a disconnect, or
    two deliveries of it) flags, records and emails nothing more."""
    meeting_at_zoom(lee)
    zoom_user = _connection(lee.principal.user_id).zoom_user_id  # type: ignore[union-attr]
    forget = [connections._forget_connection(lee.principal.practice_id, lee.principal.user_id, None,
                                             "zoom.deauthorized", connections.APP_REMOVED, "The app was removed.",
                                             zoom_user_id=zoom_user) for _ in range(2)]
    assert forget[0] is not None and len(forget[0]) == 1 and forget[1] is None
    with unit_of_work() as s:
        actions = [a.action for a in s.exec(select(AuditEvent)).all()]
        subjects = [n.subject for n in s.exec(select(Notification)).all()]
    assert actions.count("zoom.deauthorized") == 1
    assert subjects.count("Your Zoom account was disconnected") == 1


def _deauthorizations_processed() -> int:
    with unit_of_work() as s:
        return len(s.exec(select(WebhookEvent).where(WebhookEvent.event == "app_deauthorized",
                                                     col(WebhookEvent.processed_at).is_not(None))).all())


def _signed(body: bytes, secret: str = WEBHOOK_SECRET, ts: int | None = None) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time()))
    return {"x-zm-request-timestamp": stamp, "x-zm-signature": webhooks.sign(secret, stamp, body),
            "content-type": "application/json"}


def _deauth_body(zoom_user_id: str, account_id: str) -> bytes:
    return json.dumps({"event": "app_deauthorized", "event_ts": int(time.time() * 1000),
                       "payload": {"account_id": account_id, "user_id": zoom_user_id, "signature": "x",
                                   "deauthorization_time": "2026-11-22T10:00:00Z", "client_id": "c"}}).encode()




def test_a_deauthorization_with_a_bad_signature_is_refused_and_changes_nothing(
        zoom: ZoomSandbox, lee: SignedIn) -> None:
    row = _connection(lee.principal.user_id)
    body = _deauth_body(row.zoom_user_id, row.zoom_account_id)
    url = f"{zoom.app_url}/api/zoom/webhook"
    assert httpx.post(url, content=body, headers=_signed(body, secret="wrong")).status_code == 401
    tampered = _signed(body)
    assert httpx.post(url, content=body + b" ", headers=tampered).status_code == 401
    stale = _signed(body, ts=int(time.time()) - 3 * 3600)
    assert httpx.post(url, content=body, headers=stale).status_code == 401
    assert httpx.post(url, content=body, headers={}).status_code == 401
    time.sleep(0.3)
    assert _connection(lee.principal.user_id) is not None
    with unit_of_work() as s:
        assert s.exec(select(WebhookEvent)).all() == []


def test_a_good_deauthorization_removes_the_tokens_once(zoom: ZoomSandbox, lee: SignedIn) -> None:
    row = _connection(lee.principal.user_id)
    body = _deauth_body(row.zoom_user_id, row.zoom_account_id)
    url = f"{zoom.app_url}/api/zoom/webhook"
    first = httpx.post(url, content=body, headers=_signed(body))
    assert first.status_code == 200 and first.json() == {"status": "received"}
    assert httpx.post(url, content=body, headers=_signed(body)).json() == {"status": "duplicate"}
    assert wait_until(lambda: _connection(lee.principal.user_id) is None)
    view = connections.connection_view(lee.principal, lee.principal.user_id)
    assert view.status == "not_connected" and "removed from your Zoom account" in view.notice
    with unit_of_work() as s:
        assert len(s.exec(select(WebhookEvent)).all()) == 1
        assert "zoom.deauthorized" in [a.action for a in s.exec(select(AuditEvent)).all()]


def test_removing_the_app_in_zoom_disconnects_through_the_signed_webhook(zoom: ZoomSandbox, lee: SignedIn) -> None:
    control(zoom.url, "POST", "/users/lee@zoom.demo/revoke")
    assert wait_until(lambda: _connection(lee.principal.user_id) is None)


def test_url_validation_is_answered_with_the_hmac_of_the_plain_token(zoom: ZoomSandbox) -> None:
    result = control(zoom.url, "POST", "/webhooks/validate")
    assert result["valid"] is True
