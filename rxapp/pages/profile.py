"""My profile: the Meeting tab (Zoom connection, default timezone) and details (how clients see me,
default appointment length)."""

from __future__ import annotations

import reflex as rx

from rxapp.components.dialogs import confirm_button, reconnect_banner
from rxapp.components.profile_fields import profile_fields
from rxapp.components.shell import app_shell
from rxapp.state.auth import AuthState
from rxapp.state.profile import FeedState, ProfileDetailsState, SecurityState, ZoomReviewState, ZoomTabState

S, X, F = ZoomTabState, SecurityState, FeedState


def _status() -> rx.Component:
    color = rx.match(S.status, ("connected", "green"), ("needs_reconnect", "red"), "gray")
    return rx.vstack(
        rx.hstack(rx.text("Status:", weight="bold"), rx.badge(S.status_label, color_scheme=color, size="2",
                                                              high_contrast=True, id="zoom-status"), align="center"),
        rx.cond(S.connected_since != "", rx.text("Connected since ", S.connected_since, color_scheme="gray")),
        rx.cond(S.scopes.length() > 0,
                rx.vstack(rx.text("The app may:", weight="bold"),
                          rx.el.ul(rx.foreach(S.scopes, lambda s: rx.el.li(s)), style={"padding_left": "1.25em"}),
                          spacing="1", align="start")),
        spacing="2", align="start",
    )


def _actions() -> rx.Component:
    connect = confirm_button(
        "Connect to Zoom", "Connect your Zoom account?",
        "You will be taken to Zoom to sign in and allow this app to create, move and delete the meetings of "
        "your telehealth sessions. You come back here afterwards.", "Continue to Zoom", S.connect)
    disconnect = confirm_button(
        "Disconnect", "Disconnect Zoom?",
        "The app's access is revoked at Zoom and your tokens are deleted. Upcoming Zoom meetings stay in Zoom but "
        "will no longer be updated; they are listed for your attention.", "Disconnect", S.disconnect,
        color="red", variant="soft")
    return rx.hstack(
        rx.match(S.status, ("connected", disconnect), ("needs_reconnect", disconnect), connect),
        rx.cond(S.status != "not_connected",
                rx.button("Refresh", rx.icon("refresh-cw", size=14), on_click=S.check_now, variant="soft",
                          loading=S.busy, aria_label="Refresh connection status")),
        spacing="3",
    )


def _meeting_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(S.notice != "", rx.callout.root(
            rx.callout.icon(rx.icon("info")),
            rx.hstack(rx.text(S.notice), rx.button("Dismiss", size="1", variant="soft", on_click=S.dismiss_notice),
                      align="center", spacing="3"),
            color_scheme="amber", role="status", width="100%", id="zoom-notice")),
        reconnect_banner(S.status == "needs_reconnect", S.last_error, S.connect),
        rx.heading("Telehealth integration (Zoom)", size="4", as_="h2"),
        rx.cond(
            ~S.allow_zoom,
            rx.callout("Your practice has not allowed Zoom integration. An owner or manager can allow it in "
                       "Practice settings.", icon="info", role="status", id="zoom-not-allowed"),
            rx.cond(~S.telehealth_enabled,
                    rx.callout("Telehealth is not enabled for you. An owner or manager can enable it in Practice "
                               "settings.", icon="info", role="status"),
                    rx.fragment()),
        ),
        _status(),
        rx.cond(S.allow_zoom & S.telehealth_enabled, _actions(),
                rx.cond(S.status != "not_connected", _actions())),
        rx.cond(S.needing_attention.length() > 0, rx.callout.root(
            rx.callout.icon(rx.icon("calendar-x")),
            rx.vstack(rx.text("These upcoming meetings need attention (they are no longer kept in step with Zoom):"),
                      rx.el.ul(rx.foreach(S.needing_attention, lambda m: rx.el.li(m))), align="start"),
            color_scheme="amber", width="100%")),
        rx.divider(),
        rx.heading("Default timezone", size="4", as_="h2"),
        rx.text("New meetings use this timezone unless you pick another.", color_scheme="gray"),
        rx.el.label("Default timezone", html_for="default-timezone", style={"font_weight": "500"}),
        rx.el.select(rx.foreach(S.timezone_options, lambda z: rx.el.option(z, value=z)), id="default-timezone",
                     value=S.timezone, on_change=S.save_timezone,
                     style={"padding": "0.4em", "border_radius": "6px", "max_width": "22em"}),
        spacing="4", align="start", width="100%", max_width="48em",
    )


