"""Client portal: My sessions, and the waiting room whose spinner becomes Join session."""

from __future__ import annotations

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from rxapp.components.device_check import device_check
from rxapp.components.shell import app_shell, empty_state
from rxapp.components.visits import visit_list
from rxapp.components.waitlist import waitlist_section
from rxapp.state.auth import AuthState
from rxapp.state.portal import KEEP_ALIVE_MS, SAFETY_POLL_MS, PortalState, WaitingRoomState
from rxapp.state.portal_book import PortalChangeState
from rxapp.state.waitlist import WaitlistState

P, W = PortalState, WaitingRoomState


def _cancel_button(appointment_id: rx.Var[int]) -> rx.Component:
    """Cancel, asked first, with an optional reason the practice reads (the server re-checks the id)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Cancel appointment", color_scheme="red", size="1", variant="soft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel this appointment?"),
            rx.alert_dialog.description("Your practitioner's time is freed for someone else and you get an email."),
            rx.el.label("Reason (optional)", html_for="cancel-reason", style={"font_weight": "500"}),
            rx.text_area(id="cancel-reason", value=PortalChangeState.cancel_reason, width="100%", rows="2",
                         max_length=300, on_change=PortalChangeState.set_cancel_reason),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Cancel appointment", color_scheme="red",
                                                 on_click=PortalChangeState.cancel(appointment_id))),
                spacing="3", justify="end", margin_top="1em", wrap="wrap",
            ),
        ),
        # Each opening starts with an empty reason (the dialog's Cancel action reads it before this runs).
        on_open_change=lambda _open: PortalChangeState.set_cancel_reason(""),
    )


def _actions(row: rx.Var[dict[str, str]]) -> rx.Component:
    """An upcoming visit's actions: the waiting room for telehealth (Launch within the window), and
    Reschedule and Cancel while it is booked; each sends the appointment's id and the server checks
    it is the client's own and outside the practice's cancellation window."""
    appointment_id = row["id"].to(int)
    return rx.hstack(
        rx.cond(row["href"] != "", rx.cond(
            row["launch"] == "1",
            rx.link(rx.text("Launch telehealth session"), href=row["href"], weight="bold", size="4"),
            rx.link("Open waiting room", href=row["href"]))),
        rx.cond(row["change"] == "1", rx.hstack(
            rx.button("Reschedule", size="1", variant="soft", on_click=PortalChangeState.reschedule(appointment_id),
                      aria_label="Reschedule the appointment on " + row["when"]),
            _cancel_button(appointment_id),
            spacing="2", wrap="wrap", class_name="portal-change")),
        spacing="3", wrap="wrap", align="center", width="100%")


def _visits() -> rx.Component:
    """Each visit once: upcoming ones with their actions, cancelled future ones under their own
    heading (with the reason), then past ones."""
    return rx.vstack(
        rx.cond(PortalChangeState.problem != "",
                rx.callout(PortalChangeState.problem, icon="phone", color_scheme="amber", role="alert",
                           id="portal-change-problem", width="100%")),
        rx.cond(P.upcoming.length() > 0,
                visit_list("Upcoming appointments", P.upcoming, "", "portal-upcoming", _actions),
                empty_state("No upcoming appointments", "Visits you book or your practice books for you are "
                            "listed here. You can join a telehealth session from 15 minutes before the start.",
                            icon="calendar-clock")),
        waitlist_section("Waitlist", "Want a sooner time? Join the waitlist: when a matching time opens you are "
                         "offered it by email and text, and the first to book it gets it."),
        visit_list("Cancelled", P.cancelled, None, "portal-cancelled"),
        visit_list("Past appointments", P.past, "No past appointments yet.", "portal-past"),
        spacing="4", width="100%")


@rx.page(route="/portal", title="My sessions · Telehealth",
         on_load=[AuthState.guard, P.load, PortalChangeState.clear, WaitlistState.load])
def portal_page() -> rx.Component:
    return app_shell(
        "/portal", "My sessions",
        rx.hstack(rx.text("Times are shown in ", P.timezone, "."), rx.spacer(),
                  rx.link("Book a session", href="/portal/book", id="book-a-session", weight="bold"),
                  rx.link("My practitioners", href="/portal/practitioners"), width="100%", wrap="wrap"),
        _visits(),
        # Changes are pushed; this timer only follows the clock (next launch window or end) and, while push
        # is unavailable, looks again every 30 s. Keyed by its interval so a new interval restarts it.
        rx.cond(has_connection_errors | ~P.push_ready,
                rx.moment(interval=SAFETY_POLL_MS, on_change=P.refresh, display="none", key="safety-poll"),
                rx.moment(interval=P.next_change_ms, on_change=P.refresh, display="none",
                          key=P.next_change_ms.to_string())),
    )


def _waiting_body() -> rx.Component:
    return rx.match(
        W.status,
        ("live", rx.vstack(
            rx.icon("video", size=36, color="var(--green-9)", aria_hidden="true"),
            rx.heading("Your provider has started the session", size="5", as_="h2"),
            rx.cond(W.join_href != "",
                    # /join/<token> is a server route: a document navigation, not client-side routing.
                    rx.link("Join session", href=W.join_href, reload_document=True, id="join-session",
                            class_name="rt-reset rt-BaseButton rt-r-size-4 rt-variant-solid rt-Button",
                            data_accent_color="green", underline="none", color_scheme="green",
                            style={"color": "white"}),
                    rx.spinner()),
            align="center", spacing="3")),
        ("ended", rx.callout("This session has ended.", icon="circle-check", role="status", id="session-ended")),
        ("cancelled", rx.callout("This session was cancelled. Your practice emailed you the reason.",
                                 icon="calendar-x", color_scheme="red", role="status", id="session-cancelled")),
        ("setting_up", rx.callout(
            "The video meeting for this session is still being set up, so your provider cannot start it yet. "
            "Your practice has been told; this page updates by itself when it is ready.",
            icon="wrench", color_scheme="amber", role="status", id="session-setting-up")),
        ("missing", rx.callout("This waiting room is not one of your sessions.", icon="shield-alert",
                               color_scheme="red", role="alert", id="session-missing")),
        ("loading", rx.spinner(size="3")),
        rx.vstack(
            rx.spinner(size="3"),
            rx.heading("Waiting for your provider to start the session", size="5", as_="h2", id="waiting-message"),
            rx.cond(W.late != "", rx.callout(W.late, icon="clock", color_scheme="amber", high_contrast=True,
                                                  id="running-late")),
            rx.text("Keep this page open: the Join session button appears here as soon as your provider starts.",
                    color_scheme="gray"),
            align="center", spacing="3", role="status", aria_live="polite"),
    )


@rx.page(route="/portal/waiting", title="Waiting room · Telehealth", on_load=[AuthState.guard, W.load])
def waiting_room_page() -> rx.Component:
    return app_shell(
        "/portal/waiting", "Waiting room",
        rx.card(rx.vstack(
            rx.cond(W.topic != "", rx.text(W.topic, " with ", W.practitioner, " · ", W.when, color_scheme="gray")),
            _waiting_body(),
            align="center", spacing="4", padding="2em", width="100%"), width="100%", max_width="40em"),
        # Camera, microphone, speaker and connection, checked in the browser while there is a session to join.
        rx.cond((W.status == "waiting") | (W.status == "live") | (W.status == "setting_up"), device_check()),
        rx.link("Back to My sessions", href="/portal"),
        # Changes are pushed the moment they happen, and a reconnect re-runs the page's load: while the
        # socket is up an idle room sends nothing but a keep-alive every 20 minutes. Only while push is
        # unavailable does it poll, slowly.
        rx.cond((W.status == "waiting") | (W.status == "live") | (W.status == "setting_up"),
                rx.cond(has_connection_errors | ~W.push_ready,
                        rx.moment(interval=SAFETY_POLL_MS, on_change=W.poll, display="none", key="safety-poll"),
                        rx.moment(interval=KEEP_ALIVE_MS, on_change=W.keep_alive, display="none",
                                  key="keep-alive"))),
    )
