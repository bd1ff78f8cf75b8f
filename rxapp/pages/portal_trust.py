"""Portal: My practitioners — the client chooses which practitioners they trust."""

from __future__ import annotations

import reflex as rx

from rxapp.components.shell import app_shell, empty_state
from rxapp.state.auth import AuthState
from rxapp.state.portal_trust import PortalTrustState


def _choice(row: rx.Var[dict[str, str]]) -> rx.Component:
    switch_id = "trust-" + row["id"]
    return rx.card(
        rx.hstack(
            rx.switch(id=switch_id, checked=row["trusted"] == "1",
                      on_change=lambda on: PortalTrustState.toggle_trust(row["id"].to(int), on)),
            rx.el.label(row["name"], html_for=switch_id, style={"font_weight": "500"}),
            align="center", spacing="3",
        ),
        width="100%",
    )


@rx.page(route="/portal/practitioners", title="My practitioners · Telehealth",
         on_load=[AuthState.guard, PortalTrustState.load])
def portal_trust_page() -> rx.Component:
    return app_shell(
        "/portal/practitioners", "My practitioners",
        rx.text("Turn on the practitioners you trust. Only they can schedule telehealth sessions with you.",
                color_scheme="gray"),
        rx.cond(
            PortalTrustState.problem != "",
            rx.callout(PortalTrustState.problem, icon="triangle-alert", color_scheme="red", role="alert"),
            rx.cond(
                PortalTrustState.choices.length() > 0,
                rx.vstack(rx.foreach(PortalTrustState.choices, _choice), spacing="2", width="100%",
                          max_width="32em"),
                empty_state("No telehealth practitioners yet",
                            "Practitioners who offer telehealth sessions will be listed here.", icon="users"),
            ),
        ),
    )
