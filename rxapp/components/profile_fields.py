"""The practitioner profile fields (display name, credentials, timezone, default length), used by
My profile and by the Team page's edit dialog. `state` has `edit_*` vars, `edit_errors`,
`timezone_options` (with the timezone) and a `set_edit(field, value)` handler."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rxapp.state.profile import CREDENTIALS_MAX, MAX_LENGTH_MINUTES, MIN_LENGTH_MINUTES, NAME_MAX


def _error(state: Any, name: str) -> rx.Component:
    return rx.cond(state.edit_errors.contains(name),
                   rx.text(state.edit_errors[name], color_scheme="red", size="2", role="alert",
                           id=f"profile-{name}-error"))


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, style={"font_weight": "500"})


def _timezone(state: Any) -> rx.Component:
    return rx.vstack(
        _label("Timezone", "profile-timezone"),
        rx.el.select(rx.foreach(state.timezone_options, lambda z: rx.el.option(z, value=z)), id="profile-timezone",
                     value=state.edit_timezone, on_change=lambda v: state.set_edit("timezone", v),
                     style={"padding": "0.4em", "border_radius": "6px", "max_width": "22em"}),
        _error(state, "timezone"),
        spacing="2", align="start")


def profile_fields(state: Any, with_timezone: bool = True) -> rx.Component:
    """The fields; My profile leaves the timezone out (its Meeting tab sets it)."""
    return rx.vstack(
        _label("Display name (shown to clients)", "profile-display-name"),
        rx.input(id="profile-display-name", value=state.edit_display_name, max_length=NAME_MAX,
                 placeholder="e.g. Dr. Dana Lee", on_change=lambda v: state.set_edit("display_name", v),
                 width="100%"),
        _error(state, "display_name"),
        _label("Credentials (shown to clients)", "profile-credentials"),
        rx.input(id="profile-credentials", value=state.edit_credentials, max_length=CREDENTIALS_MAX,
                 placeholder="e.g. PhD, Licensed Psychologist", on_change=lambda v: state.set_edit("credentials", v),
                 width="100%"),
        _error(state, "credentials"),
        _timezone(state) if with_timezone else rx.fragment(),
        _label("Default appointment length (minutes)", "profile-length"),
        rx.input(id="profile-length", type="number", min=MIN_LENGTH_MINUTES, max=MAX_LENGTH_MINUTES, step=5,
                 value=state.edit_length, on_change=lambda v: state.set_edit("length", v), width="8em"),
        rx.text(f"From {MIN_LENGTH_MINUTES} to {MAX_LENGTH_MINUTES} minutes; new appointments start with this "
                "length.", size="2", color_scheme="gray"),
        _error(state, "default_length_minutes"),
        spacing="2", align="start", width="100%",
    )
