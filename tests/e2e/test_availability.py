"""The availability editor in the real app and real Chromium, on a phone-sized screen: Dr. Patel
publishes a weekly block, sees it after a reload, and a bad time gets its message next to the field
without losing what she typed. Patel's availability is removed afterwards (the shared stack's
self-booking journeys use Dr. Lee's)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, AvailabilityBlock, AvailabilityOverride, BookingRule, User
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack
from tests.e2e.test_accessibility import assert_accessible


@pytest.fixture
def patel_cleared(stack: Stack) -> Iterator[int]:
    with unit_of_work() as s:
        patel = s.exec(select(User).where(User.email == "dr.patel@demo.clinic")).one().id or 0
    yield patel
    with unit_of_work() as s:
        for table in (AvailabilityBlock, AvailabilityOverride):
            s.execute(delete(table).where(table.practitioner_id == patel))
        s.execute(delete(BookingRule).where(BookingRule.practitioner_id == patel))


def test_a_practitioner_publishes_a_block_sees_it_after_reload_and_is_told_about_a_bad_time(
        page: Page, stack: Stack, patel_cleared: int) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, stack, "patel")
    page.goto(f"{stack.url}/availability")
    monday = page.locator("#weekday-0")
    expect(monday).to_contain_text("Not available")
    page.get_by_role("button", name="Add block on Monday").click()
    block = monday.locator(".availability-block")
    expect(block).to_have_count(1)
    block.get_by_label("Mode").select_option("telehealth")
    page.get_by_role("button", name="Save availability").click()
    expect(page.locator("#availability-saved")).to_contain_text("Saved.")
    # Nothing is wider than the phone's screen, and axe-core finds no WCAG 2.1 A/AA violation.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert_accessible(page, "/availability")

    # The calendar shows the published hours as a faint band in Monday's column, with a text label.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{stack.url}/calendar?view=week&date=2027-03-01&p={patel_cleared}")
    band = page.locator(".calendar-band")
    expect(band).to_have_count(1)
    expect(band).to_have_attribute("title", "Telehealth hours 09:00-17:00, Dr. Priya Patel")
    expect(band).to_contain_text("Telehealth hours")
    assert_accessible(page, "/calendar with an availability band")
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{stack.url}/availability")
    block = page.locator("#weekday-0 .availability-block")
    expect(block.get_by_label("From")).to_have_value("09:00")
    expect(block.get_by_label("To")).to_have_value("17:00")
    expect(block.get_by_label("Mode")).to_have_value("telehealth")
    with unit_of_work() as s:
        rows = s.exec(select(AvailabilityBlock).where(AvailabilityBlock.practitioner_id == patel_cleared)).all()
        assert [(b.weekday, b.start_minute, b.end_minute, b.mode) for b in rows] == [(0, 540, 1020, "telehealth")]
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "availability.saved",
                                               AuditEvent.subject_id == str(patel_cleared))).first()

    # The end before the start: a message beside the block, the typed value kept, nothing saved.
    block.get_by_label("To").fill("08:00")
    page.get_by_label("Slot interval (minutes)").fill("2")
    page.get_by_role("button", name="Save availability").click()
    expect(page.locator("#availability-not-saved")).to_have_text("Not saved: check the highlighted fields.")
    expect(block.get_by_role("alert")).to_have_text("The end must be after the start.")
    expect(page.get_by_role("alert").filter(has_text="slot interval")).to_have_text(
        re.compile("The slot interval must be a whole number from 5 to 240."))
    expect(block.get_by_label("To")).to_have_value("08:00")
    assert_accessible(page, "/availability with errors")
    with unit_of_work() as s:
        [stored] = s.exec(select(AvailabilityBlock).where(AvailabilityBlock.practitioner_id == patel_cleared)).all()
        assert stored.end_minute == 1020


def _monday_blocks(page: Page) -> list[tuple[str, str]]:
    blocks = page.locator("#weekday-0 .availability-block")
    return [(blocks.nth(i).get_by_label("From").input_value(), blocks.nth(i).get_by_label("To").input_value())
            for i in range(blocks.count())]


def test_a_new_block_typed_into_quickly_stays_where_it_is_and_keeps_its_own_values(
        page: Page, stack: Stack, patel_cleared: int) -> None:
    """Issue 23.2: a block added on a day with blocks, its From and To typed without a pause: it does
    not jump while being edited, focus stays in it, no other block is written, and Save sorts."""
    with unit_of_work() as s:
        practice_id = s.get(User, patel_cleared).practice_id  # type: ignore[union-attr]
        for start, end, mode in ((540, 720, "both"), (780, 1020, "in_person")):
            s.add(AvailabilityBlock(practice_id=practice_id, practitioner_id=patel_cleared, weekday=0,
                                    start_minute=start, end_minute=end, mode=mode))
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_as(page, stack, "patel")
    page.goto(f"{stack.url}/availability")
    expect(page.locator("#weekday-0 .availability-block")).to_have_count(2)
    page.get_by_role("button", name="Add block on Monday").click()
    added = page.locator("#weekday-0 .availability-block").nth(2)
    expect(added.get_by_label("From")).to_have_value("17:00")
    # The very elements the person sees, typed into back to back (no wait for the server between).
    start, end = added.get_by_label("From").element_handle(), added.get_by_label("To").element_handle()
    to_id = end.get_attribute("id")
    start.fill("07:00")
    end.fill("08:00")
    expect(added.get_by_label("To")).to_have_value("08:00")
    page.wait_for_timeout(800)  # the debounced values have reached the server and come back
    assert _monday_blocks(page) == [("09:00", "12:00"), ("13:00", "17:00"), ("07:00", "08:00")]
    assert page.evaluate("document.activeElement.id") == to_id  # focus stayed in the block typed into

    page.get_by_role("button", name="Save availability").click()
    expect(page.locator("#availability-saved")).to_contain_text("Saved.")
    assert _monday_blocks(page) == [("07:00", "08:00"), ("09:00", "12:00"), ("13:00", "17:00")]
    with unit_of_work() as s:
        rows = s.exec(select(AvailabilityBlock).where(AvailabilityBlock.practitioner_id == patel_cleared)
                      .order_by(AvailabilityBlock.start_minute)).all()
        assert [(b.weekday, b.start_minute, b.end_minute, b.mode) for b in rows] == [
            (0, 420, 480, "in_person"), (0, 540, 720, "both"), (0, 780, 1020, "in_person")]
