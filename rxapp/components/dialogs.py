"""Confirmation dialogs and the Zoom reconnect banner, shared by pages."""

from __future__ import annotations

import reflex as rx


def confirm_button(label: str, title: str, description: str, confirm_label: str,
                   on_confirm: rx.EventHandler | list,
                   color: str | None = None, **button_props) -> rx.Component:
    """A button that asks before it acts (keyboard accessible: Radix alert dialog). `color`
    defaults to the theme's accent."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(label, color_scheme=color, **button_props)),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme=color, on_click=on_confirm)),
                spacing="3", justify="end", margin_top="1em",
            ),
        ),
    )


def reconnect_banner(visible: rx.Var[bool], detail: rx.Var[str], on_reconnect: rx.EventHandler) -> rx.Component:
    """Shown wherever telehealth work happens while Zoom refuses the practitioner's tokens."""
    return rx.cond(
        visible,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text("Error refreshing access token", weight="bold"),
                rx.text(detail),
                rx.button("Reconnect", on_click=on_reconnect, color_scheme="red"),
                spacing="2", align="start",
            ),
            color_scheme="red", role="alert", id="zoom-reconnect-banner", width="100%",
        ),
    )
