"""A client's appointments as cards (they fit a 390 px phone): on the client's page and in the portal."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

RowActions = Callable[[rx.Var[dict[str, str]]], rx.Component]


def _visit(row: rx.Var[dict[str, str]], actions: RowActions | None = None) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(row["when"], " · ", row["minutes"], weight="bold"),
        rx.cond(row["topic"] != "", rx.text(row["topic"], class_name="visit-topic")),
        rx.text(row["practitioner"], " · ", row["mode"]),
        rx.hstack(rx.badge(row["status"], high_contrast=True),
                  rx.cond(row["booked_by"] != "", rx.text(row["booked_by"], size="2", color_scheme="gray")),
                  rx.cond(row["reason"] != "", rx.text("Reason: ", row["reason"], size="2")),
                  rx.cond(row["attended"] != "", rx.text(row["attended"], size="2", class_name="visit-attended")),
                  spacing="2", align="center", wrap="wrap"),
        *([actions(row)] if actions else []),
        spacing="1", align="start", width="100%"), width="100%", class_name="client-visit")


def visit_list(title: str, rows: rx.Var[list[dict[str, str]]], empty: str | None, list_id: str,
               actions: RowActions | None = None) -> rx.Component:
    """Upcoming, cancelled or past appointments as cards (they fit a 390 px phone); `actions` adds a
    row's buttons. With `empty` None the whole list (heading included) is left out when it is empty."""
    shown = rx.vstack(
        rx.heading(title, size="4", as_="h2"),
        rx.cond(rows.length() > 0,
                rx.vstack(rx.foreach(rows, lambda row: _visit(row, actions)), spacing="2", width="100%"),
                rx.text(empty or "", color_scheme="gray")),
        spacing="2", width="100%", id=list_id)
    return shown if empty is not None else rx.cond(rows.length() > 0, shown)
