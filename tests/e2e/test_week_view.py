"""Issue 23.8: the week view stays readable (short Zoom badges inside their column, overlapping visits
side by side, no column for an invited practitioner, a 200-character name truncated) and, on a
desktop, an appointment is moved by dragging it (to another time or practitioner) and its length
changed by dragging its bottom edge, with the dialog's checks and an Undo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, PractitionerProfile, User
from rxapp.services.identity.passwords import hash_password
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack

# What each journey books goes with it: the stack is shared with the other files (in any order).
pytestmark = pytest.mark.usefixtures("forget_bookings")

# A week of its own, far from the days other journeys use: Monday 11 October 2027.
WEEK = "2027-10-11"
NY = ZoneInfo("America/New_York")
LONG_NAME = "Dr. " + "Maximiliana-Evangelina " * 8 + "Okonkwo-Fitzgerald"
LONG_NAME = LONG_NAME[:200]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 10, day, hour, minute, tzinfo=NY)


def _user(email: str) -> User:
    with unit_of_work() as s:
        return s.exec(select(User).where(User.email == email)).one()


@pytest.fixture
def week(stack: Stack) -> Iterator[dict[str, int]]:
    """Dr. Lee's week: Alex on Tuesday 10:00, and on Wednesday Sam 09:00 and Jo 09:30 (overlapping),
    in person; a practitioner with a 200-character name (joined) and one invited, not yet joined."""
    lee, patel = _user("dr.lee@demo.clinic"), _user("dr.patel@demo.clinic")
    with unit_of_work() as s:
        clients = {c.full_name: c for c in s.exec(select(Client)).all()}
        practice_id = lee.practice_id
        rows = [Appointment(practice_id=practice_id, practitioner_id=lee.id or 0, client_id=clients[name].id or 0,
                            start_at=start, duration_minutes=50, telehealth=False, status=AppointmentStatus.BOOKED,
                            timezone="America/New_York")
                for name, start in (("Alex Rivera", _at(12, 10)), ("Sam Taylor", _at(13, 9)),
                                    ("Jo Kim", _at(13, 9, 30)))]
        s.add_all(rows)
        people = [User(practice_id=practice_id, email="long.name@demo.clinic", full_name=LONG_NAME,
                       password_hash=hash_password("Long-name-practitioner-1"), role="practitioner"),
                  User(practice_id=practice_id, email="invited.doc@demo.clinic", full_name="Dr. Invited Notyet",
                       role="practitioner")]
        s.add_all(people)
        s.flush()
        for person in people:
            s.add(PractitionerProfile(user_id=person.id or 0, practice_id=practice_id))
        ids = {"lee": lee.id or 0, "patel": patel.id or 0, "alex": rows[0].id or 0, "sam": rows[1].id or 0,
               "jo": rows[2].id or 0, "long": people[0].id or 0, "invited": people[1].id or 0}
    yield ids
    with unit_of_work() as s:
        for key in ("alex", "sam", "jo"):
            row = s.get(Appointment, ids[key])
            if row is not None:
                s.delete(row)
        for key in ("long", "invited"):
            profile = s.get(PractitionerProfile, ids[key])
            if profile is not None:
                s.delete(profile)
        s.flush()
        for key in ("long", "invited"):
            person = s.get(User, ids[key])
            if person is not None:
                s.delete(person)


def _open(page: Page, stack: Stack, *practitioners: int) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{stack.url}/calendar?date={WEEK}&view=week&p={','.join(str(p) for p in practitioners)}")
    expect(page.locator("#calendar-title")).to_have_text("11 Oct - 17 Oct 2027", timeout=20_000)


def _visit(appointment_id: int) -> Appointment:
    with unit_of_work() as s:
        row = s.get(Appointment, appointment_id)
        assert row is not None
        return row


def _drag(page: Page, block: Locator, dx: float, dy: float, *, from_bottom: bool = False) -> None:
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, (box["y"] + box["height"] - 2) if from_bottom else box["y"] + 12
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(x + dx * step / 5, y + dy * step / 5)
    page.mouse.up()


def test_the_week_view_stays_readable(page: Page, stack: Stack, week: dict[str, int]) -> None:
    sign_in_as(page, stack, "frontdesk")
    _open(page, stack, week["lee"], week["long"], week["invited"])
    # The invited practitioner has no column and is not offered as one; the others are.
    expect(page.locator(".calendar-col-head").filter(has_text="Invited Notyet")).to_have_count(0)
    expect(page.locator(".calendar-practitioner").filter(has_text="Invited Notyet")).to_have_count(0)
    expect(page.locator(".calendar-col-head")).to_have_count(14)
    # Badges and names stay inside their column; the long name is cut, whole in its tooltip.
    heads = page.evaluate("""() => [...document.querySelectorAll('.calendar-col-head')].map(h => {
        const head = h.getBoundingClientRect(), badge = h.querySelector('.calendar-zoom-badge'),
              name = h.querySelector('.calendar-col-name');
        return {inside: badge.getBoundingClientRect().right <= head.right + 0.5 &&
                        name.getBoundingClientRect().right <= head.right + 0.5,
                badge: badge.innerText, label: badge.getAttribute('aria-label'),
                cut: name.scrollWidth > name.clientWidth, title: name.getAttribute('title')};
    })""")
    assert all(h["inside"] for h in heads), heads
    assert {h["badge"] for h in heads} <= {"Zoom", "No Zoom", "Reconnect"}
    assert {h["label"] for h in heads} <= {"Zoom connected", "Zoom not connected", "Zoom needs reconnect"}
    long_heads = [h for h in heads if h["title"] == LONG_NAME]
    assert len(long_heads) == 7 and all(h["cut"] for h in long_heads)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    # Overlapping visits in one column stand side by side, their names readable.
    sam, jo = (page.locator(f'.calendar-appt[data-appointment-id="{week[k]}"]') for k in ("sam", "jo"))
    expect(sam).to_contain_text("Sam Taylor")
    expect(jo).to_contain_text("Jo Kim")
    a, b = sam.bounding_box(), jo.bounding_box()
    assert a is not None and b is not None and a["x"] + a["width"] <= b["x"] + 1, (a, b)
    for block in (sam, jo):
        assert block.locator(".calendar-appt-client").evaluate("e => e.getBoundingClientRect().width > 30")


def test_the_front_desk_drags_an_appointment_to_move_it_reassign_it_and_change_its_length_with_undo(
        page: Page, stack: Stack, week: dict[str, int]) -> None:
    sign_in_as(page, stack, "frontdesk")
    _open(page, stack, week["lee"], week["patel"])
    block = page.locator(f'.calendar-appt[data-appointment-id="{week["alex"]}"]')
    expect(block).to_have_attribute("data-movable", "1")

    # An hour later, same column.
    _drag(page, block, 0, 60)
    expect(page.get_by_text("Appointment changed.")).to_be_visible(timeout=15_000)
    assert _visit(week["alex"]).start_at.astimezone(NY).strftime("%H:%M") == "11:00"
    expect(page.get_by_role("dialog")).to_have_count(0)  # the drop never opens the dialog by its click
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Moved back.")).to_be_visible(timeout=15_000)
    assert _visit(week["alex"]).start_at.astimezone(NY).strftime("%H:%M") == "10:00"

    # To Dr. Patel's column of the same day (Tuesday: Lee's is the third column, Patel's the fourth).
    columns = page.locator(".calendar-body .calendar-col")
    expect(block).to_have_css("top", "600px")
    lee_box, patel_box = columns.nth(2).bounding_box(), columns.nth(3).bounding_box()
    assert lee_box is not None and patel_box is not None
    _drag(page, block, patel_box["x"] - lee_box["x"], 0)
    expect(page.get_by_text("Appointment changed.").last).to_be_visible(timeout=15_000)
    moved = _visit(week["alex"])
    assert moved.practitioner_id == week["patel"] and moved.start_at.astimezone(NY).strftime("%H:%M") == "10:00"

    # Its bottom edge 40 minutes lower: 90 minutes long (the end snaps to a quarter hour).
    block = page.locator(f'.calendar-appt[data-appointment-id="{week["alex"]}"]')
    expect(block).to_have_attribute("data-minutes", "50")
    _drag(page, block, 0, 40, from_bottom=True)
    expect(block).to_have_attribute("data-minutes", "90", timeout=15_000)
    assert _visit(week["alex"]).duration_minutes == 90


def test_a_drop_onto_another_visit_asks_as_the_dialog_does(page: Page, stack: Stack, week: dict[str, int]) -> None:
    """Onto Sam's Wednesday 09:00: nothing is saved; the dialog opens with the new time and the overlap
    warning, and "Book anyway" saves it."""
    sign_in_as(page, stack, "frontdesk")
    _open(page, stack, week["lee"])
    block = page.locator(f'.calendar-appt[data-appointment-id="{week["alex"]}"]')
    sam = page.locator(f'.calendar-appt[data-appointment-id="{week["sam"]}"]')
    start, target = block.bounding_box(), sam.bounding_box()
    assert start is not None and target is not None
    _drag(page, block, target["x"] - start["x"] + 5, target["y"] - start["y"])
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#appt-overlap")).to_be_visible(timeout=15_000)
    expect(dialog.get_by_label("Start")).to_have_value("09:00")
    assert _visit(week["alex"]).start_at.astimezone(NY).strftime("%d %H:%M") == "12 10:00"  # not saved yet
    dialog.get_by_role("button", name="Book anyway").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    assert _visit(week["alex"]).start_at.astimezone(NY).strftime("%d %H:%M") == "13 09:00"
