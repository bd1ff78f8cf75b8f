"""Caught SMS, for a person evaluating the app: the page exists only in development and tests."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState
from rxapp.state.dev_sms import QUICK_REPLIES, DevSmsState


def _sms(sms: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("To ", sms["to"], size="3", as_="h2"),
            rx.text(sms["caught_at"], color_scheme="gray", size="2"),
            rx.el.pre(sms["body"], style={"white_space": "pre-wrap", "font_family": "inherit"}),
            rx.hstack(rx.badge(sms["segments"], class_name="sms-segments"),
                      rx.badge(sms["encoding"], variant="outline", class_name="sms-encoding"),
                      rx.badge(sms["credits"], " charged", color_scheme="amber", class_name="sms-credits"),
                      spacing="2", wrap="wrap"),
            _reply(sms),
            spacing="1", align="start",
        ),
        width="100%", class_name="caught-sms",
    )


def _reply(sms: rx.Var[dict[str, str]]) -> rx.Component:
    """Answer as the client would: a quick keyword, or any text (the same inbound code as Twilio's webhook)."""
    return rx.vstack(
        rx.hstack(rx.text("Reply as the client:", size="2", weight="medium"),
                  *[rx.button(word, size="1", variant="soft", aria_label=f"Reply {word}",
                              on_click=DevSmsState.reply(sms["id"], word)) for word in QUICK_REPLIES],
                  spacing="2", wrap="wrap", align="center"),
        rx.form(rx.hstack(
            rx.el.input(type="hidden", name="message_id", value=sms["id"]),
            rx.input(name="body", placeholder="Any text", max_length=320, aria_label="Reply text", width="100%"),
            rx.button("Send reply", size="2", type="submit"), width="100%", spacing="2"),
            on_submit=DevSmsState.reply_typed, reset_on_submit=True, width="100%"),
        rx.cond(DevSmsState.replies.contains(sms["id"]),
                rx.text(DevSmsState.replies[sms["id"]], size="2", color_scheme="green", role="status",
                        class_name="sms-reply-outcome")),
        spacing="2", width="100%", padding_top="0.5em")


def dev_sms_page() -> rx.Component:
    return app_shell(
        "/dev/sms", "Caught SMS",
        rx.hstack(rx.button("Refresh", on_click=DevSmsState.load, variant="soft"),
                  rx.link("Caught mail", href="/dev/mail"), spacing="4", align="center"),
        rx.cond(DevSmsState.messages.length() > 0,
                rx.vstack(rx.foreach(DevSmsState.messages, _sms), width="100%"),
                empty_state("No SMS caught yet", "Text messages the app sends to your practice's clients appear "
                            "here, with their segments and the credits they cost.")),
    )


# Outside development there is no such page at all (the route answers 404 like any unknown path).
if get_settings().app_env in ("development", "test"):
    rx.page(route="/dev/sms", title="Caught SMS · Telehealth",
            on_load=[AuthState.guard, DevSmsState.load])(dev_sms_page)
