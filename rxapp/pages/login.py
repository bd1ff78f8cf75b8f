"""Sign in."""

from __future__ import annotations

import reflex as rx

from rxapp.state.login import LoginState


def _field(label: str, name: str, kind: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": "500"}),
        rx.input(id=name, name=name, type=kind, auto_complete=autocomplete, required=True, width="100%",
                 size="3"),
        spacing="1", width="100%",
    )


@rx.page(route="/login", title="Sign in · Telehealth", on_load=LoginState.load)
def login() -> rx.Component:
    return rx.center(
        rx.el.main(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Sign in", size="6", as_="h1"),
                        rx.cond(LoginState.notice != "",
                                rx.callout(LoginState.notice, icon="info", role="status", width="100%")),
                        _field("Email", "email", "email", "username"),
                        _field("Password", "password", "password", "current-password"),
                        rx.cond(LoginState.error != "",
                                rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red",
                                           role="alert", id="login-error", width="100%")),
                        rx.button("Sign in", type="submit", size="3", width="100%", loading=LoginState.busy),
                        rx.link("Forgot password?", href="/forgot-password", size="2"),
                        spacing="4", width="100%",
                    ),
                    on_submit=LoginState.sign_in,
                    reset_on_submit=False,
                ),
                width="24em", padding="2em",
            ),
        ),
        min_height="100vh",
    )
