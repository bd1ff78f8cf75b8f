"""One client's page: details, consents, archive/restore, invite, Edit, and their appointments."""

from __future__ import annotations

import reflex as rx

from rxapp.components.client_form import client_form_dialog, client_notice
from rxapp.components.dialogs import confirm_button
from rxapp.components.shell import app_shell, empty_state
from rxapp.components.visits import visit_list
from rxapp.components.waitlist import waitlist_section
from rxapp.state.auth import AuthState
from rxapp.state.client_form import ClientFormState
from rxapp.state.client_record import ClientRecordState
from rxapp.state.waitlist import WaitlistState

R = ClientRecordState


def _detail(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(item["label"]),
                             rx.data_list.value(rx.text(item["value"], white_space="pre-wrap")))


def _book_button() -> rx.Component:
    """The New appointment form on the calendar with this client chosen (the server re-checks them)."""
    return rx.cond(R.can_book, rx.button(
        "Book appointment", id="book-for-client", variant="outline",
        on_click=rx.redirect("/calendar?new=1&client=" + R.client_id_shown.to_string())))


def _record_actions() -> rx.Component:
    return rx.cond(R.can_manage, rx.flex(
        _book_button(),
        rx.button("Edit", on_click=ClientFormState.open_edit(R.client_id_shown), id="edit-client"),
        rx.cond(R.archived,
                rx.button("Restore", variant="soft", id="restore-client",
                          on_click=[ClientFormState.clear_notice, R.restore(R.client_id_shown)]),
                rx.fragment(
                    rx.button(R.invite_label, variant="soft", on_click=R.send_invite(R.client_id_shown),
                              id="invite-client"),
                    confirm_button("Archive", "Archive " + R.name + "?",
                                   "Archived clients are hidden from the client list and from pickers; their "
                                   "appointments and history are kept. You can restore them at any time.",
                                   "Archive", [ClientFormState.clear_notice, R.archive(R.client_id_shown)],
                                   color="red", variant="soft",
                                   id="archive-client"))),
        spacing="3", wrap="wrap"), _book_button())


@rx.page(route="/clients/[client_id]", title="Client · Telehealth",
         on_load=[AuthState.guard, R.load, WaitlistState.load])
def client_page() -> rx.Component:
    return app_shell(
        R.page_path, "Client",
        rx.link("← All clients", href="/clients"),
        rx.cond(
            R.found,
            rx.vstack(
                rx.hstack(rx.heading(R.name, size="5", as_="h2", id="client-name"),
                          rx.cond(R.archived, rx.badge("Archived", color_scheme="gray", id="archived-badge")),
                          align="center", wrap="wrap"),
                client_notice(),
                _record_actions(),
                rx.cond(R.can_manage, rx.el.label(
                    rx.switch(checked=R.sms_allowed, on_change=lambda v: R.set_sms_consent(R.client_id_shown, v),
                              id="client-sms-consent"),
                    " Send text messages (SMS) to this client. A client who replies STOP is turned off here.",
                    style={"display": "flex", "gap": "0.5em", "align_items": "center"})),
                rx.cond(R.can_manage, rx.el.label(
                    rx.switch(checked=R.email_reminders,
                              on_change=lambda v: R.set_email_reminders(R.client_id_shown, v),
                              id="client-email-reminders"),
                    " Email appointment reminders. The Stop link in a reminder email turns this off.",
                    style={"display": "flex", "gap": "0.5em", "align_items": "center"})),
                rx.card(rx.data_list.root(rx.foreach(R.details, _detail),
                                          orientation={"initial": "vertical", "sm": "horizontal"}), width="100%"),
                rx.text("Times are shown in ", R.timezone, ".", color_scheme="gray"),
                visit_list("Upcoming appointments", R.upcoming, "No upcoming appointments.", "client-upcoming"),
                rx.cond(~R.archived, waitlist_section("Waitlist", "Not on the waitlist.")),
                visit_list("Cancelled", R.cancelled, None, "client-cancelled"),
                visit_list("Past appointments", R.past, "No past appointments.", "client-past"),
                client_form_dialog(),
                spacing="4", width="100%", align="start"),
            empty_state("Client not found", "This client does not exist or is not one of yours.",
                        icon="user-x"),
        ),
    )
