"""Check my camera and microphone: a disclosure in the waiting room whose checks all run in the browser
(assets/device_check.js: camera preview, microphone level, a test tone, a connection check). This
renders the parts once; the script fills them in and stops the camera and microphone when the panel
closes or the page goes away. No state: nothing about the client's devices reaches the server."""

from __future__ import annotations

import reflex as rx

TOUCH = "44px"  # the smallest touch target


def _button(label: str, element_id: str, **props: object) -> rx.Component:
    return rx.button(label, id=element_id, type="button", size="3", min_height=TOUCH, **props)


def _meter() -> rx.Component:
    """The microphone's level, 0 to 100 (role meter, aria-valuenow kept current by the script)."""
    return rx.vstack(
        rx.text("Microphone level", id="device-check-level-label", weight="medium", as_="p"),
        rx.el.div(
            rx.el.div(id="device-check-level-bar",
                      style={"height": "100%", "width": "0%", "background": "var(--green-9)",
                             "border_radius": "inherit", "transition": "width 80ms linear"}),
            id="device-check-level", custom_attrs={"role": "meter"}, aria_labelledby="device-check-level-label",
            aria_valuemin="0", aria_valuemax="100", aria_valuenow="0", aria_valuetext="Silent",
            style={"height": "14px", "width": "100%", "background": "var(--gray-a4)",
                   "border_radius": "7px", "overflow": "hidden"}),
        rx.text("Say something: the bar should move when you speak.", size="2", color_scheme="gray"),
        spacing="1", width="100%")


def _camera_and_microphone() -> rx.Component:
    return rx.el.div(rx.vstack(
        rx.el.video(id="device-check-video", muted=True, plays_inline=True, auto_play=True,
                    aria_label="Your camera's picture",
                    style={"width": "100%", "max_width": "24em", "aspect_ratio": "4 / 3", "object_fit": "cover",
                           "background": "var(--gray-a3)", "border_radius": "var(--radius-3)",
                           "transform": "scaleX(-1)"}),  # a mirror, as people expect to see themselves
        _meter(),
        spacing="3", width="100%"), id="device-check-live", style={"width": "100%"})


def _steps(heading: str, *steps: str) -> rx.Component:
    return rx.box(
        rx.text(heading, weight="bold", as_="p"),
        rx.el.ul(*[rx.el.li(step) for step in steps],
                 style={"list_style": "disc", "padding_left": "1.25em", "margin": "0.25em 0 0"}),
        width="100%")


def _help() -> rx.Component:
    """Shown when the browser refuses (the title and first line are set by the script to the reason)."""
    return rx.el.div(rx.vstack(
        rx.heading("Your camera or microphone is blocked", as_="h3", size="3", id="device-check-help-title"),
        rx.text("", id="device-check-help-reason", as_="p"),
        _steps("On an iPhone or iPad",
               "For the Zoom app: open Settings > Zoom and turn on Microphone and Camera.",
               "For this page in Safari: open Settings > Safari > Camera and Microphone, and choose Allow.",
               "Then come back here and tap Try again."),
        _steps("On an Android phone (Chrome)",
               "Tap the lock icon left of the web address, then Permissions, and allow Camera and Microphone.",
               "For the Zoom app: open Settings > Apps > Zoom > Permissions and allow both."),
        _steps("On a computer (Chrome, Edge, Firefox or Safari)",
               "Click the camera icon or the lock icon in the address bar and allow the camera and microphone "
               "for this site.",
               "In Safari on a Mac: Safari > Settings for this website. Also check System Settings > "
               "Privacy & Security > Camera and Microphone.",
               "Close other apps that may be using the camera, such as Zoom, Teams or FaceTime."),
        _button("Try again", "device-check-retry"),
        spacing="3", width="100%"),
        id="device-check-help", hidden=True,
        style={"width": "100%", "border_left": "4px solid var(--amber-9)", "padding_left": "0.75em"})


def _result(element_id: str) -> rx.Component:
    return rx.text("", id=element_id, as_="p", role="status", aria_live="polite", width="100%")


def _panel() -> rx.Component:
    # A plain div: the [hidden] attribute would lose to a Radix Flex's display rule.
    return rx.el.div(rx.vstack(
        rx.heading("Camera and microphone check", as_="h2", size="4", id="device-check-title"),
        rx.text("Your picture and sound stay on this device: nothing is recorded or sent anywhere.",
                color_scheme="gray", as_="p"),
        _result("device-check-status"),
        _camera_and_microphone(),
        _help(),
        rx.heading("Speaker", as_="h3", size="3"),
        _button("Play test sound", "device-check-sound", variant="soft"),
        _result("device-check-sound-result"),
        rx.heading("Connection", as_="h3", size="3"),
        _button("Check connection", "device-check-connection", variant="soft"),
        _result("device-check-connection-result"),
        _button("Stop the check", "device-check-close", variant="outline", color_scheme="gray"),
        spacing="3", width="100%"),
        id="device-check-panel", role="region", aria_labelledby="device-check-title", hidden=True,
        style={"width": "100%", "margin_top": "1em"})


def device_check() -> rx.Component:
    """The button and the panel it opens (closed at first)."""
    return rx.card(
        rx.script(src="/device_check.js"),
        _button("Check my camera and microphone", "device-check-toggle", aria_expanded="false",
                aria_controls="device-check-panel", variant="soft"),
        _panel(),
        width="100%", max_width="40em")
