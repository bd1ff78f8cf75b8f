"""The waitlist: the wishes as cards (they fit a 390 px phone) and the form that adds one; used on My
sessions (the client's own), a client's record and /waitlist (the front desk)."""

from __future__ import annotations

import reflex as rx

from rxapp.state.waitlist import DAY_OPTIONS, MODES, WaitlistState

W = WaitlistState


def _error(field: str) -> rx.Component:
    return rx.cond(W.errors.contains(field), rx.text(W.errors[field], color_scheme="red", size="2", role="alert",
                                                    id=f"wish-{field}-error"))


def _labelled(label: str, control: rx.Component, field: str) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=f"wish-{field}", style={"font_weight": "500"}), control,
                     _error(field), spacing="1", width="100%")


_SELECT = {"width": "100%", "padding": "0.5em", "border_radius": "6px", "border": "1px solid var(--gray-7)",
           "min_height": "40px", "background": "var(--color-panel-solid)"}


def _form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Join the waitlist", size="3", as_="h3"),
        _labelled("With", rx.el.select(
            rx.el.option("Any practitioner", value="any"),
            rx.foreach(W.practitioner_options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id="wish-practitioner", value=W.w_practitioner, on_change=lambda v: W.set_field("w_practitioner", v),
            style=_SELECT), "practitioner"),
        _labelled("How", rx.el.select(*[rx.el.option(label, value=key) for key, label in MODES.items()],
                                      id="wish-mode", value=W.w_mode, on_change=lambda v: W.set_field("w_mode", v),
                                      style=_SELECT), "mode"),
        rx.el.fieldset(
            rx.el.legend("Days", style={"font_weight": "500"}),
            rx.hstack(*[rx.checkbox(name, checked=W.w_days.contains(value),
                                    on_change=lambda _c, v=value: W.toggle_day(v), min_height="44px")
                        for value, name in DAY_OPTIONS], spacing="3", wrap="wrap"),
            _error("weekdays"), style={"border": "none", "padding": "0", "margin": "0"}),
        rx.hstack(
            _labelled("From", rx.input(type="time", id="wish-times", value=W.w_from,
                                       on_change=lambda v: W.set_field("w_from", v)), "times"),
            rx.vstack(rx.el.label("To", html_for="wish-to", style={"font_weight": "500"}),
                      rx.input(type="time", id="wish-to", value=W.w_to, on_change=lambda v: W.set_field("w_to", v)),
                      spacing="1", width="100%"),
            spacing="3", width="100%"),
        rx.hstack(
            _labelled("First day", rx.input(type="date", id="wish-dates", value=W.w_first,
                                            on_change=lambda v: W.set_field("w_first", v)), "dates"),
            rx.vstack(rx.el.label("Last day", html_for="wish-last", style={"font_weight": "500"}),
                      rx.input(type="date", id="wish-last", value=W.w_last,
                               on_change=lambda v: W.set_field("w_last", v)),
                      spacing="1", width="100%"),
            spacing="3", width="100%"),
        rx.text("Times are in your own timezone. Empty days mean from today for the next 60 days.", size="1",
                color_scheme="gray"),
        rx.hstack(rx.button("Cancel", variant="soft", color_scheme="gray", on_click=W.close_form),
                  rx.button("Join the waitlist", on_click=W.add, id="wish-save"),
                  spacing="2", justify="end", width="100%", wrap="wrap"),
        spacing="3", width="100%"), width="100%", id="wish-form")


def _wish(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.card(rx.vstack(
        rx.cond(W.staff, rx.link(row["client"], href="/clients/" + row["client_id"], weight="bold")),
        rx.text(row["practitioner"], " · ", row["mode"]),
        rx.text(row["days"], " · ", row["dates"], size="2"),
        rx.text("Waiting since ", row["added"], size="1", color_scheme="gray"),
        rx.cond(row["offer"] != "", rx.badge("Offered: ", row["offer"], color_scheme="green", class_name="wish-offer")),
        rx.hstack(
            rx.cond(W.staff, rx.button("Offer a time now", size="1", variant="soft", on_click=W.offer(row["id"]))),
            rx.button("Remove", size="1", variant="soft", color_scheme="red", on_click=W.remove(row["id"])),
            spacing="2", wrap="wrap"),
        spacing="1", align="start", width="100%"), width="100%", class_name="waitlist-wish")


def waitlist_section(heading: str, empty: str, *, can_add: bool | rx.Var[bool] = True) -> rx.Component:
    """The wishes under `heading`, and (when `can_add`) the button and form that add one."""
    return rx.vstack(
        rx.hstack(rx.heading(heading, size="4", as_="h2"), rx.spacer(),
                  rx.cond(can_add & ~W.form_open, rx.button("Join the waitlist", rx.icon("list-plus", size=14),
                                                            variant="soft", on_click=W.open_form,
                                                            id="wish-open")),
                  width="100%", align="center", wrap="wrap"),
        rx.cond(W.form_open, _form()),
        rx.cond(W.rows.length() > 0, rx.vstack(rx.foreach(W.rows, _wish), spacing="2", width="100%"),
                rx.text(empty, color_scheme="gray")),
        spacing="2", width="100%", id="waitlist")
