"""The Meetings page's New meeting dialog: topic, time, length, timezone and a patient who trusts the
practitioner; overlaps are warned about before a second Save."""

from __future__ import annotations

import reflex as rx

from rxapp.state.new_meeting import NewMeetingState

N = NewMeetingState
_SELECT = {"padding": "0.4em", "border_radius": "6px", "min_width": "12em"}


def _error(field: str) -> rx.Component:
    return rx.cond(N.errors.contains(field), rx.text(N.errors[field], color_scheme="red", size="2", role="alert",
                                                     id=f"error-{field}"))


def _field(label: str, field: str, control: rx.Component, counter: rx.Var[str] | None = None) -> rx.Component:
    """A labelled control; `counter` states the field's limit (the one the server enforces)."""
    return rx.vstack(rx.el.label(label, html_for=f"new-{field}", style={"font_weight": "500"}), control,
                     *([rx.text(counter, size="1", color_scheme="gray", id=f"count-{field}")] if counter is not None
                       else []),
                     _error(field), spacing="1", align="start", width="100%")


def new_meeting_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New meeting"),
            rx.dialog.description("A Zoom meeting with a passcode and waiting room is created for it."),
            rx.vstack(
                rx.cond(N.errors.contains("zoom"), rx.callout(N.errors["zoom"], icon="triangle-alert",
                                                               color_scheme="red", role="alert", id="error-zoom")),
                _field("Topic", "topic", rx.input(id="new-topic", value=N.topic, required=True,
                                                  on_change=lambda v: N.edit("topic", v), width="100%",
                                                  aria_describedby="count-topic"), N.topic_count),
                _field("Description (optional)", "description", rx.text_area(
                    id="new-description", value=N.description, on_change=lambda v: N.edit("description", v),
                    width="100%", rows="3", aria_describedby="count-description"), N.description_count),
                rx.hstack(
                    _field("Date", "date", rx.input(id="new-date", type="date", value=N.date, required=True,
                                                    on_change=lambda v: N.edit("date", v))),
                    _field("Hour", "hour", rx.input(id="new-hour", type="time", value=N.hour, required=True,
                                                    on_change=lambda v: N.edit("hour", v))),
                    _field("Length", "duration", rx.el.select(
                        rx.foreach(N.durations, lambda d: rx.el.option(d + " minutes", value=d)), id="new-duration",
                        value=N.duration, on_change=lambda v: N.edit("duration", v), style=_SELECT)),
                    width="100%", spacing="3"),
                _field("Timezone", "timezone", rx.fragment(
                    rx.el.input(id="new-timezone", list="timezone-options", value=N.timezone, required=True,
                                on_change=lambda v: N.edit("timezone", v), auto_complete="off",
                                style={**_SELECT, "width": "100%", "border": "1px solid var(--gray-a7)"}),
                    rx.el.datalist(rx.foreach(N.timezone_options, lambda z: rx.el.option(value=z)),
                                   id="timezone-options"))),
                _field("Patient", "patient", rx.el.select(
                    rx.el.option("Choose a patient", value=""),
                    rx.foreach(N.patients, lambda o: rx.el.option(o["label"], value=o["value"])),
                    id="new-patient", value=N.patient, on_change=lambda v: N.edit("patient", v), style=_SELECT)),
                rx.cond(N.patients.length() == 0, rx.text(
                    "None of your clients has chosen you as a trusted professional yet; they do so in their "
                    "portal.", size="2", color_scheme="gray")),
                _error("form"),
                rx.cond(N.overlaps.length() > 0, rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert")),
                    rx.vstack(rx.text("This overlaps other meetings of yours; one Zoom licence runs one meeting at "
                                      "a time:"),
                              rx.el.ul(rx.foreach(N.overlaps, lambda o: rx.el.li(o))), align="start"),
                    color_scheme="amber", role="alert", id="overlap-warning", width="100%")),
                rx.flex(
                    rx.button("Close", variant="soft", color_scheme="gray", on_click=N.close),
                    rx.button(rx.cond(N.overlaps.length() > 0, "Save anyway", "Save meeting"), on_click=N.save,
                              loading=N.saving),
                    spacing="3", justify="end", width="100%"),
                spacing="3", width="100%"),
            max_width="36em",
        ),
        open=N.open, on_open_change=N.set_open,
    )
