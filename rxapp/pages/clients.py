"""Clients of the practice."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState
from rxapp.state.clients import ClientsState


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(row["email"]),
        rx.table.cell(row["phone"]),
        rx.table.cell(row["timezone"]),
        rx.table.cell(row["trusted"]),
        rx.table.cell(rx.cond(row["has_portal"] == "True", "Yes", "No")),
        rx.table.cell(rx.button(row["invite_label"], size="1", variant="soft",
                                aria_label=row["invite_label"] + " to " + row["name"],
                                loading=ClientsState.inviting.to_string() == row["id"],
                                on_click=ClientsState.send_invite(row["id"].to(int)))),
    )


@rx.page(route="/clients", title="Clients · Telehealth", on_load=[AuthState.guard, ClientsState.load])
def clients_page() -> rx.Component:
    return app_shell(
        "/clients", "Clients",
        rx.box(
            rx.input(id="client-search", placeholder="Search by name or email", aria_label="Search clients",
                     value=ClientsState.search, on_change=ClientsState.set_search.debounce(300), width="20em"),
        ),
        rx.cond(
            ClientsState.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Name", "Email", "Phone", "Timezone", "Trusts", "Portal", "Portal access")])),
                rx.table.body(rx.foreach(ClientsState.rows, _row)),
                width="100%",
            ),
            empty_state("No clients found", "Clients of the practice appear here."),
        ),
    )
