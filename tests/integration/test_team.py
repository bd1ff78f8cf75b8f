"""The Team page's services on SQLite and PostgreSQL: invites (single-use link, claimed once),
role rules, deactivation (sessions end, sign-in refused, Zoom disconnected at the sandbox,
future appointments listed) and reactivation."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import (
    AccountToken,
    Appointment,
    AppointmentStatus,
    Client,
    LoginSession,
    Meeting,
    Practice,
    PractitionerProfile,
    Role,
    User,
    ZoomConnection,
)
from rxapp.services import crypto
from rxapp.services.identity import accounts, auth
from rxapp.services.identity.passwords import hash_password
from rxapp.services.permissions import NotAllowed
from rxapp.services.practice import profiles, team
from rxapp.settings import get_settings
from tests.factories import telehealth_visit
from tests.integration.conftest import ZoomSandbox
from tests.integration.test_accounts import _mails, _token_in
from tests.integration.zoom_helpers import SignedIn, control, principal_of, sign_in, user_id

OWNER, MANAGER, LEE, PATEL, FRONTDESK = ("owner@demo.clinic", "manager@demo.clinic", "dr.lee@demo.clinic",
                                         "dr.patel@demo.clinic", "frontdesk@demo.clinic")
NEW_PASSWORD = "a brand new secret"


def _invite(email: str = "new.person@demo.clinic", role: str = "staff", by: str = OWNER,
            name: str = "New Person") -> str:
    """Invite someone; returns the token of the link in their email."""
    team.invite_member(principal_of(by), email, name, role)
    [mail] = _mails(email.lower())
    return _token_in(mail, "team-invite")


def _user(email: str) -> User:
    with unit_of_work() as s:
        return s.exec(select(User).where(User.email == email)).one()


# Invites


def test_an_invited_person_chooses_a_password_once_and_signs_in(demo) -> None:
    token = _invite("Casey.Staff@Demo.Clinic", "staff")
    invited = _user("casey.staff@demo.clinic")
    assert invited.password_hash is None and invited.role == Role.STAFF and invited.is_active
    assert team.MemberStatus.INVITED in {m.status for m in team.list_team(principal_of(OWNER))
                                         if m.email == invited.email}

    assert accounts.check_team_invite(token).email == "casey.staff@demo.clinic"
    ticket = accounts.accept_team_invite(token, NEW_PASSWORD)
    session = auth.redeem_ticket(ticket)
    assert session is not None and session.principal.role == Role.STAFF
    with pytest.raises(accounts.LinkUnusable, match="already used"):
        accounts.accept_team_invite(token, "another new secret")
    with pytest.raises(accounts.LinkUnusable, match="already used"):
        accounts.check_team_invite(token)
    assert auth.redeem_ticket(auth.check_password("casey.staff@demo.clinic", NEW_PASSWORD)) is not None


def test_a_team_invite_is_claimed_once_however_many_submit_it(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = hash_password(NEW_PASSWORD)  # twenty argon2 hashes at once would take gigabytes
    monkeypatch.setattr(accounts, "_checked_password", lambda password: prepared)
    token = _invite()
    racers = 20
    barrier = threading.Barrier(racers)

    def one(_: int) -> str | None:
        barrier.wait()
        try:
            return accounts.accept_team_invite(token, NEW_PASSWORD)
        except accounts.LinkUnusable:
            return None

    with ThreadPoolExecutor(racers) as pool:
        tickets = [t for t in pool.map(one, range(racers)) if t is not None]
    assert len(tickets) == 1


def test_an_expired_or_replaced_team_invite_is_refused(demo) -> None:
    first = _invite()
    team.resend_invite(principal_of(OWNER), user_id("new.person@demo.clinic"))
    with pytest.raises(accounts.LinkUnusable) as replaced:
        accounts.check_team_invite(first)
    assert replaced.value.reason == accounts.LinkProblem.EXPIRED
    second = _token_in(_mails("new.person@demo.clinic")[-1], "team-invite")
    start = now()
    set_clock(lambda: start + timedelta(hours=48, seconds=1))
    with pytest.raises(accounts.LinkUnusable, match="This invite link has expired"):
        accounts.accept_team_invite(second, NEW_PASSWORD)
    assert _user("new.person@demo.clinic").password_hash is None


def test_staff_and_practitioners_cannot_manage_the_team(demo) -> None:
    for who in (FRONTDESK, LEE):
        actor = principal_of(who)
        with pytest.raises(NotAllowed):
            team.list_team(actor)
        with pytest.raises(NotAllowed):
            team.change_role(actor, user_id(PATEL), "staff")
        with pytest.raises(NotAllowed):
            asyncio.run(team.deactivate_member(actor, user_id(PATEL)))
        with pytest.raises(NotAllowed):
            team.reactivate_member(actor, user_id(PATEL))
        with pytest.raises(NotAllowed):
            team.future_visits(actor, user_id(PATEL))
    assert _user(PATEL).is_active and _user(PATEL).role == Role.PRACTITIONER


def test_a_practitioner_invite_gets_a_profile_with_the_default_length(demo) -> None:
    _invite("dr.new@demo.clinic", "practitioner", name="Dr. New")
    new_id = user_id("dr.new@demo.clinic")
    with unit_of_work() as s:
        profile = s.get(PractitionerProfile, new_id)
        practice = s.exec(select(Practice)).one()
        assert profile is not None and profile.timezone == practice.timezone
    assert profiles.default_length(new_id) == 50


@pytest.mark.parametrize(("email", "message"), [
    ("alex@demo.client", "is a client's portal account"),
    ("DR.LEE@demo.clinic", "is already on your team"),
    ("not an email", "Enter a valid email address"),
])
def test_an_invite_with_an_email_in_use_or_malformed_is_refused(demo, email: str, message: str) -> None:
    with pytest.raises(team.TeamRefused, match=message):
        team.invite_member(principal_of(OWNER), email, "Someone", "staff")


def test_an_invite_never_reuses_an_account_of_another_practice_or_a_client_record(demo) -> None:
    with unit_of_work() as s:
        other = Practice(name="Other Practice")
        s.add(other)
        s.flush()
        s.add(User(practice_id=other.id or 0, email="elsewhere@other.clinic", full_name="Elsewhere",
                   role=Role.OWNER, password_hash="x"))
        s.add(User(practice_id=other.id or 0, email="their.client@mail.example", full_name="Their Client",
                   role=Role.CLIENT, password_hash="x"))
        here = s.exec(select(Practice).where(Practice.name == demo_data.PRACTICE_NAME)).one()
        s.add(Client(practice_id=here.id or 0, full_name="Robin Client", email="Robin@Clients.example"))
    # Another practice's accounts: refused alike, never saying whose or that one is a client's.
    for email in ("elsewhere@other.clinic", "their.client@mail.example"):
        with pytest.raises(team.TeamRefused) as refused:
            team.invite_member(principal_of(OWNER), email, "Someone", "staff")
        assert str(refused.value) == f"{email} cannot be used for a new account here. Use another email address."
    with pytest.raises(team.TeamRefused, match="is the email of your client Robin Client"):
        team.invite_member(principal_of(OWNER), "robin@clients.example", "Someone", "staff")
    assert _mails("elsewhere@other.clinic") == [] and _mails("robin@clients.example") == []


def test_only_an_owner_invites_managers_and_owners_and_staff_cannot_invite(demo) -> None:
    with pytest.raises(team.TeamRefused, match="Only an owner can make someone a manager"):
        team.invite_member(principal_of(MANAGER), "m2@demo.clinic", "M Two", "manager")
    with pytest.raises(team.TeamRefused, match="Only an owner can make someone an owner"):
        team.invite_member(principal_of(MANAGER), "o2@demo.clinic", "O Two", "owner")
    with pytest.raises(NotAllowed):
        team.invite_member(principal_of(FRONTDESK), "x@demo.clinic", "X", "staff")
    with pytest.raises(team.TeamRefused, match="Choose a role"):
        team.invite_member(principal_of(OWNER), "c@demo.clinic", "C", "client")
    team.invite_member(principal_of(MANAGER), "p2@demo.clinic", "P Two", "practitioner")
    team.invite_member(principal_of(OWNER), "m2@demo.clinic", "M Two", "manager")


def test_the_team_lists_people_not_clients(demo) -> None:
    emails = {m.email for m in team.list_team(principal_of(MANAGER))}
    assert emails == {OWNER, MANAGER, LEE, PATEL, FRONTDESK}


# Roles


def test_nobody_changes_their_own_role(demo) -> None:
    with pytest.raises(team.TeamRefused, match="your own role"):
        team.change_role(principal_of(OWNER), user_id(OWNER), "staff")


def test_a_manager_cannot_change_an_owner_or_make_a_manager(demo) -> None:
    with pytest.raises(team.TeamRefused, match="Only an owner can change Olivia Owner"):
        team.change_role(principal_of(MANAGER), user_id(OWNER), "staff")
    with pytest.raises(team.TeamRefused, match="Only an owner can change Olivia Owner"):
        asyncio.run(team.deactivate_member(principal_of(MANAGER), user_id(OWNER)))
    with pytest.raises(team.TeamRefused, match="Only an owner can make someone a manager"):
        team.change_role(principal_of(MANAGER), user_id(FRONTDESK), "manager")
    assert _user(OWNER).role == Role.OWNER and _user(FRONTDESK).role == Role.STAFF


def test_a_role_change_by_a_manager_and_to_practitioner_adds_a_profile(demo) -> None:
    member = team.change_role(principal_of(MANAGER), user_id(FRONTDESK), "practitioner")
    assert member.role == Role.PRACTITIONER and member.has_profile
    assert profiles.default_length(user_id(FRONTDESK)) == 50


def test_a_member_of_another_practice_or_a_client_cannot_be_changed(demo) -> None:
    with pytest.raises(team.TeamRefused, match="not on your practice's team"):
        team.change_role(principal_of(OWNER), user_id("alex@demo.client"), "staff")
    with pytest.raises(team.TeamRefused, match="not on your practice's team"):
        team.change_role(principal_of(OWNER), 999_999, "staff")


def test_two_owners_demoting_each_other_at_once_leave_one_owner(demo) -> None:
    team.change_role(principal_of(OWNER), user_id(MANAGER), "owner")
    first, second = principal_of(OWNER), principal_of(MANAGER)
    barrier = threading.Barrier(2)

    def demote(actor, target: str) -> bool:
        barrier.wait()
        try:
            team.change_role(actor, user_id(target), "manager")
            return True
        except (team.TeamRefused, NotAllowed):
            return False

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda args: demote(*args), [(first, MANAGER), (second, OWNER)]))
    assert sorted(results) == [False, True]
    with unit_of_work() as s:
        owners = s.exec(select(User).where(User.role == Role.OWNER, col(User.is_active).is_(True))).all()
    assert len(owners) == 1


def test_the_last_active_owner_is_never_demoted_or_deactivated(demo) -> None:
    # A second owner acting on a session from before they were made manager: the server re-reads
    # their role, and the owner count, inside the team lock.
    team.change_role(principal_of(OWNER), user_id(MANAGER), "owner")
    stale_owner = principal_of(MANAGER)
    team.change_role(principal_of(OWNER), user_id(MANAGER), "manager")
    with pytest.raises(team.TeamRefused):
        team.change_role(stale_owner, user_id(OWNER), "manager")
    with pytest.raises(team.TeamRefused):
        asyncio.run(team.deactivate_member(stale_owner, user_id(OWNER)))
    owner = _user(OWNER)
    assert owner.role == Role.OWNER and owner.is_active


# Deactivation


def _appointment(practitioner: str, start_in: timedelta, status: AppointmentStatus = AppointmentStatus.BOOKED,
                 telehealth: bool = False) -> int:
    with unit_of_work() as s:
        client = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        row = Appointment(practice_id=client.practice_id, practitioner_id=user_id(practitioner),
                          client_id=client.id or 0, start_at=now() + start_in, telehealth=telehealth, status=status)
        s.add(row)
        s.flush()
        return row.id or 0


def _telehealth(practitioner: str, start_in: timedelta) -> int:
    with unit_of_work() as s:
        client = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        return telehealth_visit(s, practice_id=client.practice_id, practitioner_id=user_id(practitioner),
                                client_id=client.id or 0, topic="Check-in", start_at=now() + start_in,
                                timezone="UTC").id or 0


def test_deactivating_ends_every_session_and_refuses_sign_in_with_a_clear_message(demo) -> None:
    tabs = [sign_in(PATEL), sign_in(PATEL)]
    done = asyncio.run(team.deactivate_member(principal_of(OWNER), user_id(PATEL)))
    assert done.sessions_ended == 2 and not done.zoom_disconnected
    assert all(auth.principal_for_token(tab.token) is None for tab in tabs)
    with unit_of_work() as s:
        assert all(row.revoked_at is not None for row in s.exec(
            select(LoginSession).where(LoginSession.user_id == user_id(PATEL))))
    with pytest.raises(auth.AccountDeactivated, match="deactivated by your practice"):
        auth.check_password(PATEL, demo_data.DEMO_PASSWORD)
    with pytest.raises(auth.InvalidCredentials):  # a wrong password says nothing about the account
        auth.check_password(PATEL, "not the password")
    assert [m.status for m in team.list_team(principal_of(OWNER)) if m.email == PATEL] == [
        team.MemberStatus.DEACTIVATED]


def test_deactivating_lists_future_appointments_and_drops_none(demo) -> None:
    later = _appointment(PATEL, timedelta(days=2))
    sooner = _appointment(PATEL, timedelta(hours=3))
    _appointment(PATEL, -timedelta(days=1))
    _appointment(PATEL, timedelta(days=3), status=AppointmentStatus.CANCELLED)
    _appointment(LEE, timedelta(days=1))
    video = _telehealth(PATEL, timedelta(days=1))
    done = asyncio.run(team.deactivate_member(principal_of(MANAGER), user_id(PATEL)))
    assert done.future_total == 3
    assert [(v.id, v.telehealth) for v in done.future] == [(sooner, False), (video, True), (later, False)]
    assert done.future[0].link == f"/calendar?appointment={sooner}"
    assert done.future[0].client_name == "Alex Rivera"
    with unit_of_work() as s:
        statuses = {a.id: a.status for a in s.exec(select(Appointment))}
        assert statuses[sooner] == statuses[later] == statuses[video] == AppointmentStatus.BOOKED
        assert s.get(Meeting, video) is not None
    listed, total = team.future_visits(principal_of(OWNER), user_id(PATEL))
    assert total == 3 and [v.id for v in listed] == [sooner, video, later]


def test_a_deactivated_invitee_cannot_use_their_invite_link(demo) -> None:
    token = _invite()
    asyncio.run(team.deactivate_member(principal_of(OWNER), user_id("new.person@demo.clinic")))
    with pytest.raises(accounts.LinkUnusable):
        accounts.accept_team_invite(token, NEW_PASSWORD)
    with unit_of_work() as s:
        assert s.exec(select(AccountToken).where(col(AccountToken.used_at).is_not(None))).all() == []


def test_nobody_deactivates_themselves(demo) -> None:
    with pytest.raises(team.TeamRefused, match="deactivate yourself"):
        asyncio.run(team.deactivate_member(principal_of(OWNER), user_id(OWNER)))


def test_deactivating_a_practitioner_disconnects_their_zoom_at_the_sandbox(zoom: ZoomSandbox, lee: SignedIn) -> None:
    lee_id = lee.principal.user_id
    with unit_of_work() as s:
        stored = s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == lee_id)).one()
    access_token = crypto.decrypt(stored.access_token_encrypted)
    me = f"{get_settings().zoom_api_base_url}/users/me"
    assert httpx.get(me, headers={"Authorization": f"Bearer {access_token}"}).status_code == 200

    done = asyncio.run(team.deactivate_member(principal_of(OWNER), lee_id))

    assert done.zoom_disconnected and done.zoom_problem == ""
    with unit_of_work() as s:
        assert s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == lee_id)).first() is None
    assert control(zoom.url, "GET", "/stats")["calls"].get("revoke", 0) == 1
    assert httpx.get(me, headers={"Authorization": f"Bearer {access_token}"}).status_code == 401
    assert auth.principal_for_token(lee.token) is None


# Reactivation


def test_reactivating_restores_sign_in_but_not_zoom(zoom: ZoomSandbox, lee: SignedIn) -> None:
    lee_id = lee.principal.user_id
    asyncio.run(team.deactivate_member(principal_of(OWNER), lee_id))
    member = team.reactivate_member(principal_of(OWNER), lee_id)
    assert member.status == team.MemberStatus.ACTIVE and member.zoom == "not_connected"
    assert auth.redeem_ticket(auth.check_password(LEE, demo_data.DEMO_PASSWORD)) is not None
    with unit_of_work() as s:
        assert s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == lee_id)).first() is None
    with pytest.raises(team.TeamRefused, match="already active"):
        team.reactivate_member(principal_of(OWNER), lee_id)


# Profiles


def test_an_owner_edits_a_practitioners_profile_and_bad_values_lose_nothing(demo) -> None:
    patel = user_id(PATEL)
    saved = profiles.update_profile(principal_of(OWNER), patel, display_name="  Dr. Priya   Patel ",
                                    credentials="PsyD, Licensed Psychologist", timezone="Europe/Paris",
                                    default_length_minutes="45")
    assert (saved.display_name, saved.credentials, saved.timezone, saved.default_length_minutes) == (
        "Dr. Priya Patel", "PsyD, Licensed Psychologist", "Europe/Paris", 45)
    assert profiles.default_length(patel) == 45
    with pytest.raises(profiles.ProfileInvalid) as refused:
        profiles.update_profile(principal_of(MANAGER), patel, display_name="x" * 121, credentials="y" * 121,
                                timezone="Mars/Base", default_length_minutes="241")
    assert set(refused.value.errors) == {"display_name", "credentials", "timezone", "default_length_minutes"}
    with pytest.raises(profiles.ProfileInvalid):
        profiles.update_profile(principal_of(PATEL), patel, display_name="", credentials="",
                                default_length_minutes="14")
    assert profiles.default_length(patel) == 45


def test_a_practitioner_edits_only_their_own_profile(demo) -> None:
    own = profiles.update_profile(principal_of(LEE), user_id(LEE), display_name="Dana Lee", credentials="LCSW",
                                  default_length_minutes=60)
    assert own.default_length_minutes == 60 and own.timezone == "America/New_York"
    with pytest.raises(NotAllowed):
        profiles.update_profile(principal_of(LEE), user_id(PATEL), display_name="", credentials="",
                                default_length_minutes=50)
    with pytest.raises(NotAllowed):
        profiles.profile_details(principal_of(FRONTDESK), user_id(LEE))


def test_clients_see_the_display_name_and_credentials(demo) -> None:
    from rxapp.services.practice import trust

    profiles.update_profile(principal_of(OWNER), user_id(LEE), display_name="Dr. Dana Lee",
                            credentials="PhD, Licensed Psychologist", default_length_minutes=50)
    names = {c.practitioner_id: c.name for c in trust.practitioner_choices(principal_of("alex@demo.client"))}
    assert names[user_id(LEE)] == "Dr. Dana Lee, PhD, Licensed Psychologist"
    assert names[user_id(PATEL)] == "Dr. Priya Patel"


def test_deactivated_practitioners_are_not_offered_to_clients(demo) -> None:
    from rxapp.services.practice import trust

    asyncio.run(team.deactivate_member(principal_of(OWNER), user_id(PATEL)))
    offered = {c.practitioner_id for c in trust.practitioner_choices(principal_of("jo@demo.client"))}
    assert user_id(PATEL) not in offered and user_id(LEE) in offered
