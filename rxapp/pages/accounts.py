"""Pages reached from emailed links or the sign-in page: portal and team invites, forgot password, reset."""

from __future__ import annotations

import reflex as rx

from rxapp.state.accounts import ForgotPasswordState, InviteState, ResetPasswordState, TeamInviteState


def _card(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.el.main(rx.card(rx.vstack(*children, spacing="4", width="100%"), width="26em", padding="2em")),
        min_height="100vh",
    )


def _field(label: str, name: str, kind: str, autocomplete: str, error: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_weight": "500"}),
        rx.input(id=name, name=name, type=kind, auto_complete=autocomplete, required=True, width="100%", size="3"),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert", id=f"{name}-error")),
        spacing="1", width="100%",
    )


def _alert(message: rx.Var[str], **props) -> rx.Component:
    return rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%", **props)


def _sign_in_link() -> rx.Component:
    return rx.link("Go to sign in", href="/login")


def _password_form(state: type[InviteState] | type[TeamInviteState] | type[ResetPasswordState],
                   intro: rx.Component) -> rx.Component:
    """The two password fields of a checked link; the link's problem instead when it has one."""
    return rx.cond(
        ~state.checked,
        rx.hstack(rx.spinner(size="2"), rx.text("Checking your link…"), role="status"),
        rx.cond(
            state.link_problem != "",
            rx.vstack(_alert(state.link_problem, id="link-problem"), _sign_in_link(), spacing="3", width="100%"),
            rx.form(
                rx.vstack(
                    intro,
                    _field("New password", "new_password", "password", "new-password", state.password_error),
                    _field("Confirm password", "confirm_password", "password", "new-password",
                           state.confirm_error),
                    rx.text("Use at least 10 characters.", size="2", color_scheme="gray"),
                    rx.button("Set password", type="submit", size="3", width="100%", loading=state.busy),
                    spacing="4", width="100%",
                ),
                on_submit=state.submit_password,
                reset_on_submit=False,
            ),
        ),
    )


@rx.page(route="/invite/[invite_token]", title="Set up your portal · Telehealth", on_load=InviteState.load)
def invite_page() -> rx.Component:
    return _card(
        rx.heading("Set up your portal account", size="6", as_="h1"),
        _password_form(InviteState, rx.text(
            InviteState.practice_name, " invites you to its client portal. Choose a password for ",
            rx.text.strong(InviteState.account_email), ".")),
    )


@rx.page(route="/team-invite/[team_token]", title="Join your practice · Telehealth", on_load=TeamInviteState.load)
def team_invite_page() -> rx.Component:
    return _card(
        rx.heading("Join your practice", size="6", as_="h1"),
        _password_form(TeamInviteState, rx.text(
            TeamInviteState.practice_name, " invites you to its team. Choose a password for ",
            rx.text.strong(TeamInviteState.account_email), ".")),
    )


@rx.page(route="/reset-password/[reset_token]", title="Choose a new password · Telehealth",
         on_load=ResetPasswordState.load)
def reset_password_page() -> rx.Component:
    return _card(
        rx.heading("Choose a new password", size="6", as_="h1"),
        rx.cond(
            ResetPasswordState.done,
            rx.vstack(
                rx.callout("Your password was changed. Sign in with your new password.", icon="circle-check",
                           color_scheme="green", role="status", id="reset-done", width="100%"),
                rx.link("Sign in", href="/login", size="3"),
                spacing="3", width="100%",
            ),
            _password_form(ResetPasswordState, rx.text(
                "Choose a new password for ", rx.text.strong(ResetPasswordState.account_email), ".")),
        ),
    )


@rx.page(route="/forgot-password", title="Forgot password · Telehealth", on_load=ForgotPasswordState.load)
def forgot_password_page() -> rx.Component:
    return _card(
        rx.heading("Forgot your password?", size="6", as_="h1"),
        rx.cond(
            ForgotPasswordState.answer != "",
            rx.callout(ForgotPasswordState.answer, icon="mail", role="status", id="forgot-answer", width="100%"),
            rx.form(
                rx.vstack(
                    rx.text("Enter the email you sign in with. We will email you a link to choose a new password."),
                    _field("Email", "email", "email", "username", ForgotPasswordState.error),
                    rx.button("Send reset link", type="submit", size="3", width="100%",
                              loading=ForgotPasswordState.busy),
                    spacing="4", width="100%",
                ),
                on_submit=ForgotPasswordState.request_link,
                reset_on_submit=False,
            ),
        ),
        _sign_in_link(),
    )
