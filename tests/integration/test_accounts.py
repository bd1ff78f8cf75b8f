"""Portal invites and password resets against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlmodel import col, select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import AuditEvent, Client, LoginSession, LoginThrottle, Notification, Role, User
from rxapp.services.identity import accounts, auth
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import principal_of

NEW_PASSWORD = "a brand new secret"






def _new_client(name: str = "Casey New", email: str | None = "casey@example.org") -> int:
    with unit_of_work() as s:
        practice_id = s.exec(select(User.practice_id)).first()
        client = Client(practice_id=practice_id or 0, full_name=name, email=email)
        s.add(client)
        s.flush()
        return client.id or 0


def _client_id(name: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client.id).where(Client.full_name == name)).one() or 0


def _mails(to: str) -> list[Notification]:
    with unit_of_work() as s:
        return list(s.exec(select(Notification).where(Notification.to_address == to)
                           .order_by(col(Notification.id))).all())


def _token_in(mail: Notification, kind: str) -> str:
    base = re.escape(get_settings().app_url.rstrip("/"))
    found = re.search(rf"{base}/{kind}/([A-Za-z0-9_-]+)", mail.body_text)
    assert found, mail.body_text
    assert found.group(0) in mail.body_html
    return found.group(1)


def _audit_actions() -> list[str]:
    with unit_of_work() as s:
        return list(s.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all())


def _invite(client_id: int, by: str = "frontdesk@demo.clinic") -> str:
    accounts.send_portal_invite(principal_of(by), client_id)
    with unit_of_work() as s:
        client = s.get(Client, client_id)
        assert client is not None and client.email
    return _token_in(_mails(client.email)[-1], "invite")


def test_an_invite_emails_a_link_that_works_for_48_hours(demo) -> None:
    client_id = _new_client()
    sent = accounts.send_portal_invite(principal_of("frontdesk@demo.clinic"), client_id)
    assert sent == accounts.InviteSent(client_name="Casey New", email="casey@example.org")
    [mail] = _mails("casey@example.org")
    assert "client portal" in mail.subject
    token = _token_in(mail, "invite")
    info = accounts.check_invite(token)
    assert info == accounts.LinkInfo(email="casey@example.org", practice_name=demo_data.PRACTICE_NAME)
    start = now()
    set_clock(lambda: start + timedelta(hours=47, minutes=59))
    assert accounts.check_invite(token) == info
    assert "portal_invite.sent" in _audit_actions()


def test_accepting_an_invite_creates_the_portal_user_and_signs_in(demo) -> None:
    client_id = _new_client()
    token = _invite(client_id)
    ticket = accounts.accept_invite(token, NEW_PASSWORD)
    new = auth.redeem_ticket(ticket)
    assert new is not None and new.principal.email == "casey@example.org" and new.principal.role == Role.CLIENT
    with unit_of_work() as s:
        client = s.get(Client, client_id)
        assert client is not None and client.user_id == new.principal.user_id
    assert auth.check_password("casey@example.org", NEW_PASSWORD)
    assert "portal_invite.accepted" in _audit_actions()


def test_a_client_with_an_account_gets_a_password_reset_instead_of_an_invite(demo) -> None:
    old = auth.redeem_ticket(auth.check_password("jo@demo.client", demo_data.DEMO_PASSWORD))
    sent = accounts.send_portal_invite(principal_of("frontdesk@demo.clinic"), _client_id("Jo Kim"))
    assert sent == accounts.InviteSent(client_name="Jo Kim", email="jo@demo.client", password_reset=True)
    [mail] = _mails("jo@demo.client")
    assert mail.subject.startswith("Reset your")
    assert "/invite/" not in mail.body_text
    # Nothing changes until Jo herself chooses a new password through the link.
    assert old is not None and auth.principal_for_token(old.token) is not None
    assert auth.check_password("jo@demo.client", demo_data.DEMO_PASSWORD)
    accounts.reset_password(_token_in(mail, "reset-password"), NEW_PASSWORD)
    assert auth.check_password("jo@demo.client", NEW_PASSWORD)


def test_an_invite_link_never_replaces_an_existing_password(demo) -> None:
    """An open invite for an account that has a password meanwhile (or that was made any other way)
    cannot take the account over: Jo's password is kept."""
    with unit_of_work() as s:
        jo = s.exec(select(Client).where(Client.full_name == "Jo Kim")).one()
        token, _ = accounts._new_token(s, purpose=accounts.INVITE, practice_id=jo.practice_id, at=now(),
                                       user_id=jo.user_id, client_id=jo.id, created_by=None)
    with pytest.raises(accounts.InviteRefused, match="already have a portal account"):
        accounts.check_invite(token)
    with pytest.raises(accounts.InviteRefused, match="already have a portal account"):
        accounts.accept_invite(token, "an attacker's password")
    assert auth.check_password("jo@demo.client", demo_data.DEMO_PASSWORD)


