"""Pages whose features arrive in later releases: honest empty states, no dead buttons."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState


@rx.page(route="/calendar", title="Calendar · Telehealth", on_load=AuthState.guard)
def calendar_page() -> rx.Component:
    return app_shell("/calendar", "Calendar", empty_state(
        "No appointments to show",
        "The practice calendar will list appointments here. Booking from the calendar is not available yet.",
        icon="calendar"))


@rx.page(route="/meetings", title="Meetings · Telehealth", on_load=AuthState.guard)
def meetings_page() -> rx.Component:
    return app_shell("/meetings", "Meetings", empty_state(
        "No meetings yet", "Telehealth meetings you schedule will be listed here.", icon="video"))


@rx.page(route="/settings", title="Practice settings · Telehealth", on_load=AuthState.guard)
def settings_page() -> rx.Component:
    return app_shell("/settings", "Practice settings", empty_state(
        "Nothing to configure yet", "Zoom, telehealth and reminder settings of the practice will be here.",
        icon="settings"))


@rx.page(route="/profile", title="My profile · Telehealth", on_load=AuthState.guard)
def profile_page() -> rx.Component:
    return app_shell("/profile", "My profile", empty_state(
        "Meeting tab", "Your Zoom connection will be managed here.", icon="user"))


@rx.page(route="/portal", title="My sessions · Telehealth", on_load=AuthState.guard)
def portal_page() -> rx.Component:
    return app_shell("/portal", "My sessions", empty_state(
        "No upcoming sessions", "Sessions your practitioner schedules for you will be listed here.",
        icon="calendar-clock"))
