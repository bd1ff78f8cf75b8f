"""The SMS credits section of the practice settings page."""

from __future__ import annotations

import reflex as rx

from rxapp.state.sms_credits import SmsCreditsState as C


def _error(name: str) -> rx.Component:
    return rx.cond(C.errors.contains(name), rx.text(C.errors[name], color_scheme="red", size="2", role="alert",
                                                    id=f"sms-{name}-error"))


def _field(label: str, name: str, value: rx.Var[str], width: str, **props) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=f"sms-{name}", style={"font_weight": "500"}),
                     rx.input(id=f"sms-{name}", value=value, on_change=lambda v: C.set_field(name, v), width=width,
                              **props),
                     _error(name), spacing="1", align="start")


def _line(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(rx.table.cell(row["when"]), rx.table.cell(row["kind"]),
                        rx.table.cell(row["amount"], text_align="right"), rx.table.cell(row["note"]))


def sms_credits_section() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("SMS credits", size="4", as_="h2"),
        rx.text("Balance: ", rx.text.strong(C.balance, id="sms-balance"), " credits. A text message costs 1 credit "
                "per segment (160 plain characters, 70 with emoji or other special characters), 2 for telehealth "
                "reminders. Without enough credits the SMS is not sent; the email still is."),
        rx.cond(C.low, rx.callout("The balance is below your warning threshold: add credits so SMS reminders "
                                  "keep going out.", icon="triangle_alert", color_scheme="amber", id="sms-low")),
        rx.cond(C.can_manage, rx.vstack(
            rx.hstack(_field("Credits to add", "amount", C.amount, "8em", input_mode="numeric"),
                      _field("Note (e.g. invoice number)", "note", C.note, "20em", max_length=200),
                      rx.button("Add credits", on_click=C.add_credits, id="sms-add"),
                      align="end", spacing="3", wrap="wrap"),
            rx.hstack(_field("Warn me (email and Needs attention) below", "threshold", C.threshold, "8em",
                             input_mode="numeric"),
                      rx.button("Save threshold", variant="soft", on_click=C.save_threshold, id="sms-threshold-save"),
                      align="end", spacing="3"),
            spacing="3", align="start"),
            rx.text("Warning threshold: ", C.threshold, " credits. Only the practice owner adds credits.",
                    color_scheme="gray", size="2")),
        rx.heading("Recent history", size="3", as_="h3"),
        rx.cond(C.history.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("When", "What", "Credits", "Note")])),
                    rx.table.body(rx.foreach(C.history, _line)), width="100%", id="sms-history"),
                rx.text("No credits added or used yet.", color_scheme="gray")),
        spacing="3", align="start", width="100%"), width="100%")
