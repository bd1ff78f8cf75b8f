"""The audit page's service and CSV route: who did what and when, filtered, paged by keyset,
for owners and managers of the practice only, never showing a secret."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from rxapp import api
from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, Practice, PractitionerProfile, User
from rxapp.services.audit import trail
from rxapp.services.audit.entries import AuditFilters, InvalidAuditFilter, export_rows, list_entries, parse_filters
from rxapp.services.permissions import NotAllowed
from rxapp.services.practice import profiles
from rxapp.services.practice import settings as practice_settings
from rxapp.services.telehealth import portal
from rxapp.settings import get_settings
from tests.factories import telehealth_visit
from tests.integration.zoom_helpers import principal_of, sign_in, user_id


@pytest.fixture
def practice_id(demo: None) -> int:
    with unit_of_work() as s:
        return s.exec(select(Practice)).one().id or 0


def _add(practice_id: int, action: str, at: datetime, actor: int | None = None, **detail: object) -> None:
    with unit_of_work() as s:
        trail.record(s, practice_id=practice_id, actor_user_id=actor, action=action, **detail)
        s.flush()
        s.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first().created_at = at  # type: ignore[union-attr]


def _actions(page_or_entries) -> list[str]:
    entries = getattr(page_or_entries, "entries", page_or_entries)
    return [e.action for e in entries]


def test_what_people_did_is_listed_newest_first_with_names(practice_id: int) -> None:
    owner = principal_of("owner@demo.clinic")
    sign_in("dr.lee@demo.clinic")
    current = practice_settings.get_settings_view(owner)[0]
    practice_settings.save_settings(owner, replace(current, allow_zoom=not current.allow_zoom))
    profiles.set_own_timezone(principal_of("dr.lee@demo.clinic"), "Europe/Paris")
    page = list_entries(owner, AuditFilters())
    assert _actions(page)[:3] == ["profile.timezone_changed", "practice.settings_changed", "user.signed_in"]
    changed, settings, signed_in = page.entries[:3]
    assert (changed.who, changed.action_label, changed.details) == ("Dr. Dana Lee", "Own timezone changed",
                                                                    "Timezone: Europe/Paris")
    assert settings.who == owner.full_name and \
        f"Zoom allowed: {'yes' if not current.allow_zoom else 'no'}" in settings.details
    assert signed_in.subject == f"User #{user_id('dr.lee@demo.clinic')}: Dr. Dana Lee"
    assert changed.at.tzinfo is not None and changed.when.startswith(str(date.today().year)[:2])


def test_a_client_entering_the_waiting_room_is_recorded_once(practice_id: int) -> None:
    alex = principal_of("alex@demo.client")
    with unit_of_work() as s:
        client = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        lee = s.exec(select(User).where(User.email == "dr.lee@demo.clinic")).one()
        meeting = telehealth_visit(s, practice_id=practice_id, practitioner_id=lee.id or 0, client_id=client.id or 0,
                                   topic="Check-in", start_at=datetime.now(UTC) + timedelta(minutes=10),
                                   timezone="America/New_York")
        meeting_id = meeting.id or 0
    portal.enter_waiting_room(alex, meeting_id)
    portal.enter_waiting_room(alex, meeting_id)
    entries = list_entries(principal_of("owner@demo.clinic"), AuditFilters(action="meeting.waiting_room_entered"))
    assert [(e.who, e.subject) for e in entries.entries] == [("Alex Rivera", f"Meeting #{meeting_id}: Check-in")]


def test_filters_by_person_action_and_dates_in_the_viewer_timezone(practice_id: int) -> None:
    owner, lee = principal_of("owner@demo.clinic"), user_id("dr.lee@demo.clinic")
    # 23:30 on 1 March in New York is already 2 March in UTC.
    _add(practice_id, "zoom.connected", datetime(2031, 3, 2, 4, 30, tzinfo=UTC), lee)
    _add(practice_id, "meeting.cancelled", datetime(2031, 3, 2, 15, 0, tzinfo=UTC), lee)
    _add(practice_id, "meeting.scheduled", datetime(2031, 3, 3, 15, 0, tzinfo=UTC), owner.user_id)
    ny = AuditFilters(timezone="America/New_York", date_from=date(2031, 3, 1), date_to=date(2031, 3, 2))
    assert _actions(list_entries(owner, ny)) == ["meeting.cancelled", "zoom.connected"]
    assert _actions(list_entries(owner, replace(ny, timezone="UTC"))) == ["meeting.cancelled", "zoom.connected"]
    assert _actions(list_entries(owner, replace(ny, timezone="UTC", date_from=date(2031, 3, 2),
                                                date_to=date(2031, 3, 2)))) == ["meeting.cancelled",
                                                                                "zoom.connected"]
    assert _actions(list_entries(owner, replace(ny, date_from=date(2031, 3, 2)))) == ["meeting.cancelled"]
    assert _actions(list_entries(owner, AuditFilters(actor_user_id=lee, date_from=date(2031, 1, 1)))) == [
        "meeting.cancelled", "zoom.connected"]
    assert _actions(list_entries(owner, AuditFilters(action="meeting.", date_from=date(2031, 1, 1)))) == [
        "meeting.scheduled", "meeting.cancelled"]
    assert _actions(list_entries(owner, AuditFilters(action="zoom.connected"))) == ["zoom.connected"]


def test_bad_filters_are_explained(practice_id: int) -> None:
    owner = principal_of("owner@demo.clinic")
    with pytest.raises(InvalidAuditFilter, match="from the list"):
        list_entries(owner, AuditFilters(action="user.%"))
    with pytest.raises(InvalidAuditFilter, match="after the end date"):
        list_entries(owner, AuditFilters(date_from=date(2031, 3, 2), date_to=date(2031, 3, 1)))
    with pytest.raises(InvalidAuditFilter, match="start date is not a date"):
        parse_filters({"from": "31/02/2031"}, "UTC")
    with pytest.raises(InvalidAuditFilter, match="person"):
        parse_filters({"person": "1 OR 1=1"}, "UTC")
    assert parse_filters({"person": "7", "to": "2031-03-01"}, "UTC") == AuditFilters(
        actor_user_id=7, date_to=date(2031, 3, 1), timezone="UTC")


def test_pages_go_next_and_previous_by_keyset(practice_id: int) -> None:
    owner = principal_of("owner@demo.clinic")
    start = datetime(2031, 1, 1, tzinfo=UTC)
    for n in range(120):  # two entries per minute: ties on the time are broken by id
        _add(practice_id, "user.signed_in", start + timedelta(minutes=n // 2), owner.user_id, subject=str(n))
    only = AuditFilters(date_from=date(2031, 1, 1), date_to=date(2031, 1, 2), page_size=50, timezone="UTC")
    seen: list[int] = []
    page = list_entries(owner, only)
    assert not page.has_previous
    while True:
        seen += [e.id for e in page.entries]
        if not page.has_next:
            break
        page = list_entries(owner, replace(only, after=page.next_cursor))
    assert len(seen) == len(set(seen)) == 120 and seen == sorted(seen, reverse=True)
    back = list_entries(owner, replace(only, before=page.previous_cursor))
    assert [e.id for e in back.entries] == seen[50:100] and back.has_previous and back.has_next


def test_only_owners_and_managers_see_it_and_only_their_own_practice(practice_id: int) -> None:
    with unit_of_work() as s:
        other = Practice(name="Elsewhere")
        s.add(other)
        s.flush()
        trail.record(s, practice_id=other.id or 0, actor_user_id=None, action="user.signed_in")
    for email in ("owner@demo.clinic", "manager@demo.clinic"):
        assert list_entries(principal_of(email), AuditFilters(action="user.signed_in")).entries == []
    for email in ("dr.lee@demo.clinic", "frontdesk@demo.clinic", "alex@demo.client"):
        with pytest.raises(NotAllowed):
            list_entries(principal_of(email), AuditFilters())
        with pytest.raises(NotAllowed):
            export_rows(principal_of(email), AuditFilters())


def test_secrets_recorded_by_mistake_never_leave_the_server(practice_id: int) -> None:
    owner = principal_of("owner@demo.clinic")
    _add(practice_id, "meeting.deleted", datetime.now(UTC), owner.user_id, topic="Weekly", token="tok-SECRET",
         passcode="PASS-SECRET", join_url="https://zoom.us/j/1?pwd=URL-SECRET", access_token="AT-SECRET")
    [entry] = list_entries(owner, AuditFilters(action="meeting.deleted")).entries
    exported = "\n".join(",".join(row) for row in export_rows(owner, AuditFilters(action="meeting.deleted")))
    for shown in (entry.details, exported):
        assert "SECRET" not in shown
    assert entry.details == "Topic: Weekly"


def _cookie(email: str) -> dict[str, str]:
    return {get_settings().session_cookie_name: sign_in(email).token}


def test_the_csv_route_checks_the_session_and_role_again(practice_id: int) -> None:
    owner = principal_of("owner@demo.clinic")
    _add(practice_id, "meeting.deleted", datetime(2031, 3, 2, 15, 0, tzinfo=UTC), owner.user_id,
         topic='=HYPERLINK("http://evil.example")')
    with unit_of_work() as s:  # the owner reads times in New York
        s.add(PractitionerProfile(user_id=owner.user_id, practice_id=practice_id, timezone="America/New_York"))
    client = TestClient(api.build(), follow_redirects=False)
    assert client.get("/audit/export.csv").status_code == 303
    client.cookies.update(_cookie("dr.lee@demo.clinic"))
    assert client.get("/audit/export.csv").status_code == 403
    client.cookies.clear()
    client.cookies.update(_cookie("owner@demo.clinic"))
    assert client.get("/audit/export.csv", params={"from": "not a date"}).status_code == 400
    answer = client.get("/audit/export.csv", params={"action": "meeting.deleted", "from": "2031-03-02"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["time", "timezone", "who", "action", "action code", "subject", "details"]
    assert rows[1][:5] == ["2031-03-02 10:00:00 EST", "America/New_York", owner.full_name, "Meeting deleted",
                           "meeting.deleted"]
    assert rows[1][6] == "Topic: =HYPERLINK(\"http://evil.example\")"  # inside the cell: not at its start
    assert len(rows) == 2
    with unit_of_work() as s:  # a name a spreadsheet would run as a formula
        s.exec(select(User).where(User.email == "alex@demo.client")).one().full_name = "=1+2 Alex"
    _add(practice_id, "trust.granted", datetime(2031, 3, 2, 16, 0, tzinfo=UTC), user_id("alex@demo.client"))
    rows = list(csv.reader(io.StringIO(client.get("/audit/export.csv", params={"action": "trust.granted"}).text)))
    assert rows[1][2] == "'=1+2 Alex"
