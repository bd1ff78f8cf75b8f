"""The New appointment / edit dialog (state: state/appointment_dialog.py). Every field shows its own
error next to it; nothing typed is lost when the server refuses."""

from __future__ import annotations

import reflex as rx

from rxapp.state.appointment_dialog import PAST_MESSAGE, AppointmentDialogState

D = AppointmentDialogState
_SELECT = {"padding": "0.4em", "border_radius": "6px", "min_width": "10em"}


def _error(field: str) -> rx.Component:
    return rx.cond(D.errors.contains(field), rx.text(D.errors[field], color_scheme="red", size="2", role="alert",
                                                     id=f"appt-error-{field}"))


def _field(label: str, field: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=f"appt-{field}", style={"font_weight": "500"}), control,
                     _error(field), spacing="1", align="start", width="100%")


def _client_result(option: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(rx.button(option["label"], rx.text(option["detail"], size="1", color_scheme="gray"),
                              variant="ghost", size="2", type="button",
                              on_click=D.choose_client(option["value"], option["label"]),
                              class_name="appt-client-option"), list_style="none")


def _client_picker() -> rx.Component:
    return rx.vstack(
        rx.el.label("Client", html_for="appt-client", style={"font_weight": "500"}),
        rx.cond(D.client != "",
                rx.hstack(rx.badge(D.client_name, size="2", id="appt-client-chosen"),
                          rx.cond(~D.editing, rx.button("Change", size="1", variant="soft", type="button",
                                                         on_click=D.clear_client)),
                          align="center", spacing="2"),
                rx.vstack(
                    rx.input(id="appt-client", placeholder="Type a client's name", value=D.client_query,
                             on_change=D.search_clients.debounce(250), width="100%", auto_complete="off",
                             aria_describedby="appt-client-help"),
                    rx.text("Type part of the name, then pick the client.", size="1", color_scheme="gray",
                            id="appt-client-help"),
                    rx.cond(D.client_results.length() > 0,
                            rx.el.ul(rx.foreach(D.client_results, _client_result), aria_label="Matching clients",
                                     style={"padding": 0, "margin": 0})),
                    rx.cond((D.client_query != "") & (D.client_results.length() == 0),
                            rx.text("No client matches.", size="1", color_scheme="gray")),
                    spacing="1", width="100%")),
        _error("client"), spacing="1", align="start", width="100%")


def _practitioner() -> rx.Component:
    select = rx.el.select(rx.foreach(D.practitioner_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                          id="appt-practitioner", value=D.practitioner, on_change=lambda v: D.edit("practitioner", v),
                          disabled=D.practitioner_fixed | (D.editing & ~D.reassigning), style=_SELECT)
    return rx.hstack(
        _field("Practitioner", "practitioner", select),
        rx.cond(D.editing & ~D.practitioner_fixed & ~D.reassigning,
                rx.button("Re-assign", size="1", variant="soft", type="button", on_click=D.start_reassign)),
        align="end", spacing="2", width="100%")


def _when() -> rx.Component:
    return rx.hstack(
        _field("Date", "date", rx.input(id="appt-date", type="date", value=D.date,
                                        on_change=lambda v: D.edit("date", v))),
        _field("Start", "start", rx.input(id="appt-start", type="time", value=D.start, step="300",
                                          on_change=lambda v: D.edit("start", v))),
        _field("Length", "length", rx.el.select(
            rx.foreach(D.lengths, lambda m: rx.el.option(m + " minutes", value=m)), id="appt-length",
            value=D.length, on_change=lambda v: D.edit("length", v), style=_SELECT)),
        spacing="3", width="100%", wrap="wrap")


def _mode() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Mode", style={"font_weight": "500"}),
        rx.radio_group.root(
            rx.hstack(
                rx.el.label(rx.hstack(rx.radio_group.item(value="in_person", id="appt-mode-in-person"),
                                      rx.icon("map-pin", size=14, aria_hidden="true"), rx.text("In person"),
                                      spacing="1", align="center")),
                rx.el.label(rx.hstack(rx.radio_group.item(value="telehealth", id="appt-mode-telehealth"),
                                      rx.icon("video", size=14, aria_hidden="true"), rx.text("Telehealth"),
                                      spacing="1", align="center")),
                spacing="4"),
            value=D.mode, on_change=lambda v: D.edit("mode", v)),
        _error("mode"),
        style={"border": "none", "padding": 0, "margin": 0})


def _repeat() -> rx.Component:
    return rx.vstack(
        _field("Repeat", "repeat", rx.el.select(
            rx.el.option("Does not repeat", value="none"), rx.el.option("Weekly", value="weekly"),
            rx.el.option("Every 2 weeks", value="biweekly"),
            id="appt-repeat", value=D.repeat, on_change=lambda v: D.edit("repeat", v), style=_SELECT)),
        rx.cond(D.repeat != "none", rx.hstack(
            rx.el.select(rx.el.option("for", value="count"), rx.el.option("until", value="until"),
                         id="appt-repeat_end", value=D.repeat_end, on_change=lambda v: D.edit("repeat_end", v),
                         aria_label="Repeat ends", style={**_SELECT, "min_width": "5em"}),
            rx.cond(D.repeat_end == "count",
                    rx.hstack(rx.input(id="appt-occurrences", type="number", min="2", max="52", value=D.occurrences,
                                       on_change=lambda v: D.edit("occurrences", v), width="5em",
                                       aria_label="Number of occurrences"),
                              rx.text("occurrences"), _error("occurrences"), align="center", spacing="2"),
                    rx.hstack(rx.input(id="appt-until", type="date", value=D.until,
                                       on_change=lambda v: D.edit("until", v), aria_label="Last date"),
                              _error("until"), align="center", spacing="2")),
            spacing="2", align="center", wrap="wrap")),
        spacing="2", width="100%")


def _scope(value: rx.Var[str], on_change, name: str) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("This appointment is part of a series. Apply to", style={"font_weight": "500"}),
        rx.radio_group.root(
            rx.hstack(rx.el.label(rx.hstack(rx.radio_group.item(value="this"), rx.text("this one"), spacing="1")),
                      rx.el.label(rx.hstack(rx.radio_group.item(value="following"),
                                            rx.text("this and following"), spacing="1")),
                      spacing="4"),
            value=value, on_change=on_change, name=name),
        style={"border": "none", "padding": 0, "margin": 0})


