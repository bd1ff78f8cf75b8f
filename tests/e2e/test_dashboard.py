"""Issue 28, item 2 in Chromium: the owner opens the dashboard on a phone, reads the demo practice's
figures (checked against counts made here from the database), downloads the numbers behind a chart;
a manager sees it too, a practitioner is refused."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Practice, User
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack
from tests.e2e.test_accessibility import assert_accessible

SESSIONS = ("booked", "in_progress", "completed")


@pytest.fixture
def visits(stack: Stack, forget_bookings: None) -> Iterator[None]:
    """A few weeks of the demo practice's visits around today (removed afterwards): held ones by both
    modes, a no-show, a cancellation an hour before and one three days before, one booked by the client."""
    at = now().replace(minute=0, second=0, microsecond=0)
    with unit_of_work() as s:
        people = {u.email: u for u in s.exec(select(User)).all()}
        clients = {c.email: c for c in s.exec(select(Client)).all()}
        for practitioner, client, days, telehealth, status, cancelled_before, by in (
                ("dr.lee@demo.clinic", "alex@demo.client", -1, True, "completed", None, "frontdesk@demo.clinic"),
                ("dr.lee@demo.clinic", "sam@demo.client", -2, False, "no_show", None, "frontdesk@demo.clinic"),
                ("dr.patel@demo.clinic", "jo@demo.client", 3, False, "booked", None, "jo@demo.client"),
                ("dr.lee@demo.clinic", "alex@demo.client", 5, True, "cancelled", timedelta(hours=1),
                 "alex@demo.client"),
                ("dr.lee@demo.clinic", "sam@demo.client", 6, False, "cancelled", timedelta(days=3),
                 "frontdesk@demo.clinic"),
                ("dr.patel@demo.clinic", "jo@demo.client", 9, True, "booked", None, "frontdesk@demo.clinic"),
                ("dr.lee@demo.clinic", "sam@demo.client", 20, False, "booked", None, "sam@demo.client")):
            start = at + timedelta(days=days)
            s.add(Appointment(practice_id=clients[client].practice_id, practitioner_id=people[practitioner].id or 0,
                              client_id=clients[client].id or 0, start_at=start, telehealth=telehealth,
                              status=AppointmentStatus(status), created_by_user_id=people[by].id,
                              updated_at=start - cancelled_before if cancelled_before else start))
    yield


def _counts(first: date, last: date) -> tuple[Counter, Counter]:
    """Sessions by mode per week (Monday) and the period's totals, counted row by row from the database
    in the practice's timezone (the demo owner's)."""
    with unit_of_work() as s:
        practice = s.exec(select(Practice).where(Practice.name == "Demo Practice")).one()
        zone = ZoneInfo(practice.timezone)
        visits = s.exec(select(Appointment).where(Appointment.practice_id == practice.id)).all()
        clients = {c.id: c for c in s.exec(select(Client).where(Client.practice_id == practice.id)).all()}
        window = timedelta(hours=practice.cancellation_window_hours)
    weekly: Counter = Counter()
    totals: Counter = Counter()
    for a in visits:
        day = a.start_at.astimezone(zone).date()
        if not first <= day <= last:
            continue
        if a.status in SESSIONS:
            weekly[(day - timedelta(days=day.weekday()), a.telehealth)] += 1
            totals["telehealth" if a.telehealth else "in person"] += 1
        totals["no-shows"] += a.status == "no_show"
        totals["late"] += a.status == "cancelled" and a.start_at - a.updated_at < window
        own = clients[a.client_id].user_id
        totals["self" if own is not None and a.created_by_user_id == own else "practice"] += 1
    totals["new clients"] = sum(first <= c.created_at.astimezone(zone).date() <= last for c in clients.values())
    return weekly, totals


def _choose_period(page: Page, first: date, last: date) -> None:
    page.get_by_label("Period").select_option(label="Custom dates")
    page.get_by_label("First day").fill(first.isoformat())
    page.get_by_label("Last day").fill(last.isoformat())
    expect(page.locator("#dashboard-period")).to_contain_text(f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}")


def test_the_owner_reads_the_demo_practices_figures_on_a_phone_and_downloads_them(browser: Browser, stack: Stack,
                                                                                  visits: None) -> None:
    owner = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True).new_page()
    sign_in(owner, stack, "owner@demo.clinic", landing="/calendar")
    owner.goto(f"{stack.url}/dashboard")
    expect(owner.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(owner.locator("#dashboard-period")).to_be_visible(timeout=20_000)  # this month, at first
    today = now().astimezone(ZoneInfo("America/New_York")).date()
    first, last = today - timedelta(days=45), today + timedelta(days=60)
    _choose_period(owner, first, last)
    weekly, totals = _counts(first, last)
    assert totals["telehealth"] + totals["in person"] >= 4 and totals["late"] >= 1 and totals["self"] >= 3

    sessions = totals["telehealth"] + totals["in person"]
    expect(owner.locator("#dashboard-summary-modes")).to_have_text(
        f"{sessions} session{'' if sessions == 1 else 's'}: {totals['telehealth']} by telehealth, "
        f"{totals['in person']} in person.")
    expect(owner.locator("#dashboard-summary-attendance")).to_contain_text(
        f"{totals['no-shows']} no-show{'' if totals['no-shows'] == 1 else 's'} and {totals['late']} late cancellation")
    expect(owner.locator("#dashboard-summary-booked_by")).to_contain_text(
        f"{totals['self']} self-booked by clients, {totals['practice']} booked by the practice.")
    expect(owner.locator("#dashboard-summary-new_clients")).to_contain_text(f"{totals['new clients']} new client")
    # Each chart is drawn (an SVG) beside its text alternative; the numbers open below it.
    expect(owner.locator("#dashboard-modes svg.recharts-surface").first).to_be_visible()
    owner.locator("#dashboard-modes summary").click()
    table = owner.locator("#dashboard-table-modes")
    expect(table).to_be_visible()
    shown = [[c.strip() for c in row.locator("th, td").all_inner_texts()] for row in table.locator("tbody tr").all()]
    monday = first - timedelta(days=first.weekday())
    mondays = [monday + timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]
    assert shown == [[m.isoformat(), str(weekly[(m, True)]), str(weekly[(m, False)])] for m in mondays]
    assert_accessible(owner, "/dashboard as the owner, a table of numbers open")

    with owner.expect_download() as download:
        owner.get_by_role("button", name="Download CSV of sessions by mode per week").click()
    assert download.value.suggested_filename == f"dashboard-modes-{first.isoformat()}-to-{last.isoformat()}.csv"
    with open(download.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows == [["week", "telehealth", "in person"],
                    *[[m.isoformat(), str(weekly[(m, True)]), str(weekly[(m, False)])] for m in mondays]]

    # A 390 px phone: the charts stack in one column and nothing scrolls sideways.
    assert owner.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    boxes = [owner.locator(f"#dashboard-{chart}").bounding_box() for chart in ("utilisation", "modes")]
    assert boxes[0] and boxes[1] and boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1
    assert boxes[0]["x"] == boxes[1]["x"] and boxes[0]["width"] <= 390


def test_a_manager_sees_the_dashboard_and_a_practitioner_is_refused(browser: Browser, stack: Stack) -> None:
    manager = browser.new_context().new_page()
    sign_in(manager, stack, "manager@demo.clinic", landing="/calendar")
    manager.get_by_role("link", name="Dashboard").click()
    expect(manager.locator("#dashboard-charts")).to_be_visible(timeout=20_000)
    expect(manager.get_by_role("heading", name="New clients per month")).to_be_visible()
    manager.get_by_label("Period").select_option(label="Custom dates")
    manager.get_by_label("First day").fill("2026-05-02")
    manager.get_by_label("Last day").fill("2026-05-01")
    expect(manager.locator("#dashboard-error")).to_have_text("The first day is after the last day.")
    expect(manager.locator("#dashboard-charts")).to_have_count(0)
    manager.get_by_label("Last day").fill("2026-05-31")
    expect(manager.locator("#dashboard-period")).to_contain_text("2 May 2026 to 31 May 2026")

    lee = browser.new_context().new_page()
    sign_in(lee, stack, "dr.lee@demo.clinic", landing="/calendar")
    expect(lee.get_by_role("link", name="Dashboard")).to_have_count(0)
    lee.goto(f"{stack.url}/dashboard")
    expect(lee.locator("#not-allowed")).to_be_visible()
    expect(lee.locator("#dashboard-charts")).to_have_count(0)
