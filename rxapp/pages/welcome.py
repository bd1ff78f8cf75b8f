"""Getting started: the owner's first steps after setting up the practice."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell
from rxapp.state.auth import AuthState
from rxapp.state.welcome import WelcomeState

W = WelcomeState


def _step(step: rx.Var[dict[str, str]]) -> rx.Component:
    done = step["done"] == "1"
    return rx.el.li(rx.hstack(
        rx.cond(done, rx.icon("circle-check", color="var(--green-9)", aria_label="Done"),
                rx.icon("circle", color="var(--gray-9)", aria_label="To do")),
        rx.link(step["label"], href=step["href"], weight=rx.cond(done, "regular", "medium")),
        spacing="2", align="center"), class_name="welcome-step")


@rx.page(route="/welcome", title="Getting started · Telehealth", on_load=[AuthState.guard, W.load])
def welcome_page() -> rx.Component:
    return app_shell(
        "/welcome", "Getting started",
        rx.cond(W.unconfirmed, rx.callout.root(
            rx.callout.icon(rx.icon("mail-warning")),
            rx.callout.text(
                "Confirm your email: we sent a link to ", rx.text.strong(W.confirm_to), ". Until you open it, "
                "nothing is sent to your clients or team", rx.cond(W.waiting > 0, rx.fragment(
                    " (", W.waiting, " messages are waiting and go once you confirm)"), ""), "."),
            rx.button("Send the link again", on_click=W.resend, variant="soft", size="2", width="fit-content"),
            rx.cond(W.resend_note != "", rx.callout.text(W.resend_note, role="status")),
            color_scheme="amber", high_contrast=True, id="confirm-email",
            style={"flex_direction": "column", "align_items": "start"})),
        rx.text("Your practice is set up. These steps make it ready for its first client:"),
        rx.el.ol(rx.foreach(W.steps, _step), id="welcome-steps",
                 style={"list_style": "none", "padding": "0", "display": "grid", "gap": "0.75em"}),
        rx.cond(W.left == 0, rx.callout("All done: your practice is ready.", icon="party-popper", color_scheme="green"),
                rx.text(W.left, " steps left. Come back to this list at /welcome at any time.", color_scheme="gray")),
    )
