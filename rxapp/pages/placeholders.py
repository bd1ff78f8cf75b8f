"""Pages whose features arrive in later releases: honest empty states, no dead buttons."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState


@rx.page(route="/calendar", title="Calendar · Telehealth", on_load=AuthState.guard)
def calendar_page() -> rx.Component:
    return app_shell("/calendar", "Calendar", empty_state(
        "No appointments to show",
        "The practice calendar will list appointments here. Booking from the calendar is not available yet.",
        icon="calendar"))
