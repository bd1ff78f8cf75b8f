"""Portal: Book a session (or move one): a practitioner, a week of open slots coloured by mode
with a legend and text labels, the choice of mode for a Both slot, confirm. Fits a 390 px phone."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState
from rxapp.state.portal_book import PortalBookingState

B = PortalBookingState


def _swatch(mode: str, label: str) -> rx.Component:
    return rx.hstack(rx.el.span(class_name=f"slot-swatch slot-{mode}", aria_hidden="true"), rx.text(label, size="2"),
                     spacing="1", align="center")


def _legend() -> rx.Component:
    return rx.hstack(
        rx.text("Key:", size="2", weight="bold"),
        _swatch("telehealth", "Telehealth (video)"), _swatch("in_person", "In person"),
        _swatch("both", "Either: you choose"),
        spacing="3", wrap="wrap", align="center", id="slot-legend", role="note")


def _slot(slot: rx.Var[dict[str, str]]) -> rx.Component:
    chosen = B.chosen_key == slot["key"]
    # The name read out is all visible text plus the day: "Tuesday 08 December 8:00 AM Telehealth".
    return rx.el.button(
        rx.el.span(slot["day"] + " ", class_name="visually-hidden"),
        rx.el.span(slot["time"] + " ", class_name="slot-time"), rx.el.span(slot["label"], class_name="slot-mode"),
        on_click=B.choose_slot(slot["key"]), type="button",
        aria_pressed=rx.cond(chosen, "true", "false"),
        class_name=rx.cond(chosen, "slot slot-chosen slot-" + slot["mode"], "slot slot-" + slot["mode"]))


def _day(day: rx.Var[dict[str, str]], index: rx.Var[int]) -> rx.Component:
    return rx.vstack(
        rx.heading(day["label"], size="3", as_="h3"),
        rx.cond(day["count"] == "0", rx.text("No open times", size="2", color_scheme="gray"),
                rx.flex(rx.foreach(B.day_slots[index], _slot), wrap="wrap", gap="0.5em")),
        spacing="1", width="100%", class_name="slot-day")


def _week_nav() -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("chevron-left", aria_hidden="true"), "Previous week", variant="soft", size="2",
                  disabled=~B.has_earlier, on_click=B.other_week(-1), id="previous-week"),
        rx.text(B.week_label, weight="bold", size="2", id="week-label", role="status", aria_live="polite"),
        rx.button("Next week", rx.icon("chevron-right", aria_hidden="true"), variant="soft", size="2",
                  disabled=~B.has_later, on_click=B.other_week(1), id="next-week"),
        justify="between", align="center", width="100%", wrap="wrap", spacing="2")


def _choices() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.el.label("Practitioner", html_for="book-practitioner", style={"font_weight": "500"}),
            rx.el.select(rx.foreach(B.practitioners, lambda p: rx.el.option(p["name"], value=p["id"])),
                         id="book-practitioner", value=B.practitioner_id, on_change=B.choose_practitioner,
                         disabled=B.moving_label != "", style={"padding": "0.4em", "max_width": "100%"}),
            spacing="1", align="start"),
        rx.cond(B.lengths.length() > 1, rx.vstack(
            rx.el.label("Length", html_for="book-length", style={"font_weight": "500"}),
            rx.el.select(rx.foreach(B.lengths, lambda n: rx.el.option(n + " minutes", value=n)), id="book-length",
                         value=B.length, on_change=B.choose_length, style={"padding": "0.4em"}),
            spacing="1", align="start")),
        gap="1em", wrap="wrap", width="100%")


def _confirm_panel() -> rx.Component:
    return rx.cond(B.chosen_key != "", rx.card(rx.vstack(
        rx.text("You chose ", rx.text.strong(B.chosen_label), id="chosen-slot"),
        rx.cond(B.chosen_both, rx.el.fieldset(
            rx.el.legend("How would you like to meet?", style={"font_weight": "500", "margin_bottom": "0.4em"}),
            rx.radio_group.root(
                rx.vstack(rx.el.label(rx.radio_group.item(value="telehealth"), " Telehealth (video)",
                                      style={"display": "flex", "gap": "0.4em"}),
                          rx.el.label(rx.radio_group.item(value="in_person"), " In person",
                                      style={"display": "flex", "gap": "0.4em"}), spacing="2"),
                value=B.chosen_mode, on_change=B.choose_mode, name="session_mode"),
            style={"border": "none", "padding": "0"})),
        rx.hstack(
            rx.button(rx.cond(B.moving_label != "", "Move my appointment", "Confirm booking"), on_click=B.confirm,
                      loading=B.saving, disabled=B.chosen_mode == "", id="confirm-booking"),
            rx.button("Choose another time", variant="soft", color_scheme="gray", on_click=B.clear_choice),
            spacing="2", wrap="wrap"),
        spacing="3", align="start"), width="100%", id="confirm-panel"))


def _booking() -> rx.Component:
    return rx.vstack(
        rx.cond(B.moving_label != "",
                rx.callout(rx.text("Moving your appointment of ", rx.text.strong(B.moving_label),
                                   ". Choose its new time."), icon="calendar-clock", width="100%", id="moving")),
        _choices(),
        rx.text("Times are shown in ", B.timezone, ".", size="2", color_scheme="gray"),
        _legend(),
        rx.cond(B.telehealth_note != "", rx.text(B.telehealth_note, size="2", color_scheme="gray")),
        rx.cond(B.problem != "", rx.callout(B.problem, icon="triangle-alert", color_scheme="red", role="alert",
                                            width="100%", id="booking-problem")),
        _confirm_panel(),
        _week_nav(),
        rx.vstack(rx.foreach(B.days, _day), spacing="4", width="100%", id="slot-week"),
        spacing="4", width="100%", max_width="48em")


@rx.page(route="/portal/book", title="Book a session · Telehealth", on_load=[AuthState.guard, B.load])
def portal_book_page() -> rx.Component:
    return app_shell(
        "/portal/book", "Book a session",
        rx.link("Back to My sessions", href="/portal"),
        rx.cond(~B.loaded, rx.spinner(size="3"),
                rx.cond(B.unavailable != "",
                        rx.callout(B.unavailable, icon="info", role="alert", id="booking-unavailable"),
                        rx.cond(B.practitioners.length() > 0, _booking(),
                                empty_state("No practitioners to book",
                                            "Choose the practitioners you trust under My practitioners; then "
                                            "their open times appear here.", icon="users")))),
    )
