"""A client's trusted practitioners, chosen in the portal (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, PractitionerProfile, TrustedPractitioner, User
from rxapp.services.permissions import NotAllowed
from rxapp.services.practice import trust
from tests.integration.zoom_helpers import principal_of


def _user_id(email: str) -> int:
    return principal_of(email).user_id


def _trusted_by(client_name: str) -> set[str]:
    with unit_of_work() as s:
        return set(s.exec(
            select(User.full_name).join(TrustedPractitioner, col(TrustedPractitioner.practitioner_id) == User.id)
            .join(Client, col(Client.id) == TrustedPractitioner.client_id)
            .where(Client.full_name == client_name)).all())


def test_a_client_sees_the_telehealth_practitioners_and_whom_they_trust(demo) -> None:
    choices = trust.practitioner_choices(principal_of("alex@demo.client"))
    assert [(c.name, c.trusted) for c in choices] == [("Dr. Dana Lee", True), ("Dr. Priya Patel", False)]


def test_practitioners_without_telehealth_are_not_offered(demo) -> None:
    with unit_of_work() as s:
        s.get(PractitionerProfile, _user_id("dr.patel@demo.clinic")).telehealth_enabled = False
    assert [c.name for c in trust.practitioner_choices(principal_of("alex@demo.client"))] == ["Dr. Dana Lee"]
    with pytest.raises(trust.PractitionerUnavailable):
        trust.set_trusted(principal_of("alex@demo.client"), _user_id("dr.patel@demo.clinic"), True)


def test_toggling_trust_saves_it_and_repeating_changes_nothing(demo) -> None:
    alex, patel = principal_of("alex@demo.client"), _user_id("dr.patel@demo.clinic")
    assert trust.set_trusted(alex, patel, True) == trust.PractitionerChoice(patel, "Dr. Priya Patel", True)
    trust.set_trusted(alex, patel, True)
    assert _trusted_by("Alex Rivera") == {"Dr. Dana Lee", "Dr. Priya Patel"}
    trust.set_trusted(alex, _user_id("dr.lee@demo.clinic"), False)
    trust.set_trusted(alex, _user_id("dr.lee@demo.clinic"), False)
    assert _trusted_by("Alex Rivera") == {"Dr. Priya Patel"}
    with unit_of_work() as s:
        actions = s.exec(select(AuditEvent.action).where(col(AuditEvent.action).startswith("trust."))).all()
    assert actions == ["trust.granted", "trust.revoked"]


def test_a_client_changes_only_their_own_trust(demo) -> None:
    trust.set_trusted(principal_of("alex@demo.client"), _user_id("dr.patel@demo.clinic"), True)
    trust.set_trusted(principal_of("alex@demo.client"), _user_id("dr.lee@demo.clinic"), False)
    assert _trusted_by("Sam Taylor") == {"Dr. Dana Lee"}
    assert _trusted_by("Jo Kim") == {"Dr. Priya Patel"}


def test_only_practitioners_can_be_trusted(demo) -> None:
    alex = principal_of("alex@demo.client")
    for not_a_practitioner in ("frontdesk@demo.clinic", "sam@demo.client"):
        with pytest.raises(trust.PractitionerUnavailable):
            trust.set_trusted(alex, _user_id(not_a_practitioner), True)


@pytest.mark.parametrize("email", ["frontdesk@demo.clinic", "dr.lee@demo.clinic", "owner@demo.clinic"])
def test_staff_cannot_choose_for_a_client(demo, email: str) -> None:
    with pytest.raises(NotAllowed):
        trust.set_trusted(principal_of(email), _user_id("dr.patel@demo.clinic"), True)
    with pytest.raises(NotAllowed):
        trust.practitioner_choices(principal_of(email))


def test_a_portal_user_without_a_client_record_is_told_so(demo) -> None:
    with unit_of_work() as s:
        s.exec(select(Client).where(Client.full_name == "Jo Kim")).one().user_id = None
    with pytest.raises(trust.NoClientRecord):
        trust.practitioner_choices(principal_of("jo@demo.client"))
