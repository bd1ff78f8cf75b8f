"""The portal's Book a session page and the Reschedule / Cancel buttons, driven as the browser's
websocket drives them (real session cookie, real database, Dr. Lee's Zoom on the sandbox)."""

from __future__ import annotations

from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Appointment
from rxapp.services.scheduling import self_booking
from rxapp.state.portal_book import PortalBookingState, PortalChangeState
from tests.integration.page_states import page_state, run, toasts
from tests.integration.test_self_booking import _at, _next, _practice, _publish
from tests.integration.zoom_helpers import SignedIn, sign_in, user_id


def _slot_keys(page: PortalBookingState) -> list[str]:
    return [s["key"] for day in page.day_slots for s in day]


def _to_slot_week(page: PortalBookingState) -> None:
    """Next week until the page shows the week of `_next(1)` (the Tuesday used below)."""
    for _ in range(3):
        if any(k.startswith(_at(_next(1), 9).isoformat()) for k in _slot_keys(page)):
            return
        run(page.other_week(1))


def test_a_client_books_a_both_slot_choosing_telehealth(lee: SignedIn) -> None:
    _publish()
    page = page_state(PortalBookingState, "/portal/book", "alex@demo.client")
    run(page.load())
    assert page.loaded and page.unavailable == "" and page.practitioners[0]["name"].startswith("Dr. Dana Lee")
    assert page.timezone == "America/Chicago"
    for _ in range(3):
        if any(k.startswith(_at(_next(3), 9).isoformat()) for k in _slot_keys(page)):
            break
        run(page.other_week(1))
    [both] = [s for day in page.day_slots for s in day if s["key"].startswith(_at(_next(3), 9).isoformat())]
    assert (both["mode"], both["label"], both["time"]) == ("both", "Either", "8:00 AM")  # 9:00 New York in Chicago
    page.choose_slot(both["key"])
    assert page.chosen_both and page.chosen_mode == ""
    run(page.confirm())
    assert page.problem == "Choose in person or telehealth for this time."
    page.choose_mode("telehealth")
    events = run(page.confirm())
    assert ("success", "Your telehealth session is booked. We emailed you the details.") in toasts(events)
    with unit_of_work() as s:
        [row] = s.exec(select(Appointment).where(Appointment.start_at == _at(_next(3), 9))).all()
    assert row.telehealth


def test_a_slot_just_taken_shows_the_message_and_fresh_slots(lee: SignedIn) -> None:
    _publish()
    page = page_state(PortalBookingState, "/portal/book", "alex@demo.client")
    run(page.load())
    _to_slot_week(page)
    [key] = [k for k in _slot_keys(page) if k.startswith(_at(_next(1), 9).isoformat())]
    page.choose_slot(key)
    self_booking.book_slot(sign_in("sam@demo.client").principal, user_id("dr.lee@demo.clinic"), _at(_next(1), 9),
                           50, "telehealth")
    events = run(page.confirm())
    assert page.problem == "That time was just taken. Please choose another time."
    assert ("error", page.problem) in toasts(events)
    assert key not in _slot_keys(page) and page.chosen_key == ""  # fresh slots, nothing chosen


def test_cancel_inside_the_window_shows_the_practices_message(lee: SignedIn) -> None:
    _publish()
    alex = sign_in("alex@demo.client").principal
    [appointment_id] = self_booking.book_slot(alex, user_id("dr.lee@demo.clinic"), _at(_next(1), 9), 50,
                                              "telehealth").ids
    _practice(cancellation_window_hours=24 * 14, cancellation_message="Please call the practice on 555-0100.")
    buttons = page_state(PortalChangeState, "/portal", "alex@demo.client")
    events = run(buttons.cancel(appointment_id))
    assert buttons.problem.endswith("cannot be cancelled online. Please call the practice on 555-0100.")
    assert ("error", buttons.problem) in toasts(events)
    run(buttons.reschedule(appointment_id))
    assert "cannot be moved online" in buttons.problem
    _practice(cancellation_window_hours=1)
    events = run(buttons.cancel(appointment_id))
    assert buttons.problem == "" and toasts(events)[0][0] == "success"
    with unit_of_work() as s:
        row = s.get(Appointment, appointment_id)
        assert row is not None and row.status == "cancelled"


def test_a_practice_without_self_booking_says_so_on_the_page(lee: SignedIn) -> None:
    _practice(self_booking_enabled=False)
    page = page_state(PortalBookingState, "/portal/book", "alex@demo.client")
    run(page.load())
    assert "does not take bookings in the portal" in page.unavailable and page.days == []


def test_previous_week_stops_at_this_week(lee: SignedIn) -> None:
    _publish()
    page = page_state(PortalBookingState, "/portal/book", "alex@demo.client")
    run(page.load())  # on the first week with an open slot: this one, or a later one
    for _ in range(3):
        if page.has_earlier:
            run(page.other_week(-1))
    assert not page.has_earlier and page.has_later
    first = page.week_label
    run(page.other_week(-1))
    assert page.week_label == first
    run(page.other_week(1))
    assert page.week_label != first and page.has_earlier
