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


def _error() -> rx.Component:
    return rx.cond(LoginState.error != "", rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red",
                                                      role="alert", id="login-error", width="100%"))


def _code_field(label: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for="code", style={"font_weight": "500"}),
        rx.input(id="code", name="code", auto_complete="one-time-code", input_mode="numeric", required=True,
                 width="100%", size="3", auto_focus=True),
        spacing="1", width="100%")


def _password_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sign in", size="6", as_="h1"),
            rx.cond(LoginState.notice != "", rx.callout(LoginState.notice, icon="info", role="status", width="100%")),
            _field("Email", "email", "email", "username"),
            _field("Password", "password", "password", "current-password"),
            _error(),
            rx.button("Sign in", type="submit", size="3", width="100%", loading=LoginState.busy),
            rx.link("Forgot password?", href="/forgot-password", size="2"),
            rx.cond(LoginState.signup_open, rx.text(
                "New practice? ", rx.link("Create your practice", href="/signup", reload_document=True), size="2")),
            spacing="4", width="100%"),
        on_submit=LoginState.sign_in, reset_on_submit=False)


def _step_form(title: str, intro: str, *body: rx.Component, submit: str, on_submit: rx.EventHandler) -> rx.Component:
    """A second step of signing in: its heading and words, what it shows, the code field and Submit."""
    return rx.form(
        rx.vstack(rx.heading(title, size="6", as_="h1"), rx.text(intro), *body,
                  _code_field("Code" if submit == "Continue" else "Code from the app"), _error(),
                  rx.button(submit, type="submit", size="3", width="100%", loading=LoginState.busy),
                  rx.button("Start again", type="button", variant="ghost", on_click=LoginState.start_over),
                  spacing="4", width="100%"),
        on_submit=on_submit, reset_on_submit=True)


def _code_step() -> rx.Component:
    return _step_form("Two-step sign-in", "Enter the 6-digit code your authenticator app shows for this practice, or "
                      "one of your recovery codes.", submit="Continue", on_submit=LoginState.verify_code)


def _enrol_step() -> rx.Component:
    return _step_form(
        "Set up two-step sign-in",
        "Your practice asks everyone on its team to sign in with a second step. Scan this code with an authenticator "
        "app (Google Authenticator, Microsoft Authenticator, 1Password…), or type the key below into it, then enter "
        "the 6-digit code it shows.",
        rx.image(src=LoginState.qr, alt="QR code to scan with your authenticator app", width="200px", height="200px",
                 id="mfa-qr"),
        rx.text("Key: ", rx.code(LoginState.secret, id="mfa-secret"), size="2"),
        submit="Turn on and sign in", on_submit=LoginState.enrol)


def _codes_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Your recovery codes", size="6", as_="h1"),
        rx.text("Keep these somewhere safe (not on your phone). Each works once, instead of a code, if you lose "
                "your phone. They are shown only now."),
        rx.el.ul(rx.foreach(LoginState.recovery_codes, lambda c: rx.el.li(rx.code(c))), id="recovery-codes"),
        rx.button("I have kept them: continue", size="3", width="100%", on_click=LoginState.finish),
        spacing="4", width="100%")


@rx.page(route="/login", title="Sign in · Telehealth", on_load=LoginState.load)
def login() -> rx.Component:
    return rx.center(
        rx.el.main(
            rx.card(
                rx.match(LoginState.step, ("code", _code_step()), ("enrol", _enrol_step()),
                         ("codes", _codes_step()), _password_step()),
                width="min(26em, calc(100vw - 1.5em))", padding="2em",
            ),
        ),
        min_height="100vh",
    )
