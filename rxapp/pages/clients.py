"""Clients of the practice: the list (search, archived), Add client and invites."""

from __future__ import annotations

import reflex as rx

from rxapp.components.card_table import card_table, cell
from rxapp.components.client_form import client_form_dialog, client_notice
from rxapp.components.client_import import client_import_dialog
from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState
from rxapp.state.client_form import ClientFormState
from rxapp.state.client_import import ClientImportState
from rxapp.state.clients import SEARCH_MAX, ClientsState

S = ClientsState


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
        cell("Name", rx.link(row["name"], href="/clients/" + row["id"]), row_header=True),
        cell("Email", row["email"]),
        cell("Phone", row["phone"]),
        cell("Timezone", row["timezone"]),
        cell("Trusts", row["trusted"]),
        cell("Portal", rx.cond(row["has_portal"] == "True", "Yes", "No")),
        cell("Portal access", _row_action(row)),
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
            rx.cond(S.can_manage, rx.link(rx.icon("list-ordered", size=16, aria_hidden="true"), " Waitlist",
                                          href="/waitlist", id="waitlist-link",
                                          style={"display": "inline-flex", "gap": "0.3em", "align_items": "center"})),
            rx.cond(S.can_manage, rx.button(rx.icon("upload", size=16, aria_hidden="true"), "Import clients",
                                            variant="soft", on_click=ClientImportState.open_dialog,
                                            id="import-clients")),
            rx.cond(S.can_manage, rx.button(rx.icon("user-plus", size=16, aria_hidden="true"), "Add client",
                                            on_click=ClientFormState.open_add, id="add-client")),
            spacing="3", align="center", wrap="wrap", width="100%"),
        client_notice(),
        rx.cond(S.show_archived, rx.text("Archived clients: hidden from lists and pickers until restored.",
                                         color_scheme="gray")),
        rx.cond(
            S.rows.length() > 0,
            rx.box(card_table(("Name", "Email", "Phone", "Timezone", "Trusts", "Portal", "Portal access"),
                              S.rows, _row), overflow_x="auto", width="100%"),
            empty_state("No clients found", rx.cond(S.show_archived, "Archived clients appear here.",
                                                    "Clients of the practice appear here.")),
        ),
        _pager(),
        client_form_dialog(),
        client_import_dialog(),
    )