def _session_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.card(rx.flex(
        rx.vstack(rx.text(row["what"], weight="bold"),
                  rx.text(row["place"], " · signed in ", row["since"], " · last active ", row["active"], size="2",
                          color_scheme="gray"),
                  spacing="1", align="start"),
        rx.spacer(),
        rx.cond(row["current"] == "1", rx.badge("This browser", color_scheme="green"),
                rx.button("Sign out", size="1", variant="soft", color_scheme="red",
                          on_click=X.end_session(row["id"].to(int)), aria_label="Sign out " + row["what"])),
        spacing="3", align="center", wrap="wrap", width="100%"), width="100%", class_name="signed-in-session")


def _mfa_section() -> rx.Component:
    code_form = rx.form(rx.hstack(
        rx.vstack(rx.el.label("Code from the app", html_for="mfa-code", style={"font_weight": "500"}),
                  rx.input(id="mfa-code", name="code", auto_complete="one-time-code", input_mode="numeric",
                           width="10em"), spacing="1"),
        rx.button("Turn on", type="submit"), align="end", spacing="3", wrap="wrap"),
        on_submit=X.confirm_mfa, reset_on_submit=True)
    off_form = rx.form(rx.hstack(
        rx.vstack(rx.el.label("Your password", html_for="mfa-password", style={"font_weight": "500"}),
                  rx.input(id="mfa-password", name="password", type="password", auto_complete="current-password",
                           width="14em"), spacing="1"),
        rx.button("Turn off two-step sign-in", type="submit", variant="soft", color_scheme="red"),
        align="end", spacing="3", wrap="wrap"), on_submit=X.disable_mfa, reset_on_submit=True)
    return rx.vstack(
        rx.heading("Two-step sign-in", size="4", as_="h2"),
        rx.cond(X.mfa_enabled,
                rx.vstack(rx.callout.root(rx.callout.icon(rx.icon("shield-check")), rx.callout.text(
                              "On: you sign in with your password and a code from your authenticator app. ",
                              X.codes_left, " recovery codes left."), color_scheme="green", id="mfa-on"),
                          rx.cond(X.mfa_required,
                                  rx.text("Your practice requires it, so it stays on. If you lose your phone, use a "
                                          "recovery code or ask the owner to reset it.", color_scheme="gray"),
                                  off_form), spacing="3", align="start"),
                rx.vstack(rx.text("Off. Add a second step to your sign-in with an authenticator app (TOTP)."),
                          rx.cond(X.enrolling,
                                  rx.vstack(rx.text("Scan this code with your authenticator app, or type the key into "
                                                    "it, then enter the 6-digit code it shows."),
                                            rx.image(src=X.qr, alt="QR code to scan with your authenticator app",
                                                     width="200px", height="200px", id="mfa-qr"),
                                            rx.text("Key: ", rx.code(X.secret, id="mfa-secret"), size="2"),
                                            code_form, spacing="3", align="start"),
                                  rx.button("Set up two-step sign-in", on_click=X.begin_mfa, id="mfa-begin")),
                          spacing="3", align="start")),
        rx.cond(X.recovery_codes.length() > 0, rx.callout.root(rx.callout.text(rx.vstack(
            rx.text("Your recovery codes: keep them somewhere safe (not on your phone). Each works once, instead "
                    "of a code. They are shown only now.", weight="bold"),
            rx.el.ul(rx.foreach(X.recovery_codes, lambda c: rx.el.li(rx.code(c))), id="recovery-codes"),
            rx.button("I have kept them", size="1", on_click=X.dismiss_codes), align="start")),
            color_scheme="amber", width="100%")),
        rx.cond(X.error != "", rx.callout(X.error, icon="triangle-alert", color_scheme="red", role="alert",
                                          id="security-error")),
        spacing="3", align="start", width="100%")


def _feed_controls(everyone: bool, live: rx.Var[bool], title: str, what: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="3", as_="h3"),
        rx.text(what, color_scheme="gray"),
        rx.hstack(
            rx.button(rx.cond(live, "Make a new link (the old one stops working)", "Make my calendar link"),
                      on_click=F.make(everyone), variant=rx.cond(live, "soft", "solid"),
                      id="feed-make-everyone" if everyone else "feed-make"),
            rx.cond(live, rx.button("Stop this feed", variant="soft", color_scheme="red", on_click=F.stop(everyone))),
            spacing="3", wrap="wrap"),
        spacing="2", align="start")


