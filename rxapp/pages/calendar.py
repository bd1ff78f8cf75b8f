"""Calendar: a day or week time grid of one or several practitioners (an agenda on phones), and the
New appointment / edit dialog."""

from __future__ import annotations

import reflex as rx

from rxapp.components.appointment_dialog import appointment_dialog
from rxapp.components.shell import app_shell
from rxapp.state.appointment_dialog import AppointmentDialogState
from rxapp.state.auth import AuthState
from rxapp.state.calendar import POLL_MS, SLOT_MINUTES, SLOT_TIMES, WORK_END, WORK_START, CalendarState

C, D = CalendarState, AppointmentDialogState


def _toolbar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button("Today", variant="soft", on_click=C.today),
            rx.button(rx.icon("chevron-left", size=16, aria_hidden="true"), variant="soft", on_click=C.step(-1),
                      aria_label=rx.cond(C.view == "week", "Previous week", "Previous day")),
            rx.button(rx.icon("chevron-right", size=16, aria_hidden="true"), variant="soft", on_click=C.step(1),
                      aria_label=rx.cond(C.view == "week", "Next week", "Next day")),
            rx.el.label("Date", html_for="calendar-date", class_name="visually-hidden"),
            rx.input(id="calendar-date", type="date", value=C.day, on_change=C.set_day.debounce(400),
                     width="11em"),
            rx.heading(C.title, size="4", as_="h2", id="calendar-title"),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("Day", value="day"), rx.segmented_control.item("Week", value="week"),
                value=C.view, on_change=C.set_view, aria_label="View"),
            rx.el.label(rx.hstack(rx.switch(checked=C.show_cancelled, on_change=C.set_show_cancelled,
                                            id="show-cancelled"), rx.text("Show cancelled"), spacing="2",
                                  align="center")),
            rx.button(rx.icon("plus", size=14, aria_hidden="true"), "New appointment",
                      on_click=D.open_new(rx.cond(C.chosen.length() > 0, C.chosen[0], ""), C.day, "")),
            spacing="3", align="center", wrap="wrap", width="100%"),
        rx.text("Times are shown in ", rx.el.strong(C.timezone, id="calendar-timezone"), " (your timezone).",
                size="2", color_scheme="gray"),
        _practitioner_chooser(),
        spacing="2", width="100%")


def _practitioner_chip(option: rx.Var[dict[str, str]]) -> rx.Component:
    chosen = option["chosen"] == "1"
    return rx.button(rx.cond(chosen, rx.icon("check", size=12, aria_hidden="true")), option["name"],
                     size="1", variant=rx.cond(chosen, "solid", "outline"),
                     aria_pressed=rx.cond(chosen, "true", "false"),
                     title=option["zoom"], on_click=C.toggle_practitioner(option["id"]),
                     class_name="calendar-practitioner")


def _practitioner_chooser() -> rx.Component:
    return rx.hstack(rx.text("Practitioners:", size="2", weight="medium"),
                     rx.foreach(C.practitioner_options, _practitioner_chip),
                     spacing="2", align="center", wrap="wrap", role="group", aria_label="Practitioners shown")


