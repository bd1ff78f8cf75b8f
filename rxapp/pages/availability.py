"""Availability: when a practitioner sees clients (weekly blocks by mode, date overrides) and their
self-booking rules. A practitioner edits their own; owner, manager and front desk pick anyone's."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell
from rxapp.state.auth import AuthState
from rxapp.state.availability import MODE_OPTIONS, WEEKDAYS, AvailabilityState

S = AvailabilityState
_SELECT = {"padding": "0.35em", "border_radius": "6px"}
_MODE_COLORS = {"telehealth": "var(--blue-9)", "in_person": "var(--orange-9)", "both": "var(--violet-9)"}


def _error(key: rx.Var[str] | str) -> rx.Component:
    return rx.cond(S.errors.contains(key), rx.text(S.errors[key], color_scheme="red", size="2", role="alert",
                                                   high_contrast=True, class_name="field-error"))


def _label(text: str | rx.Var[str], html_for: rx.Var[str] | str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, style={"font_weight": "500", "font_size": "0.9em"})


def _time(id_: rx.Var[str], label: str | rx.Var[str], value: rx.Var[str], on_change) -> rx.Component:
    return rx.vstack(_label(label, id_), rx.input(id=id_, type="time", value=value, on_change=on_change,
                                                  width="7.5em"), spacing="1")


def _mode(id_: rx.Var[str], value: rx.Var[str], on_change) -> rx.Component:
    return rx.vstack(_label("Mode", id_),
                     rx.el.select(*[rx.el.option(text, value=v) for v, text in MODE_OPTIONS], id=id_, value=value,
                                  on_change=on_change, style=_SELECT), spacing="1")


def _block(block: rx.Var[dict[str, str]]) -> rx.Component:
    key = block["key"]
    stripe = rx.match(block["mode"], *[(m, c) for m, c in _MODE_COLORS.items()], "var(--gray-8)")
    return rx.box(
        rx.hstack(
            _time("block-" + key + "-start", "From", block["start"], lambda v: S.set_block(key, "start", v)),
            _time("block-" + key + "-end", "To", block["end"], lambda v: S.set_block(key, "end", v)),
            _mode("block-" + key + "-mode", block["mode"], lambda v: S.set_block(key, "mode", v)),
            rx.button(rx.icon("trash-2", size=14, aria_hidden="true"), "Remove", size="1", variant="soft",
                      color_scheme="red", on_click=S.remove_block(key), aria_label="Remove this block"),
            spacing="3", align="end", wrap="wrap"),
        _error(key + ".start"), _error(key + ".end"), _error(key + ".mode"),
        class_name="availability-block", padding_left="0.6em", style={"border_left": "4px solid", "border_color":
                                                                      stripe},
        key=key,  # React keeps each row's inputs with their row, not with a position in the list
    )


def _weekday(index: int) -> rx.Component:
    name = WEEKDAYS[index]
    return rx.box(
        rx.hstack(rx.heading(name, size="3", as_="h3", min_width="7em"),
                  rx.button(rx.icon("plus", size=14, aria_hidden="true"), "Add block", size="1", variant="soft",
                            on_click=S.add_block(index), aria_label=f"Add block on {name}"),
                  align="center", spacing="3"),
        rx.cond(S.blocks_by_day[index].length() > 0,
                rx.vstack(rx.foreach(S.blocks_by_day[index], _block), spacing="3", padding_top="0.5em"),
                rx.text("Not available", color_scheme="gray", size="2")),
        id=f"weekday-{index}", padding_y="0.5em", border_bottom="1px solid var(--gray-a4)", width="100%",
    )


def _override(row: rx.Var[dict[str, str]]) -> rx.Component:
    key = row["key"]
    return rx.box(
        rx.hstack(
            rx.vstack(_label("Date", "override-" + key + "-date"),
                      rx.input(id="override-" + key + "-date", type="date", value=row["date"],
                               on_change=lambda v: S.set_override(key, "date", v), width="10em"), spacing="1"),
            rx.checkbox("Day off", checked=row["day_off"] == "1",
                        on_change=lambda v: S.set_override(key, "day_off", v)),
            rx.cond(row["day_off"] != "1", rx.hstack(
                _time("override-" + key + "-start", "From", row["start"], lambda v: S.set_override(key, "start", v)),
                _time("override-" + key + "-end", "To", row["end"], lambda v: S.set_override(key, "end", v)),
                _mode("override-" + key + "-mode", row["mode"], lambda v: S.set_override(key, "mode", v)),
                spacing="3", align="end", wrap="wrap")),
            rx.button(rx.icon("trash-2", size=14, aria_hidden="true"), "Remove", size="1", variant="soft",
                      color_scheme="red", on_click=S.remove_override(key), aria_label="Remove this date override"),
            spacing="3", align="end", wrap="wrap"),
        _error(key + ".date"), _error(key + ".start"), _error(key + ".end"), _error(key + ".mode"),
        class_name="availability-override", padding_y="0.5em", border_bottom="1px solid var(--gray-a4)",
        width="100%", key=key,
    )


def _number(label: str, name: str, value: rx.Var[str], hint: str = "", width: str = "6em") -> rx.Component:
    return rx.vstack(
        _label(label, f"rule-{name}"),
        rx.input(id=f"rule-{name}", value=value, on_change=lambda v: S.set_rule(name, v), width=width,
                 input_mode="numeric"),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        _error(name), spacing="1", align="start", max_width="100%")


def _rules() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Booking rules", size="4", as_="h2"),
        rx.flex(
            _number("Lengths offered (minutes)", "lengths", S.lengths, "e.g. 50, or 30, 50", width="9em"),
            _number("Slot interval (minutes)", "interval_minutes", S.interval_minutes, "5 to 240"),
            _number("Buffer before (minutes)", "buffer_before_minutes", S.buffer_before_minutes),
            _number("Buffer after (minutes)", "buffer_after_minutes", S.buffer_after_minutes),
            _number("Minimum notice (hours)", "min_notice_hours", S.min_notice_hours, "e.g. 24"),
            _number("Book up to (days ahead)", "horizon_days", S.horizon_days, "e.g. 60"),
            _number("Maximum bookings per day", "max_per_day", S.max_per_day, "blank: no limit"),
            spacing="4", wrap="wrap", width="100%"),
        rx.checkbox("New clients (not seen yet) may book themselves", checked=S.new_clients_may_self_book,
                    on_change=lambda v: S.set_rule("new_clients_may_self_book", v)),
        spacing="3", align="start", width="100%"), width="100%")


def _legend() -> rx.Component:
    def item(mode: str, text: str) -> rx.Component:
        return rx.hstack(rx.box(width="0.9em", height="0.9em", border_radius="2px", background=_MODE_COLORS[mode],
                                aria_hidden="true"), rx.text(text, size="2"), align="center", spacing="1")
    return rx.hstack(item("in_person", "In person"), item("telehealth", "Telehealth"), item("both", "Both"),
                     spacing="4", wrap="wrap")


def _picker() -> rx.Component:
    return rx.cond(S.practitioner_options.length() > 1, rx.vstack(
        _label("Practitioner", "availability-practitioner"),
        rx.el.select(rx.foreach(S.practitioner_options, lambda p: rx.el.option(p["name"], value=p["id"])),
                     id="availability-practitioner", value=S.practitioner_id.to_string(),
                     on_change=S.choose_practitioner, style=_SELECT),
        spacing="1"))


def _editor() -> rx.Component:
    return rx.vstack(
        rx.text("Hours are in ", rx.text.strong(S.practitioner_name), "'s timezone, ", rx.text.strong(S.timezone),
                ". Clients see open slots in these hours, in their own timezone.", color_scheme="gray"),
        rx.cond(S.telehealth_note != "", rx.callout(
            rx.text("Telehealth slots are not offered now: ", S.telehealth_note,
                    ". Both blocks are offered in person until then."),
            icon="info", color_scheme="amber", high_contrast=True, role="status", id="telehealth-note",
            width="100%")),
        rx.card(rx.vstack(
            rx.heading("Weekly hours", size="4", as_="h2"),
            _legend(),
            *[_weekday(i) for i in range(7)],
            spacing="2", align="start", width="100%"), width="100%"),
        rx.card(rx.vstack(
            rx.heading("Date overrides", size="4", as_="h2"),
            rx.text("A day off, or different hours on one date (these replace that day's weekly hours).",
                    color_scheme="gray", size="2"),
            rx.foreach(S.overrides, _override),
            rx.button(rx.icon("plus", size=14, aria_hidden="true"), "Add date override", size="2", variant="soft",
                      on_click=S.add_override),
            spacing="2", align="start", width="100%"), width="100%"),
        _rules(),
        _error("form"),
        rx.hstack(rx.button("Save availability", on_click=S.save, id="save-availability"),
                  rx.cond(S.saved_message != "", rx.text(S.saved_message, color_scheme="green", high_contrast=True,
                                                          role="status", id="availability-saved")),
                  rx.cond(S.errors.length() > 0, rx.text("Not saved: check the highlighted fields.",
                                                         color_scheme="red", high_contrast=True, role="alert",
                                                         id="availability-not-saved")),
                  align="center", spacing="3", wrap="wrap"),
        spacing="4", align="start", width="100%", max_width="52em",
    )


@rx.page(route="/availability", title="Availability · Telehealth", on_load=[AuthState.guard, S.load])
def availability_page() -> rx.Component:
    return app_shell(
        "/availability", "Availability",
        _picker(),
        rx.cond(S.practitioner_id > 0, _editor(),
                rx.cond(S.load_error != "",
                        rx.callout(S.load_error, icon="shield-alert", color_scheme="red", role="alert",
                                   id="availability-refused"),
                        rx.text("There is no practitioner whose availability you can edit.", color_scheme="gray"))),
    )