def test_a_used_invite_link_is_refused(demo) -> None:
    token = _invite(_new_client())
    accounts.accept_invite(token, NEW_PASSWORD)
    with pytest.raises(accounts.LinkUnusable) as used:
        accounts.check_invite(token)
    assert used.value.reason == accounts.LinkProblem.USED
    assert str(used.value) == "This invite link was already used. Ask your practice to send a new one."
    with pytest.raises(accounts.LinkUnusable):
        accounts.accept_invite(token, "another new secret")


def test_an_expired_invite_link_is_refused(demo) -> None:
    token = _invite(_new_client())
    start = now()
    set_clock(lambda: start + timedelta(hours=48, seconds=1))
    with pytest.raises(accounts.LinkUnusable) as expired:
        accounts.accept_invite(token, NEW_PASSWORD)
    assert expired.value.reason == accounts.LinkProblem.EXPIRED
    assert str(expired.value) == "This invite link has expired. Ask your practice to send a new one."


def test_an_unknown_link_is_refused(demo) -> None:
    with pytest.raises(accounts.LinkUnusable) as unknown:
        accounts.check_invite("not-a-token")
    assert unknown.value.reason == accounts.LinkProblem.UNKNOWN


def test_resending_an_invite_replaces_the_old_link(demo) -> None:
    client_id = _new_client()
    principal = principal_of("frontdesk@demo.clinic")
    first = _invite(client_id)
    assert accounts.clients_with_open_invites(principal, [client_id, _client_id("Jo Kim")]) == {client_id}
    second = _invite(client_id)
    assert first != second and len(_mails("casey@example.org")) == 2
    with pytest.raises(accounts.LinkUnusable) as old:
        accounts.check_invite(first)
    assert old.value.reason == accounts.LinkProblem.EXPIRED
    accounts.accept_invite(second, NEW_PASSWORD)
    assert accounts.clients_with_open_invites(principal, [client_id]) == set()


def test_a_client_without_email_cannot_be_invited(demo) -> None:
    client_id = _new_client(name="No Mail", email=None)
    with pytest.raises(accounts.InviteRefused, match="No Mail has no email address"):
        accounts.send_portal_invite(principal_of("frontdesk@demo.clinic"), client_id)
    with unit_of_work() as s:
        assert s.exec(select(Notification)).all() == []


def test_an_email_of_another_account_cannot_be_invited(demo) -> None:
    client_id = _new_client(name="Copycat", email="Dr.Lee@demo.clinic")
    with pytest.raises(accounts.InviteRefused, match="cannot be used for a new portal account"):
        accounts.send_portal_invite(principal_of("frontdesk@demo.clinic"), client_id)


@pytest.mark.parametrize("sender", ["frontdesk@demo.clinic", "manager@demo.clinic", "owner@demo.clinic"])
def test_staff_and_managers_may_invite(demo, sender: str) -> None:
    accounts.send_portal_invite(principal_of(sender), _new_client())
    assert len(_mails("casey@example.org")) == 1


@pytest.mark.parametrize("sender", ["alex@demo.client", "dr.lee@demo.clinic"])
def test_clients_and_practitioners_may_not_send_invites(demo, sender: str) -> None:
    with pytest.raises(NotAllowed):
        accounts.send_portal_invite(principal_of(sender), _client_id("Sam Taylor"))
    with unit_of_work() as s:
        assert s.exec(select(Notification)).all() == []


def test_clients_of_another_practice_cannot_be_invited(demo) -> None:
    outsider = Principal(user_id=1, practice_id=999, role=Role.STAFF, email="x@y", full_name="X")
    with pytest.raises(accounts.InviteRefused, match="not found"):
        accounts.send_portal_invite(outsider, _client_id("Jo Kim"))


def test_a_weak_password_is_refused_and_the_link_still_works(demo) -> None:
    token = _invite(_new_client())
    with pytest.raises(accounts.PasswordRejected, match="at least 10 characters"):
        accounts.accept_invite(token, "short")
    assert accounts.check_invite(token).email == "casey@example.org"


def test_forgot_password_answers_the_same_for_unknown_emails_and_sends_nothing(demo) -> None:
    known = accounts.request_password_reset("Sam@Demo.Client ")
    unknown = accounts.request_password_reset("nobody@demo.client")
    assert known == unknown == accounts.FORGOT_PASSWORD_ANSWER
    assert len(_mails("sam@demo.client")) == 1
    assert _mails("nobody@demo.client") == []
    with unit_of_work() as s:
        assert len(s.exec(select(Notification)).all()) == 1


