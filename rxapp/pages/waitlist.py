"""The practice's waitlist (front desk, managers, owners): everyone waiting for a sooner time, oldest
first, with the time each was offered; Offer a time now and Remove. Wishes are added on a client's
record or by the client in the portal."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell
from rxapp.components.waitlist import waitlist_section
from rxapp.state.auth import AuthState
from rxapp.state.waitlist import WaitlistState


@rx.page(route="/waitlist", title="Waitlist · Telehealth", on_load=[AuthState.guard, WaitlistState.load])
def waitlist_page() -> rx.Component:
    return app_shell(
        "/waitlist", "Waitlist",
        rx.text("Clients waiting for a sooner time, oldest first. When a matching time opens (a cancellation, a "
                "move, new hours) the oldest are offered it by email and text; the first to book it gets it. Add a "
                "client from their record.", color_scheme="gray"),
        waitlist_section("Waiting", "Nobody is on the waitlist.", can_add=False),
    )
