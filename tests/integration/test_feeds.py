"""Issue 25.5: a practitioner's private calendar feed (and the owner's of everyone), read with two
independent iCalendar parsers (icalendar and vobject): 30 days back to 180 ahead, following every
change, clients by initials unless the practice chooses full names, telehealth visits linking to the
Meetings page and never to a client's join link; a new link kills the old one; tokens stored hashed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import vobject
from icalendar import Calendar
from sqlmodel import select
from starlette.testclient import TestClient

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.dev.demo_data import load_demo_data
from rxapp.models import Appointment, CalendarFeed, Client, Meeting, Practice
from rxapp.services import crypto
from rxapp.services.permissions import NotAllowed
from rxapp.services.scheduling import feeds
from rxapp.services.scheduling.appointments import (
    AppointmentChange,
    AppointmentDraft,
    book_appointments,
    change_appointment,
)
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import principal_of, user_id

APP = "http://localhost:3000"
LEE, DESK = "dr.lee@demo.clinic", "frontdesk@demo.clinic"


@pytest.fixture
def client(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from rxapp import api

    monkeypatch.setenv("APP_URL", APP)
    get_settings.cache_clear()
    load_demo_data()
    yield TestClient(api.build(), base_url=APP, follow_redirects=False)
    get_settings.cache_clear()


def _book(email: str, days: int, hour: str = "10:00", telehealth: bool = False, who: str = LEE) -> int:
    with unit_of_work() as s:
        client_id = s.exec(select(Client).where(Client.email == email)).one().id
    return book_appointments(principal_of(DESK), AppointmentDraft(
        client_id=client_id, practitioner_id=user_id(who), date=(now() + timedelta(days=days)).date().isoformat(),
        hour=hour, duration_minutes=50, telehealth=telehealth, timezone="America/New_York",
        allow_overlap=True)).ids[0]


def _both(text: bytes) -> dict[str, dict[str, str]]:
    """Each event by UID as both parsers read it (they must agree)."""
    first = {str(e["uid"]): {"summary": str(e["summary"]), "start": e.decoded("dtstart").isoformat(),
                             "description": str(e.get("description", "")), "status": str(e["status"])}
             for e in Calendar.from_ical(text).walk("VEVENT")}
    second = {e.uid.value: {"summary": e.summary.value, "start": e.dtstart.value.isoformat(),
                            "description": e.description.value if hasattr(e, "description") else "",
                            "status": e.status.value}
              for e in vobject.readOne(text.decode()).vevent_list}
    assert first == second
    return first


def test_a_practitioners_feed_follows_every_change_and_shows_no_join_link(client: TestClient) -> None:
    inside = _book("alex@demo.client", 3, telehealth=True)
    _book("sam@demo.client", 200)  # beyond 180 days
    _book("jo@demo.client", 4, who="dr.patel@demo.clinic")  # someone else's
    with unit_of_work() as s:
        old = Appointment(practice_id=s.exec(select(Practice)).one().id or 0, practitioner_id=user_id(LEE),
                          client_id=s.exec(select(Client).where(Client.email == "sam@demo.client")).one().id or 0,
                          start_at=now() - timedelta(days=31), duration_minutes=50)
        s.add(old)
        meeting = s.get(Meeting, inside)
        assert meeting is not None
        meeting.join_url_encrypted = crypto.encrypt("https://zoom.us/j/42?pwd=secret-pass")
    url = feeds.new_feed(principal_of(LEE))
    assert url.startswith(f"{APP}/feeds/") and url.endswith(".ics")
    path = url.removeprefix(APP)
    answer = client.get(path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    events = _both(answer.content)
    assert list(events) == [f"meeting-{inside}@telehealth.local"]
    [event] = events.values()
    assert event["summary"] == "A.R. · Telehealth session" and f"{APP}/meetings" in event["description"]
    assert b"zoom.us/j" not in answer.content and b"secret-pass" not in answer.content
    assert b"Alex Rivera" not in answer.content
    # A move shows at once; full names when the practice chooses them.
    change_appointment(principal_of(DESK), inside, AppointmentChange(hour="15:30"))
    feeds.set_full_names(principal_of("owner@demo.clinic"), True)
    [moved] = _both(client.get(path).content).values()
    assert moved["summary"] == "Alex Rivera · Telehealth session" and moved["start"] != event["start"]
    # A new link kills the old one; the token is stored only as its hash.
    newer = feeds.new_feed(principal_of(LEE))
    assert client.get(path).status_code == 404 and client.get(newer.removeprefix(APP)).status_code == 200
    with unit_of_work() as s:
        hashes = [f.token_hash for f in s.exec(select(CalendarFeed))]
    assert all(newer.rsplit("/", 1)[1].removesuffix(".ics") not in h for h in hashes)
    feeds.stop_feed(principal_of(LEE))
    assert client.get(newer.removeprefix(APP)).status_code == 404
    assert client.get("/feeds/not-a-token.ics").status_code == 404


def test_the_owners_feed_has_everyone_and_nobody_else_may_have_one(client: TestClient) -> None:
    lees, patels = _book("alex@demo.client", 2), _book("jo@demo.client", 2, who="dr.patel@demo.clinic")
    url = feeds.new_feed(principal_of("owner@demo.clinic"), everyone=True)
    events = _both(client.get(url.removeprefix(APP)).content)
    assert set(events) == {f"meeting-{lees}@telehealth.local", f"meeting-{patels}@telehealth.local"}
    assert any("(Dr. Priya Patel)" in e["summary"] for e in events.values())
    for email, everyone in ((LEE, True), ("manager@demo.clinic", True), (DESK, False)):
        with pytest.raises(NotAllowed):
            feeds.new_feed(principal_of(email), everyone=everyone)
    with pytest.raises(NotAllowed):
        feeds.set_full_names(principal_of(LEE), True)