def _cancel_panel() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Cancel appointment", size="3", as_="h3"),
        rx.el.label("Reason (sent to the client)", html_for="appt-cancel-reason", style={"font_weight": "500"}),
        rx.text_area(id="appt-cancel-reason", value=D.cancel_reason, on_change=D.set_cancel_reason, rows="2",
                     width="100%"),
        rx.cond(D.cancel_error != "", rx.text(D.cancel_error, color_scheme="red", size="2", role="alert",
                                              id="appt-cancel-error")),
        rx.cond(D.in_series, _scope(D.cancel_scope, D.set_cancel_scope, "cancel-scope")),
        rx.hstack(rx.button("Keep appointment", variant="soft", color_scheme="gray", type="button",
                            on_click=D.close_cancel),
                  rx.button("Cancel appointment", color_scheme="red", type="button", on_click=D.confirm_cancel,
                            loading=D.saving, id="appt-cancel-confirm"),
                  spacing="2", justify="end", width="100%", wrap="wrap"),
        spacing="2", width="100%"), width="100%", id="appt-cancel-panel")


def _edit_actions() -> rx.Component:
    # An ended telehealth session offers the outcome its attendance suggests (solid) beside the other.
    completed = rx.button("Mark completed", variant=rx.cond(D.offer == "completed", "solid", "soft"), type="button",
                          on_click=D.set_outcome("completed"), id="appt-mark-completed")
    no_show = rx.button("No-show", variant=rx.cond(D.offer == "no_show", "solid", "soft"), color_scheme="orange",
                        high_contrast=True, type="button", on_click=D.set_outcome("no_show"), id="appt-mark-no-show")
    return rx.cond(D.editing & (D.status != "cancelled"), rx.hstack(
        rx.cond(D.status != "completed", rx.button("Cancel appointment", color_scheme="red", variant="soft",
                                                   type="button", on_click=D.open_cancel)),
        rx.cond(D.can_run_late, rx.hstack(
            rx.text("Running late:", size="2", weight="medium"),
            *[rx.button(f"{m} min", size="1", variant="soft", color_scheme="amber", high_contrast=True, type="button",
                        on_click=D.running_late(m), aria_label=f"Running {m} minutes late") for m in (5, 10, 15)],
            spacing="1", align="center", wrap="wrap", id="appt-running-late")),
        rx.cond((D.is_past & (D.status == "booked")) | (D.offer != ""), rx.fragment(
            rx.cond(D.offer == "no_show", no_show, completed), rx.cond(D.offer == "no_show", completed, no_show))),
        spacing="2", wrap="wrap"))


def appointment_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(D.title),
            rx.dialog.description(rx.text("Times in ", D.timezone, size="2", color_scheme="gray")),
            rx.vstack(
                rx.cond(D.status == "cancelled", rx.callout("This appointment is cancelled.", icon="ban",
                                                            color_scheme="gray")),
                rx.cond(D.meeting_note != "", rx.callout(D.meeting_note, icon="video", size="1",
                                                         id="appt-meeting-note")),
                rx.cond(D.attended != "", rx.callout(D.attended, icon="user-check", size="1", color_scheme="green",
                                                     id="appt-attended")),
                rx.cond((D.offer == "no_show") & (D.attended == ""), rx.callout(
                    "The client never joined the Zoom meeting.", icon="user-x", size="1", color_scheme="orange",
                    id="appt-not-attended")),
                _client_picker(),
                _practitioner(),
                _when(),
                _mode(),
                _field("Notes", "notes", rx.text_area(id="appt-notes", value=D.notes, rows="2", width="100%",
                                                      on_change=lambda v: D.edit("notes", v))),
                rx.cond(~D.editing, _repeat()),
                rx.cond(D.editing & D.in_series, _scope(D.scope, lambda v: D.edit("scope", v), "scope")),
                _error("form"),
                rx.cond(D.overlap != "", rx.callout(D.overlap, icon="triangle-alert", color_scheme="amber",
                                                    role="alert", id="appt-overlap")),
                rx.cond(D.past, rx.callout(PAST_MESSAGE, icon="history", color_scheme="amber", role="alert",
                                           id="appt-past")),
                rx.cond(D.cancel_open, _cancel_panel(), _edit_actions()),
                rx.flex(
                    rx.button("Close", variant="soft", color_scheme="gray", type="button", on_click=D.close),
                    rx.cond(D.status != "cancelled",
                            rx.button(D.save_label, on_click=D.save, loading=D.saving, type="button",
                                      id="appt-save")),
                    spacing="3", justify="end", width="100%"),
                spacing="3", width="100%"),
            max_width="38em",
        ),
        open=D.open, on_open_change=D.set_open,
    )
