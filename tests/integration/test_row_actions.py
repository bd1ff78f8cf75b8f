"""Row actions carry the record's id from the click, and the server re-checks it (issue 10, item 2).

Each page state is driven as the browser drives it (a real state tree, a real session cookie).
"The list changed" is a row inserted above by someone else and the page reloaded (a live
update or a search) between what the user saw and what the click sends.
"""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import (
    AccountToken,
    Client,
    OAuthAttempt,
    Practice,
    PractitionerProfile,
    Role,
    TrustedPractitioner,
    User,
    ZoomConnection,
)
from rxapp.services.permissions import NotAllowed
from rxapp.state.clients import ClientsState
from rxapp.state.portal_trust import PortalTrustState
from rxapp.state.practice_settings import PracticeSettingsState
from tests.integration.conftest import ZoomSandbox
from tests.integration.page_states import page_state, redirects, run, toasts
from tests.integration.zoom_helpers import SignedIn, user_id


def _new_client(name: str, email: str, practice_id: int | None = None) -> int:
    with unit_of_work() as s:
        pid = practice_id or s.exec(select(Practice)).first().id
        client = Client(practice_id=pid, full_name=name, email=email)
        s.add(client)
        s.flush()
        return client.id or 0


def _new_practitioner(name: str, email: str, practice_id: int | None = None) -> int:
    with unit_of_work() as s:
        pid = practice_id or s.exec(select(Practice)).first().id
        user = User(practice_id=pid, email=email, full_name=name, role=Role.PRACTITIONER)
        s.add(user)
        s.flush()
        s.add(PractitionerProfile(user_id=user.id or 0, practice_id=pid, telehealth_enabled=True))
        return user.id or 0


def _other_practice() -> int:
    with unit_of_work() as s:
        other = Practice(name="Another Practice")
        s.add(other)
        s.flush()
        return other.id or 0


def _invited_clients() -> set[int]:
    with unit_of_work() as s:
        return {t.client_id for t in s.exec(select(AccountToken)).all() if t.client_id}


def _telehealth(practitioner_id: int) -> bool:
    with unit_of_work() as s:
        return s.get(PractitionerProfile, practitioner_id).telehealth_enabled


def _trusted_by_alex() -> set[int]:
    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        return set(s.exec(select(TrustedPractitioner.practitioner_id)
                          .where(TrustedPractitioner.client_id == alex.id)).all())


def _attempts_for() -> list[int]:
    with unit_of_work() as s:
        return list(s.exec(select(OAuthAttempt.practitioner_id).order_by(col(OAuthAttempt.id))).all())


def _connected(practitioner_id: int) -> bool:
    with unit_of_work() as s:
        return s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first() \
            is not None


def _row(rows: list[dict[str, str]], record_id: int) -> dict[str, str]:
    return next(r for r in rows if r["id"] == str(record_id))


# Portal invites (Clients page)

def test_a_portal_invite_goes_to_the_client_clicked_even_if_the_list_changed(demo) -> None:
    casey = _new_client("Casey Brook", "casey@new.client")
    page = page_state(ClientsState, "/clients", "frontdesk@demo.clinic")
    run(page.load())
    assert _row(page.rows, casey)["name"] == "Casey Brook"  # what the user clicks
    _new_client("Aaron Abbott", "aaron@new.client")  # sorts above Casey
    run(page.load())

    events = run(page.send_invite(casey))

    [(level, message)] = toasts(events)
    assert level == "success" and "Casey Brook" in message
    assert _invited_clients() == {casey}
    assert _row(page.rows, casey)["invite_label"] == "Resend portal invite"


def test_a_portal_invite_for_another_practices_client_is_refused(demo) -> None:
    stranger = _new_client("Olive Other", "olive@other.client", practice_id=_other_practice())
    _new_client("Aaron Abbott", "aaron@new.client")
    _new_client("Bea Bell", "bea@new.client")
    page = page_state(ClientsState, "/clients", "frontdesk@demo.clinic")
    run(page.load())

    [(level, _)] = toasts(run(page.send_invite(stranger)))

    assert level == "error"
    assert _invited_clients() == set()


def test_only_staff_may_send_a_portal_invite(demo) -> None:
    casey = _new_client("Casey Brook", "casey@new.client")
    page = page_state(ClientsState, "/clients", "alex@demo.client")
    assert toasts(run(page.send_invite(casey))) == [("error", "You are not allowed to send portal invites.")]
    assert _invited_clients() == set()


# Telehealth switch (Practice settings)