def _zoom_badge(zoom: rx.Var[str], short: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """A short label that fits the column; the whole one is its tooltip and accessible name."""
    return rx.badge(short, size="1", variant="soft", high_contrast=True,  # 12 px text: AA needs the dark shade
                    color_scheme=rx.match(zoom, ("connected", "green"), ("needs_reconnect", "red"), "gray"),
                    title=label, aria_label=label, role="img", class_name="calendar-zoom-badge")


def _column_header(column: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.text(column["short"], weight="bold", size="2",
                color_scheme=rx.cond(column["today"] == "1", "indigo", "gray")),
        rx.text(column["practitioner"], size="1", class_name="calendar-col-name", title=column["practitioner"]),
        _zoom_badge(column["zoom"], column["zoom_short"], column["zoom_label"]),
        class_name="calendar-col-head")


def _slot(column: rx.Var[dict[str, str]], index: int, clock: str) -> rx.Component:
    busy = column["busy"].contains(f"|{index}|")
    minute = index * SLOT_MINUTES
    return rx.el.button(
        aria_label=column["day_label"] + f" {clock}, " + column["practitioner"] + rx.cond(busy, ", booked", ", free"),
        on_click=D.open_new(column["practitioner_id"], column["day"], clock),
        class_name="calendar-slot" + ("" if WORK_START <= minute < WORK_END else " calendar-off-hours")
        + (" calendar-hour" if minute % 60 == 0 else ""),
        type="button")


def _column(column: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(*[_slot(column, i, t) for i, t in enumerate(SLOT_TIMES)], class_name="calendar-col",
                  role="group", aria_label=column["day_label"] + ", " + column["practitioner"])


def _block(block: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.button(
        rx.text(block["client"], weight="bold", size="1", class_name="calendar-appt-client"),
        rx.text(block["time"], size="1"),
        rx.hstack(rx.cond(block["telehealth"] == "1", rx.icon("video", size=12, aria_hidden="true"),
                          rx.icon("map-pin", size=12, aria_hidden="true")),
                  rx.text(block["mode"], size="1"), spacing="1", align="center"),
        rx.cond(block["zoom"] != "", rx.text(block["zoom"], size="1", class_name="calendar-appt-zoom")),
        rx.cond(block["status"] != "", rx.text(block["status"], size="1")),
        # Its bottom edge changes the length when dragged (assets/calendar_drag.js; desktop, by mouse).
        rx.cond(block["movable"] == "1", rx.el.span(class_name="calendar-resize", aria_hidden="true")),
        type="button", aria_label=block["aria"], on_click=D.open_edit(block["id"]),
        class_name=rx.cond(block["telehealth"] == "1", "calendar-appt calendar-telehealth",
                           "calendar-appt calendar-in-person") + rx.cond(block["cancelled"] == "1",
                                                                          " calendar-cancelled", ""),
        style={"top": block["top"], "height": block["height"], "left": block["left"], "width": block["width"]},
        data_appointment_id=block["id"], data_movable=block["movable"], data_minutes=block["minutes"])


def _band(band: rx.Var[dict[str, str]]) -> rx.Component:
    """A practitioner's published hours behind the slots (faint, tinted by mode, clicks pass through)."""
    return rx.box(
        rx.text(band["short"], size="1", class_name="calendar-band-label"),
        class_name="calendar-band calendar-band-" + band["mode"], title=band["label"], role="note",
        aria_label=band["label"],
        style={"top": band["top"], "height": band["height"], "left": band["left"], "width": band["width"]})


def _grid() -> rx.Component:
    hours = [rx.box(rx.text(f"{h:02d}:00", size="1", color_scheme="gray"), class_name="calendar-hour-label")
             for h in range(24)]
    return rx.box(
        rx.box(
            rx.box(class_name="calendar-gutter"),
            rx.box(rx.foreach(C.columns, _column_header), class_name="calendar-cols",
                   style={"grid_template_columns": "repeat(" + C.column_count.to_string() + ", minmax(7em, 1fr))"}),
            class_name="calendar-head", style={"min_width": C.grid_min_width}),
        rx.box(
            rx.box(*hours, class_name="calendar-gutter"),
            rx.box(
                rx.box(rx.foreach(C.columns, _column), class_name="calendar-cols",
                       style={"grid_template_columns": "repeat(" + C.column_count.to_string() + ", minmax(7em, 1fr))"}),
                rx.foreach(C.bands, _band),
                rx.foreach(C.blocks, _block),
                class_name="calendar-body"),
            class_name="calendar-rows", style={"min_width": C.grid_min_width}),
        id="calendar-scroll", class_name="calendar-grid", aria_label="Appointment grid", role="region")


def _agenda_item(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.match(
        item["kind"],
        ("day", rx.heading(item["label"], size="3", as_="h3", class_name="calendar-agenda-day")),
        ("empty", rx.text(item["label"], size="2", color_scheme="gray")),
        rx.el.button(
            rx.hstack(rx.text(item["label"], weight="bold", size="2"), rx.text(item["client"], size="2"),
                      spacing="2", wrap="wrap"),
            rx.hstack(rx.cond(item["telehealth"] == "1", rx.icon("video", size=12, aria_hidden="true"),
                              rx.icon("map-pin", size=12, aria_hidden="true")),
                      rx.text(item["mode"], size="1"), rx.text("· ", item["practitioner"], size="1"),
                      spacing="1", align="center", wrap="wrap"),
            rx.cond(item["zoom"] != "", rx.text(item["zoom"], size="1", class_name="calendar-appt-zoom")),
            rx.cond(item["confirmed"] == "1", rx.text("Confirmed", size="1")),
            type="button", on_click=D.open_edit(item["id"]),
            class_name=rx.cond(item["telehealth"] == "1", "calendar-agenda-item calendar-telehealth",
                               "calendar-agenda-item calendar-in-person") + rx.cond(item["cancelled"] == "1",
                                                                                    " calendar-cancelled", "")),
    )


def _agenda() -> rx.Component:
    return rx.box(rx.foreach(C.agenda, _agenda_item), class_name="calendar-agenda", id="calendar-agenda",
                  role="region", aria_label="Appointments, day by day")


@rx.page(route="/calendar", title="Calendar · Telehealth", on_load=[AuthState.guard, C.load, D.open_from_url])
def calendar_page() -> rx.Component:
    return app_shell(
        "/calendar", "Calendar",
        _toolbar(),
        rx.cond(C.error != "", rx.callout(C.error, icon="triangle-alert", color_scheme="red", role="alert")),
        _grid(),
        # Where assets/calendar_drag.js hands a drop to the server (never shown; the dialog is the
        # keyboard and phone way to move an appointment).
        rx.el.input(id="calendar-drop", on_change=D.drop, style={"display": "none"}),
        _agenda(),
        appointment_dialog(),
        rx.moment(interval=POLL_MS, on_change=C.refresh, display="none"),
    )
