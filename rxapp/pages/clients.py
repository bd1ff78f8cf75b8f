"""Clients of the practice: the list, Add client, and each client's page."""

from __future__ import annotations

import reflex as rx

from rxapp.components.client_form import client_form_dialog, client_notice
from rxapp.components.dialogs import confirm_button
from rxapp.components.shell import app_shell, empty_state
from rxapp.components.visits import visit_list
from rxapp.state.auth import AuthState
from rxapp.state.client_record import ClientRecordState
from rxapp.state.clients import SEARCH_MAX, ClientFormState, ClientsState

S, R = ClientsState, ClientRecordState


def _row_action(row: rx.Var[dict[str, str]]) -> rx.Component:
    """One button a row: its invite (or Restore, in the archived list); nothing for practitioners."""
    return rx.cond(
        S.can_manage,
        rx.cond(row["archived"] == "1",
                rx.button("Restore", size="1", variant="soft", aria_label="Restore " + row["name"],
                          on_click=S.restore(row["id"].to(int))),
                rx.button(row["invite_label"], size="1", variant="soft",
                          aria_label=row["invite_label"] + " to " + row["name"],
                          loading=S.inviting.to_string() == row["id"],
                          on_click=S.send_invite(row["id"].to(int)))),
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["name"], href="/clients/" + row["id"])),
        rx.table.cell(row["email"]),
        rx.table.cell(row["phone"]),
        rx.table.cell(row["timezone"]),
        rx.table.cell(row["trusted"]),
        rx.table.cell(rx.cond(row["has_portal"] == "True", "Yes", "No")),
        rx.table.cell(_row_action(row)),
    )


def _pager() -> rx.Component:
    return rx.cond(S.has_previous | S.has_next, rx.hstack(
        rx.button("Previous", variant="soft", disabled=~S.has_previous, on_click=S.previous_page),
        rx.text("Page ", S.page, aria_live="polite"),
        rx.button("Next", variant="soft", disabled=~S.has_next, on_click=S.next_page),
        align="center", spacing="3"))


@rx.page(route="/clients", title="Clients · Telehealth", on_load=[AuthState.guard, ClientsState.load])
def clients_page() -> rx.Component:
    return app_shell(
        "/clients", "Clients",
        rx.flex(
            rx.input(id="client-search", placeholder="Search by name or email", aria_label="Search clients",
                     value=S.search, max_length=SEARCH_MAX, on_change=S.set_search.debounce(300),
                     width="20em", max_width="100%"),
            rx.el.label(rx.checkbox(checked=S.show_archived, on_change=S.set_show_archived, id="show-archived"),
                        " Show archived", html_for="show-archived",
                        style={"display": "flex", "gap": "0.4em", "align_items": "center"}),
            rx.spacer(),
            rx.cond(S.can_manage, rx.button(rx.icon("user-plus", size=16, aria_hidden="true"), "Add client",
                                            on_click=ClientFormState.open_add, id="add-client")),
            spacing="3", align="center", wrap="wrap", width="100%"),
        client_notice(),
        rx.cond(S.show_archived, rx.text("Archived clients: hidden from lists and pickers until restored.",
                                         color_scheme="gray")),
        rx.cond(
            S.rows.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Name", "Email", "Phone", "Timezone", "Trusts", "Portal", "Portal access")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                width="100%",
            ), overflow_x="auto", width="100%"),
            empty_state("No clients found", rx.cond(S.show_archived, "Archived clients appear here.",
                                                    "Clients of the practice appear here.")),
        ),
        _pager(),
        client_form_dialog(),
    )


def _detail(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(item["label"]),
                             rx.data_list.value(rx.text(item["value"], white_space="pre-wrap")))


def _record_actions() -> rx.Component:
    return rx.cond(R.can_manage, rx.flex(
        rx.button("Edit", on_click=ClientFormState.open_edit(R.client_id_shown), id="edit-client"),
        rx.cond(R.archived,
                rx.button("Restore", variant="soft", on_click=R.restore(R.client_id_shown), id="restore-client"),
                rx.fragment(
                    rx.button(R.invite_label, variant="soft", on_click=R.send_invite(R.client_id_shown),
                              id="invite-client"),
                    confirm_button("Archive", "Archive " + R.name + "?",
                                   "Archived clients are hidden from the client list and from pickers; their "
                                   "appointments and history are kept. You can restore them at any time.",
                                   "Archive", R.archive(R.client_id_shown), color="red", variant="soft",
                                   id="archive-client"))),
        spacing="3", wrap="wrap"))


@rx.page(route="/clients/[client_id]", title="Client · Telehealth", on_load=[AuthState.guard, R.load])
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
                visit_list("Past appointments", R.past, "No past appointments.", "client-past"),
                client_form_dialog(),
                spacing="4", width="100%", align="start"),
            empty_state("Client not found", "This client does not exist or is not one of yours.",
                        icon="user-x"),
        ),
    )