def _feed_tab() -> rx.Component:
    return rx.vstack(
        rx.text("Subscribe to your appointments in Google Calendar, Apple Calendar or Outlook with a private link. "
                "It shows 30 days back and 180 days ahead and follows every change. Anyone with the link sees "
                "what it shows: keep it to yourself."),
        rx.cond(F.may_have_own, _feed_controls(False, F.own, "My appointments", "Your own appointments.")),
        rx.cond(F.may_have_everyone, _feed_controls(True, F.everyone, "Everyone's appointments",
                                                    "Every practitioner's appointments (owner only).")),
        rx.cond(~F.may_have_own & ~F.may_have_everyone,
                rx.text("Calendar links are for practitioners and the owner.", color_scheme="gray")),
        rx.cond(F.url != "", rx.callout.root(rx.callout.text(rx.vstack(
            rx.text("Your new link (shown only now): add it as a calendar subscription ("
                    "Google Calendar: Other calendars → From URL).", weight="bold"),
            rx.code(F.url, id="feed-url", style={"overflow_wrap": "anywhere"}),
            rx.link("Open in your calendar app (webcal)", href=F.webcal, is_external=True),
            align="start")), color_scheme="green", width="100%")),
        rx.cond(F.may_have_everyone, rx.el.label(
            rx.switch(checked=F.full_names, on_change=F.set_full_names, id="feed-full-names"),
            " Name clients in full in calendar feeds (otherwise by their initials: a phone's calendar is seen by "
            "others)", style={"display": "flex", "gap": "0.5em", "align_items": "center"})),
        spacing="4", align="start", width="100%", max_width="48em", padding_top="1em")


def _security_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(X.mfa_available, _mfa_section()),
        rx.divider(),
        rx.heading("Where you are signed in", size="4", as_="h2"),
        rx.vstack(rx.foreach(X.sessions, _session_row), spacing="2", width="100%", id="signed-in-sessions"),
        rx.button("Sign out everywhere else", variant="soft", on_click=X.end_others, id="end-other-sessions"),
        spacing="4", align="start", width="100%", max_width="48em", padding_top="1em")


@rx.page(route="/profile", title="My profile · Telehealth",
         on_load=[AuthState.guard, ZoomTabState.load, ProfileDetailsState.load, SecurityState.load, FeedState.load])
def profile_page() -> rx.Component:
    return app_shell(
        "/profile", "My profile",
        rx.tabs.root(
            # Four tabs wrap onto two lines on a phone rather than widening the page.
            rx.tabs.list(rx.tabs.trigger("Meeting", value="meeting"), rx.tabs.trigger("Details", value="details"),
                         rx.tabs.trigger("Security", value="security"), rx.tabs.trigger("Calendar feed", value="feed"),
                         style={"flex_wrap": "wrap"}),
            rx.tabs.content(
                rx.box(rx.cond(S.has_profile, _meeting_tab(),
                               rx.callout("You are not set up as a practitioner, so there is no Zoom connection "
                                          "to manage here.", icon="info")), padding_top="1em"),
                value="meeting"),
            rx.tabs.content(
                rx.vstack(rx.text("Name: ", AuthState.user_name), rx.text("Role: ", AuthState.user_role),
                          rx.cond(ProfileDetailsState.has_details, rx.vstack(
                              rx.divider(), profile_fields(ProfileDetailsState, with_timezone=False),
                              rx.button("Save profile", on_click=ProfileDetailsState.save),
                              spacing="3", align="start", width="100%", max_width="32em")),
                          padding_top="1em", spacing="3"),
                value="details"),
            rx.tabs.content(_security_tab(), value="security"),
            rx.tabs.content(_feed_tab(), value="feed"),
            default_value="meeting", width="100%",
        ),
    )


@rx.page(route="/profile/zoom-review", title="Zoom connection · Telehealth",
         on_load=[AuthState.guard, ZoomReviewState.load])
def zoom_review_page() -> rx.Component:
    R = ZoomReviewState
    return app_shell(
        "/profile/zoom-review", "Zoom connection",
        rx.card(rx.vstack(
            rx.heading(R.title, size="5", as_="h2", id="zoom-review-title"),
            rx.cond(R.error != "", rx.callout(R.error, icon="circle-alert", color_scheme="red", role="alert")),
            rx.cond(R.granted.length() > 0, rx.vstack(
                rx.text("You granted the app access to:", weight="bold"),
                rx.el.ul(rx.foreach(R.granted, lambda s: rx.el.li(s)), style={"padding_left": "1.25em"}),
                rx.text("Nothing else about your Zoom account is stored: only its user and account ids, and the "
                        "encrypted access tokens.", color_scheme="gray"),
                align="start")),
            rx.link(rx.button("Done"), href=R.back_to),
            spacing="3", align="start"), max_width="44em"),
    )