def test_the_telehealth_switch_changes_the_practitioner_clicked_even_if_the_list_changed(demo) -> None:
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    page = page_state(PracticeSettingsState, "/settings", "manager@demo.clinic")
    run(page.load())
    adams = _new_practitioner("Dr. Aaron Adams", "adams@demo.clinic")  # sorts above both
    run(page.load())

    events = run(page.set_telehealth(patel, False))

    assert toasts(events) == [("success", "Telehealth disabled for Dr. Priya Patel.")]
    assert (_telehealth(lee), _telehealth(patel), _telehealth(adams)) == (True, False, True)
    assert _row(page.practitioners, patel)["telehealth"] == ""


def test_the_telehealth_switch_refuses_another_practices_practitioner(demo) -> None:
    stranger = _new_practitioner("Dr. Other", "dr.other@other.clinic", practice_id=_other_practice())
    page = page_state(PracticeSettingsState, "/settings", "manager@demo.clinic")
    run(page.load())

    [(level, _)] = toasts(run(page.set_telehealth(stranger, False)))

    assert level == "error"
    assert _telehealth(stranger)


def test_only_owners_and_managers_switch_telehealth(demo) -> None:
    page = page_state(PracticeSettingsState, "/settings", "dr.lee@demo.clinic")
    with pytest.raises(NotAllowed):
        run(page.set_telehealth(user_id("dr.patel@demo.clinic"), False))
    assert _telehealth(user_id("dr.patel@demo.clinic"))


# Zoom connect/disconnect on behalf (Practice settings)

def test_disconnect_on_behalf_acts_on_the_practitioner_clicked_even_if_the_list_changed(lee: SignedIn) -> None:
    page = page_state(PracticeSettingsState, "/settings", "manager@demo.clinic")
    run(page.load())
    _new_practitioner("Dr. Aaron Adams", "adams@demo.clinic")
    run(page.load())

    [(level, _)] = toasts(run(page.disconnect_for(lee.principal.user_id)))

    assert level == "success"
    assert not _connected(lee.principal.user_id)
    assert _row(page.practitioners, lee.principal.user_id)["zoom_status"] == "not_connected"


def test_zoom_on_behalf_refuses_another_practices_practitioner(lee: SignedIn) -> None:
    stranger = _new_practitioner("Dr. Other", "dr.other@other.clinic", practice_id=_other_practice())
    page = page_state(PracticeSettingsState, "/settings", "manager@demo.clinic")
    run(page.load())
    before = _attempts_for()

    [(connect_level, _)] = toasts(run(page.connect_for(stranger)))
    [(disconnect_level, _)] = toasts(run(page.disconnect_for(stranger)))

    assert (connect_level, disconnect_level) == ("error", "error")
    assert _attempts_for() == before
    assert _connected(lee.principal.user_id)


def test_connect_on_behalf_starts_zoom_for_the_practitioner_clicked_unless_already_connected(
        lee: SignedIn, zoom: ZoomSandbox) -> None:
    patel = user_id("dr.patel@demo.clinic")
    page = page_state(PracticeSettingsState, "/settings", "manager@demo.clinic")
    run(page.load())
    before = _attempts_for()

    # Lee connected meanwhile (the row the manager saw still offered Connect): nothing to start.
    assert toasts(run(page.connect_for(lee.principal.user_id))) == [
        ("info", "Zoom is already connected for Dr. Dana Lee.")]
    assert _attempts_for() == before

    [url] = redirects(run(page.connect_for(patel)))
    assert url.startswith(zoom.url)
    assert _attempts_for() == [*before, patel]


# Trust toggle (portal "My practitioners")

def test_trusting_acts_on_the_practitioner_clicked_even_if_the_list_changed(demo) -> None:
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    page = page_state(PortalTrustState, "/portal/practitioners", "alex@demo.client")
    run(page.load())
    _new_practitioner("Dr. Aaron Adams", "adams@demo.clinic")  # a new telehealth practitioner, listed first
    run(page.load())

    events = run(page.toggle_trust(patel, True))

    assert toasts(events) == [("success", "Dr. Priya Patel is now one of your practitioners.")]
    assert _trusted_by_alex() == {lee, patel}
    assert _row(page.choices, patel)["trusted"] == "1"


def test_trusting_another_practices_practitioner_is_refused(demo) -> None:
    stranger = _new_practitioner("Dr. Other", "dr.other@other.clinic", practice_id=_other_practice())
    page = page_state(PortalTrustState, "/portal/practitioners", "alex@demo.client")
    run(page.load())

    [(level, _)] = toasts(run(page.toggle_trust(stranger, True)))

    assert level == "error"
    assert _trusted_by_alex() == {user_id("dr.lee@demo.clinic")}
