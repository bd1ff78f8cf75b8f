"""Practice settings (owner/manager)."""

from __future__ import annotations

import reflex as rx

from rxapp.components.card_table import card_table, cell
from rxapp.components.dialogs import confirm_button
from rxapp.components.shell import app_shell
from rxapp.components.sms_credits import sms_credits_section
from rxapp.state.auth import AuthState
from rxapp.state.practice_settings import POS_CODES, PracticeSettingsState, SelfBookingSettingsState
from rxapp.state.sms_credits import SmsCreditsState

S = PracticeSettingsState


def _error(name: str) -> rx.Component:
    return rx.cond(S.errors.contains(name), rx.text(S.errors[name], color_scheme="red", size="2", role="alert"))


def _select(label: str, name: str, options: list[tuple[str, str]], value: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": "500"}),
        rx.el.select(*[rx.el.option(text, value=v) for v, text in options], id=name, value=value,
                     on_change=lambda v: S.set_field(name, v),
                     style={"padding": "0.4em", "border_radius": "6px"}),
        _error(name), spacing="1", align="start")


def _text(label: str, name: str, value: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": "500"}),
        rx.input(id=name, value=value, on_change=lambda v: S.set_field(name, v), width="100%", max_width="28em"),
        _error(name), spacing="1", align="start")


def _settings_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.el.fieldset(
            rx.el.legend("Allow Zoom Integration?", style={"font_weight": "600", "margin_bottom": "0.4em"}),
            rx.radio_group.root(
                rx.hstack(rx.el.label(rx.radio_group.item(value="yes"), " Yes", style={"display": "flex",
                                                                                       "gap": "0.4em"}),
                          rx.el.label(rx.radio_group.item(value="no"), " No", style={"display": "flex",
                                                                                     "gap": "0.4em"}),
                          spacing="4"),
                value=S.allow_zoom, on_change=S.set_allow_zoom, name="allow_zoom"),
            rx.text("While it is No, practitioners cannot connect Zoom and no Zoom meeting is created; nothing "
                    "already stored is deleted.", color_scheme="gray", size="2"),
            style={"border": "none", "padding": "0"},
        ),
        rx.divider(),
        _select("Standard reminder (days before)", "standard_reminder_days",
                [(str(d), f"{d} day{'s' if d > 1 else ''}") for d in range(1, 6)], S.standard_reminder_days),
        _select("Telehealth reminder (minutes before)", "telehealth_reminder_minutes",
                [(str(m), f"{m} minutes") for m in (15, 20, 25, 30)], S.telehealth_reminder_minutes),
        rx.checkbox("Telehealth reminders carry the Zoom link, meeting ID and passcode (otherwise they say "
                    "“sign in to your portal”)", checked=S.reminder_includes_link,
                    on_change=lambda v: S.set_field("reminder_includes_link", v)),
        rx.checkbox("Email the client when their provider starts the session", checked=S.notify_client_when_started,
                    on_change=lambda v: S.set_field("notify_client_when_started", v)),
        _text("Practice address (where in-person visits take place)", "address", S.address),
        _text("Practice phone (a client who texts HELP is given it)", "phone", S.phone),
        _text("Telehealth location name", "location_name", S.location_name),
        _text("Telehealth location address", "location_address", S.location_address),
        _select("Default place of service for telehealth", "pos_code", list(POS_CODES.items()), S.pos_code),
        _error("form"),
        rx.hstack(rx.button("Save", on_click=S.save),
                  rx.cond(S.saved_message != "", rx.text(S.saved_message, color_scheme="green", role="status",
                                                          id="settings-saved")),
                  align="center", spacing="3"),
        spacing="4", align="start"), width="100%")


def _practitioner(row: rx.Var[dict[str, str]]) -> rx.Component:
    practitioner_id = row["id"].to(int)
    zoom_actions = rx.cond(
        row["zoom_status"] == "not_connected",
        confirm_button("Connect Zoom", "Connect Zoom for this practitioner?",
                       "You will sign in to Zoom with the practitioner's Zoom account and allow access. "
                       "Each practitioner must use their own Zoom account.", "Continue to Zoom",
                       S.connect_for(practitioner_id), size="1", variant="soft"),
        confirm_button("Disconnect Zoom", "Disconnect this practitioner's Zoom?",
                       "The app's access is revoked at Zoom and the stored tokens are deleted.", "Disconnect",
                       S.disconnect_for(practitioner_id), color="red", size="1", variant="soft"),
    )
    return rx.table.row(
        cell("Name", row["name"], row_header=True),
        cell("Email", row["email"]),
        cell("Telehealth", rx.switch(checked=row["telehealth"] == "1",
                                     on_change=lambda v: S.set_telehealth(practitioner_id, v),
                                     aria_label=f"Telehealth for {row['name']}")),
        cell("Zoom", row["zoom"]),
        cell("Zoom actions", rx.cond(S.allow_zoom == "yes", zoom_actions,
                                     rx.cond(row["zoom_status"] != "not_connected", zoom_actions,
                                             rx.text("Allow Zoom first", color_scheme="gray", size="2")))),
    )


