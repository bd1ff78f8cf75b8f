"""Practice settings, client self-booking section: saved all at once or not at all, with a clear
message per field; only owners and managers change it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Practice
from rxapp.services.permissions import NotAllowed
from rxapp.services.practice import settings as svc
from rxapp.state.practice_settings import SelfBookingSettingsState
from tests.integration.page_states import page_state, run, toasts
from tests.integration.zoom_helpers import principal_of


def _practice() -> Practice:
    with unit_of_work() as s:
        return s.exec(select(Practice)).one()


def test_self_booking_is_on_for_trusted_practitioners_with_a_24_hour_window_by_default(demo: None) -> None:
    values = svc.get_self_booking(principal_of("manager@demo.clinic"))
    assert values == svc.SelfBookingSettings(True, False, 24, "Please contact the practice to change or cancel it.")


def test_a_manager_saves_the_self_booking_settings(demo: None) -> None:
    manager = principal_of("manager@demo.clinic")
    svc.save_self_booking(manager, svc.SelfBookingSettings(False, True, 48, "  Please call us on 555-0100.  "))
    practice = _practice()
    assert (practice.self_booking_enabled, practice.self_booking_any_practitioner, practice.cancellation_window_hours,
            practice.cancellation_message) == (False, True, 48, "Please call us on 555-0100.")


@pytest.mark.parametrize(("hours", "message", "field", "says"), [
    (-1, "Call us.", "cancellation_window_hours", "from 0 to 336"),
    (337, "Call us.", "cancellation_window_hours", "from 0 to 336"),
    (24, "   ", "cancellation_message", "what to do instead"),
    (24, "x" * 501, "cancellation_message", "at most 500"),
])
def test_bad_self_booking_settings_are_refused_with_a_message_and_change_nothing(
        demo: None, hours: int, message: str, field: str, says: str) -> None:
    with pytest.raises(svc.InvalidSettings) as caught:
        svc.save_self_booking(principal_of("owner@demo.clinic"), svc.SelfBookingSettings(True, True, hours, message))
    assert says in caught.value.errors[field]
    assert (_practice().cancellation_window_hours, _practice().self_booking_any_practitioner) == (24, False)


def test_only_owners_and_managers_change_self_booking(demo: None) -> None:
    for email in ("frontdesk@demo.clinic", "dr.lee@demo.clinic", "alex@demo.client"):
        with pytest.raises(NotAllowed):
            svc.save_self_booking(principal_of(email), svc.SelfBookingSettings(False, True, 1, "x"))
    assert _practice().self_booking_enabled


def test_the_settings_section_saves_and_shows_field_errors(demo: None) -> None:
    page = page_state(SelfBookingSettingsState, "/settings", "manager@demo.clinic")
    run(page.load())
    assert (page.enabled, page.who, page.window_hours) == (True, "trusted", "24")
    page.set_value("window_hours", "a day")
    assert toasts(run(page.save())) == [("error", "Self-booking settings not saved: check the highlighted fields.")]
    assert page.errors == {"cancellation_window_hours": "Enter whole hours, e.g. 24."}
    page.set_value("window_hours", "12")
    page.set_value("who", "any")
    page.set_value("message", "Please call the practice on 555-0100.")
    assert toasts(run(page.save())) == [("success", "Self-booking settings saved.")]
    assert page.errors == {} and _practice().cancellation_window_hours == 12
    assert _practice().self_booking_any_practitioner and _practice().cancellation_message.endswith("555-0100.")


def test_the_practice_address_is_saved_and_named_where_in_person_visits_take_place(demo: None) -> None:
    owner = principal_of("owner@demo.clinic")
    current = svc.get_settings_view(owner)[0]
    with pytest.raises(svc.InvalidSettings) as refused:
        svc.save_settings(owner, replace(current, address="x" * 501))
    assert refused.value.errors == {"address": "Use at most 500 characters."}
    assert _practice().address == current.address  # nothing half-saved
    svc.save_settings(owner, replace(current, address="7 Quay Lane, Salem, MA 01970"))
    practice = _practice()
    assert practice.address == "7 Quay Lane, Salem, MA 01970"
    assert practice.in_person_place == f"{practice.name}, 7 Quay Lane, Salem, MA 01970"
