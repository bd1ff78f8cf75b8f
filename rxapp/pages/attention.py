"""Needs attention (owner/manager): what failed and needs a person, one section per kind."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell
from rxapp.state.attention import LATEST, AttentionState
from rxapp.state.auth import AuthState

S = AttentionState
_WRAP = {"overflow_wrap": "anywhere", "word_break": "break-word"}


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(row["when"], size="2", color_scheme="gray"),
            rx.text(row["title"], weight="bold", style=_WRAP),
            rx.text(row["detail"], size="2", style=_WRAP),
            rx.text("Reason: ", row["reason"], size="2", color_scheme="red", style=_WRAP),
            spacing="1", align="start", width="100%",
        ),
        width="100%", class_name="attention-row",
    )


def section(section_id: str, title: str, description: str, rows: rx.Var[list[dict[str, str]]],
            more: rx.Var[bool], empty: str) -> rx.Component:
    """One kind of problem: newest first, at most `LATEST`, saying so when older ones are left out."""
    return rx.el.section(
        rx.vstack(
            rx.heading(title, size="4", as_="h2", id=f"{section_id}-title"),
            rx.text(description, color_scheme="gray", size="2"),
            rx.cond(more, rx.text(f"Showing the latest {LATEST}; older ones are not listed.", size="2",
                                  class_name="attention-capped")),
            rx.cond(rows.length() > 0,
                    rx.vstack(rx.foreach(rows, _row), spacing="2", width="100%"),
                    rx.text(empty, size="2")),
            spacing="2", width="100%", align="start",
        ),
        id=section_id, aria_labelledby=f"{section_id}-title", style={"width": "100%", "min_width": "0"},
    )


@rx.page(route="/attention", title="Needs attention · Telehealth", on_load=[AuthState.guard, AttentionState.load])
def attention_page() -> rx.Component:
    return app_shell(
        "/attention", "Needs attention",
        rx.vstack(
            rx.hstack(rx.text("What failed and may need a person to act. Newest first."),
                      rx.button("Refresh", on_click=S.load, variant="soft", size="2"),
                      wrap="wrap", align="center", spacing="3"),
            section("meetings-needing-attention", "Meetings Zoom is out of step with",
                    "Telehealth meetings whose Zoom meeting could not be created, moved or deleted; they are "
                    "retried when the practitioner reconnects Zoom, or press Retry on the Meetings page.",
                    S.meetings, rx.Var.create(False), "No meetings need attention."),
            rx.link("Open them on the Meetings page", href="/meetings?status=needs_attention&when=all",
                    id="attention-meetings-link"),
            section("failed-zoom-events", "Zoom events that failed",
                    "Events Zoom sent that could not be applied after every retry; the meeting they concern may "
                    "show an old state.", S.zoom_events, S.zoom_events_more, "No failed Zoom events."),
            section("failed-messages", "Messages that failed",
                    "Emails and text messages that could not be sent; they are retried with growing delays until "
                    "they are given up (a refusal by the SMS provider or too few credits is not retried).",
                    S.messages, S.messages_more, "No failed messages."),
            section("sms-credits", "SMS credits",
                    "Below the warning threshold set in Practice settings the owner is also emailed once.",
                    S.sms_credits, rx.Var.create(False), "SMS credits are above the warning threshold."),
            spacing="5", width="100%", max_width="48em", style={"min_width": "0"},
        ),
    )