def _self_booking_form() -> rx.Component:
    """Client self-booking: its own section and Save (services.practice.settings.save_self_booking)."""
    B = SelfBookingSettingsState

    def error(name: str) -> rx.Component:
        return rx.cond(B.errors.contains(name), rx.text(B.errors[name], color_scheme="red", size="2", role="alert",
                                                         id=f"{name}-error"))

    return rx.card(rx.vstack(
        rx.heading("Client self-booking", size="4", as_="h2"),
        rx.checkbox("Clients may book, move and cancel their own sessions in the portal", checked=B.enabled,
                    on_change=lambda v: B.set_value("enabled", v), id="self-booking-enabled"),
        rx.el.fieldset(
            rx.el.legend("Clients may book", style={"font_weight": "500", "margin_bottom": "0.4em"}),
            rx.radio_group.root(
                rx.vstack(rx.el.label(rx.radio_group.item(value="trusted"), " Only practitioners they trust",
                                      style={"display": "flex", "gap": "0.4em"}),
                          rx.el.label(rx.radio_group.item(value="any"), " Any active practitioner of the practice",
                                      style={"display": "flex", "gap": "0.4em"}),
                          spacing="2"),
                value=B.who, on_change=lambda v: B.set_value("who", v), name="self_booking_who"),
            style={"border": "none", "padding": "0"}),
        rx.vstack(
            rx.el.label("Cancellation window (hours before the start)", html_for="cancellation_window_hours",
                        style={"font_weight": "500"}),
            rx.input(id="cancellation_window_hours", value=B.window_hours, input_mode="numeric", width="8em",
                     on_change=lambda v: B.set_value("window_hours", v)),
            rx.text("Inside this window clients cannot move or cancel online.", color_scheme="gray", size="2"),
            error("cancellation_window_hours"), spacing="1", align="start"),
        rx.vstack(
            rx.el.label("Message shown inside the window", html_for="cancellation_message",
                        style={"font_weight": "500"}),
            rx.text_area(id="cancellation_message", value=B.message, width="100%", max_width="28em",
                         on_change=lambda v: B.set_value("message", v),
                         placeholder="Please call the practice on …"),
            error("cancellation_message"), spacing="1", align="start", width="100%"),
        rx.flex(
            *[rx.vstack(rx.el.label(label, html_for=name, style={"font_weight": "500"}),
                        rx.input(id=name, value=value, input_mode="numeric", width="8em",
                                 on_change=lambda v, field=field: B.set_value(field, v)),
                        error(name), spacing="1", align="start")
              for label, name, field, value in (
                  ("Self-booked visits per client per day", "self_booking_max_per_day", "max_per_day", B.max_per_day),
                  ("Self-booked visits per client still to come", "self_booking_max_upcoming", "max_upcoming",
                   B.max_upcoming))],
            spacing="4", wrap="wrap"),
        rx.text("The front desk is not limited; a client is never booked twice at one time.", color_scheme="gray",
                size="2"),
        rx.hstack(rx.button("Save self-booking", on_click=B.save, id="save-self-booking"),
                  rx.cond(B.saved_message != "", rx.text(B.saved_message, color_scheme="green", role="status",
                                                          id="self-booking-saved")),
                  align="center", spacing="3", wrap="wrap"),
        spacing="4", align="start"), width="100%")


def _confirmations() -> rx.Component:
    """Its own section: saved as soon as it is ticked."""
    return rx.card(rx.vstack(
        rx.heading("Confirmations", size="3", as_="h2"),
        rx.checkbox("Ask clients to confirm their appointments (a Confirm link in emails, “Reply YES” in texts)",
                    checked=S.ask_to_confirm, on_change=S.set_ask_to_confirm, id="ask-to-confirm"),
        rx.cond(S.confirm_message != "", rx.text(S.confirm_message, color_scheme="green", role="status",
                                                 id="confirm-saved")),
        spacing="3", align="start"), width="100%")


@rx.page(route="/settings", title="Practice settings · Telehealth",
         on_load=[AuthState.guard, S.load, SelfBookingSettingsState.load,
                  SmsCreditsState.load])
def settings_page() -> rx.Component:
    return app_shell(
        "/settings", "Practice settings",
        _settings_form(),
        _confirmations(),
        sms_credits_section(),
        _self_booking_form(),
        rx.heading("Practitioners", size="4", as_="h2"),
        card_table(("Name", "Email", "Telehealth", "Zoom", "Zoom actions"), S.practitioners, _practitioner,
                   id="practitioners-table"),
        rx.cond(S.export_href != "", rx.card(rx.vstack(
            rx.heading("Your practice's data", size="4", as_="h2"),
            rx.text("One ZIP file: clients, appointments, availability, reminders, the SMS ledger, the team and "
                    "the audit trail as CSV, and each practitioner's calendar (.ics). It never contains passwords, "
                    "Zoom tokens or join links."),
            rx.link("Download the practice's data", href=S.export_href, id="export-link", reload_document=True,
                    weight="bold"),
            spacing="2", align="start"), width="100%")),
    )
