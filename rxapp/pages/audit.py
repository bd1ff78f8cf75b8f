"""Audit: who did what and when in the practice (owners and managers), with a CSV export."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.state.audit import ACTION_GROUPS, ACTION_LABELS, AuditState
from rxapp.state.auth import AuthState

A = AuditState
_CONTROL = {"padding": "0.4em", "border_radius": "6px", "max_width": "100%"}


def _labelled(label: str, control_id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=control_id, style={"font_weight": "500"}), control, spacing="1",
                     align="start", max_width="100%")


def _filters() -> rx.Component:
    return rx.flex(
        _labelled("Person", "audit-person", rx.el.select(
            rx.el.option("Everyone", value="all"),
            rx.foreach(A.people, lambda o: rx.el.option(o["label"], value=o["value"])),
            id="audit-person", value=rx.cond(A.person == "", "all", A.person), on_change=A.set_person,
            style=_CONTROL)),
        _labelled("Action", "audit-action", rx.el.select(
            rx.el.option("All actions", value="all"),
            *[rx.el.option(label, value=key) for key, label in ACTION_GROUPS.items()],
            *[rx.el.option(label, value=key) for key, label in sorted(ACTION_LABELS.items(), key=lambda i: i[1])],
            id="audit-action", value=rx.cond(A.action == "", "all", A.action), on_change=A.set_action,
            style=_CONTROL)),
        _labelled("From", "audit-from", rx.input(id="audit-from", type="date", value=A.date_from,
                                                 on_change=A.set_date_from)),
        _labelled("To", "audit-to", rx.input(id="audit-to", type="date", value=A.date_to, on_change=A.set_date_to)),
        rx.button("Clear filters", variant="soft", color_scheme="gray", on_click=A.clear_filters),
        # A server route: a document download, not client-side routing.
        rx.link(rx.icon("download", size=14, aria_hidden="true"), "Download CSV", href=A.export_href,
                reload_document=True, id="audit-export", weight="medium"),
        gap="1em", align="end", wrap="wrap", width="100%",
    )


def _entry(entry: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.flex(rx.text(entry["when"], color_scheme="gray", size="2"), rx.text(entry["who"], weight="medium"),
                gap="0.75em", wrap="wrap"),
        rx.text(entry["action"], weight="bold", class_name="audit-action"),
        rx.cond(entry["subject"] != "", rx.text(entry["subject"], size="2")),
        rx.cond(entry["details"] != "", rx.text(entry["details"], size="1", color_scheme="gray",
                                                style={"overflow_wrap": "anywhere"})),
        class_name="audit-entry",
        style={"border_bottom": "1px solid var(--gray-a5)", "padding": "0.6em 0", "list_style": "none"},
    )


def _list() -> rx.Component:
    return rx.cond(
        A.entries.length() > 0,
        rx.vstack(
            rx.el.ol(rx.foreach(A.entries, _entry), style={"padding": "0", "margin": "0", "width": "100%"},
                     aria_label="Audit entries, newest first"),
            rx.hstack(
                rx.button("Previous", variant="soft", on_click=A.previous_page, disabled=~A.has_previous),
                rx.text("Page ", A.page, id="audit-pages"),
                rx.button("Next", variant="soft", on_click=A.next_page, disabled=~A.has_next),
                align="center", spacing="3"),
            width="100%", spacing="3"),
        empty_state("No entries match", "Sign-ins, Zoom connections, meetings and settings changes are listed here "
                                        "as they happen. Change the filters to see more.", icon="scroll-text"),
    )


@rx.page(route="/audit", title="Audit · Telehealth", on_load=[AuthState.guard, A.load])
def audit_page() -> rx.Component:
    return app_shell(
        "/audit", "Audit",
        rx.text("Who did what and when, newest first. Times are shown in ", A.timezone, ".", color_scheme="gray"),
        _filters(),
        rx.cond(A.error != "", rx.callout(A.error, icon="triangle-alert", color_scheme="red", role="alert",
                                          id="audit-error")),
        _list(),
    )