def test_a_reset_sets_a_new_password_and_ends_every_session_and_lockout(demo) -> None:
    session = auth.redeem_ticket(auth.check_password("sam@demo.client", demo_data.DEMO_PASSWORD))
    for _ in range(5):
        with pytest.raises((auth.InvalidCredentials, auth.AccountLocked)):
            auth.check_password("sam@demo.client", "wrong")
    with pytest.raises(auth.AccountLocked):
        auth.check_password("sam@demo.client", demo_data.DEMO_PASSWORD)

    accounts.request_password_reset("sam@demo.client")
    token = _token_in(_mails("sam@demo.client")[-1], "reset-password")
    assert accounts.check_reset(token).email == "sam@demo.client"
    accounts.reset_password(token, NEW_PASSWORD)

    assert session is not None and auth.principal_for_token(session.token) is None
    with unit_of_work() as s:
        assert all(r.revoked_at for r in s.exec(select(LoginSession)).all() if r.user_id == session.principal.user_id)
        assert s.exec(select(LoginThrottle).where(LoginThrottle.email == "sam@demo.client")).all() == []
    assert auth.check_password("sam@demo.client", NEW_PASSWORD)
    assert "user.password_reset" in _audit_actions()
    with pytest.raises(accounts.LinkUnusable) as used:
        accounts.reset_password(token, "yet another secret")
    assert str(used.value) == "This password reset link was already used. Request a new one."


def test_a_reset_link_expires_after_48_hours(demo) -> None:
    accounts.request_password_reset("alex@demo.client")
    token = _token_in(_mails("alex@demo.client")[-1], "reset-password")
    start = now()
    set_clock(lambda: start + timedelta(hours=48))
    with pytest.raises(accounts.LinkUnusable) as expired:
        accounts.check_reset(token)
    assert str(expired.value) == "This password reset link has expired. Request a new one."


def test_a_newer_reset_link_replaces_the_older_one(demo) -> None:
    start = now()
    set_clock(lambda: start)
    accounts.request_password_reset("alex@demo.client")
    accounts.request_password_reset("alex@demo.client")  # within a minute: no second email
    assert len(_mails("alex@demo.client")) == 1
    first = _token_in(_mails("alex@demo.client")[-1], "reset-password")
    set_clock(lambda: start + timedelta(minutes=2))
    accounts.request_password_reset("alex@demo.client")
    second = _token_in(_mails("alex@demo.client")[-1], "reset-password")
    with pytest.raises(accounts.LinkUnusable):
        accounts.check_reset(first)
    accounts.reset_password(second, NEW_PASSWORD)


def test_an_inactive_account_gets_no_reset_email(demo) -> None:
    with unit_of_work() as s:
        s.exec(select(User).where(User.email == "manager@demo.clinic")).one().is_active = False
    assert accounts.request_password_reset("manager@demo.clinic") == accounts.FORGOT_PASSWORD_ANSWER
    assert _mails("manager@demo.clinic") == []


def test_an_invite_link_is_not_a_reset_link(demo) -> None:
    token = _invite(_new_client())
    with pytest.raises(accounts.LinkUnusable):
        accounts.check_reset(token)


def test_forgot_password_does_the_same_work_whether_or_not_the_email_exists(demo, monkeypatch) -> None:
    """The answer comes before any lookup: both requests only hand the email to the queue."""
    queued: list[tuple[object, tuple]] = []
    real_submit = accounts._RESET_REQUESTS.submit
    monkeypatch.setattr(accounts._RESET_REQUESTS, "submit",
                        lambda fn, *args: queued.append((fn, args)) or real_submit(fn, *args))
    monkeypatch.setattr(accounts, "unit_of_work", _refuse_database_while_answering(accounts.unit_of_work))
    known = accounts.forgot_password("sam@demo.client")
    unknown = accounts.forgot_password("nobody@demo.clinic")
    assert known == unknown == accounts.FORGOT_PASSWORD_ANSWER
    assert [fn for fn, _ in queued] == [accounts._handle_reset_request] * 2
    accounts._RESET_REQUESTS.submit(lambda: None).result()  # the queue has done both
    assert len(_mails("sam@demo.client")) == 1 and _mails("nobody@demo.clinic") == []


def _refuse_database_while_answering(real):
    """`unit_of_work` that fails when the answering thread (this test's) opens it."""
    answering = threading.get_ident()

    @contextmanager
    def guarded():
        assert threading.get_ident() != answering, "forgot_password used the database before answering"
        with real() as session:
            yield session

    return guarded
