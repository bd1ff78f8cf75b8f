"""Caught mail, for a person evaluating the app: the page exists only in development and tests."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState
from rxapp.state.dev_mail import DevMailState


def _mail(mail: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(mail["subject"], size="3", as_="h2"),
            rx.text("To: ", mail["to"], color_scheme="gray"),
            rx.cond(mail["attachments"] != "", rx.text("Attachments: ", mail["attachments"], color_scheme="gray")),
            rx.el.pre(mail["text"], style={"white_space": "pre-wrap", "font_family": "inherit"}),
            spacing="1", align="start",
        ),
        width="100%", class_name="caught-mail",
    )


def dev_mail_page() -> rx.Component:
    return app_shell(
        "/dev/mail", "Caught mail",
        rx.hstack(rx.button("Refresh", on_click=DevMailState.load, variant="soft"),
                  rx.link("Caught SMS", href="/dev/sms"), spacing="4", align="center"),
        rx.cond(DevMailState.mails.length() > 0, rx.vstack(rx.foreach(DevMailState.mails, _mail), width="100%"),
                empty_state("No mail caught yet", "Emails the app sends to your practice appear here.")),
    )


# Outside development there is no such page at all (the route answers 404 like any unknown path).
if get_settings().app_env in ("development", "test"):
    rx.page(route="/dev/mail", title="Caught mail · Telehealth",
            on_load=[AuthState.guard, DevMailState.load])(dev_mail_page)
