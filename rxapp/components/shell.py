"""The app shell: role-based navigation, the signed-in user, Sign out, and the page guard."""

from __future__ import annotations

import reflex as rx

from rxapp.state.auth import AuthState


def _nav_link(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.link(item["label"], href=item["path"], size="3", weight="medium", color_scheme="gray",
                   padding_y="0.35em", width="100%")


def not_allowed() -> rx.Component:
    return rx.callout(
        "You are not allowed to open this page. Use the navigation to go to a page of your own.",
        icon="shield-alert", color_scheme="red", role="alert", id="not-allowed",
    )


def checking() -> rx.Component:
    return rx.hstack(rx.spinner(size="2"), rx.text("Loading…"), role="status", aria_live="polite")


def empty_state(title: str, body: str, icon: str = "inbox") -> rx.Component:
    """An honest empty state: says what will be here and what to do, offers no dead buttons."""
    return rx.card(rx.vstack(rx.icon(icon, size=28, aria_hidden="true"), rx.heading(title, size="4", as_="h2"),
                             rx.text(body, color_scheme="gray"), align="center", spacing="2", padding="2em"),
                   width="100%")


def _menu_item(item: rx.Var[dict[str, str]]) -> rx.Component:
    # A client-side route change (no page reload), like the sidebar's links.
    return rx.menu.item(item["label"], on_select=rx.redirect(item["path"]))


def _phone_menu() -> rx.Component:
    """On phones the sidebar collapses into this menu (shown by assets/app.css below 768 px)."""
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("menu", size=16, aria_hidden="true"), "Menu", variant="soft",
                                  color_scheme="gray", class_name="app-menu", id="app-menu-button")),
        rx.menu.content(rx.foreach(AuthState.nav, _menu_item), aria_label="Main navigation"),
    )


def app_shell(path: str | rx.Var[str], title: str, *content: rx.Component) -> rx.Component:
    """A signed-in page. `content` shows only once the server allowed `path` for this user (a page
    of a dynamic route passes the path its state was loaded for)."""
    return rx.fragment(
        rx.el.a("Skip to main content", href="#main-content", class_name="skip-link"),
        rx.hstack(
            rx.el.nav(
                rx.vstack(
                    rx.text("Telehealth", size="5", weight="bold", as_="p", margin_bottom="0.5em"),
                    rx.foreach(AuthState.nav, _nav_link),
                    spacing="1", padding="1.25em", min_width="13em",
                ),
                aria_label="Main navigation", id="main-nav", class_name="app-sidebar",
                style={"border_right": "1px solid var(--gray-a5)", "min_height": "100vh"},
            ),
            rx.el.main(
                rx.vstack(
                    rx.hstack(
                        _phone_menu(),
                        rx.heading(title, size="6", as_="h1"),
                        rx.spacer(),
                        rx.cond(AuthState.user_name != "",
                                rx.text(AuthState.user_name, " · ", AuthState.user_role, color_scheme="gray",
                                        id="signed-in-user")),
                        rx.button("Sign out", on_click=AuthState.sign_out, variant="soft"),
                        width="100%", align="center", class_name="app-header",
                    ),
                    rx.cond(
                        AuthState.allowed_path == path,
                        rx.fragment(*content),
                        rx.cond(AuthState.denied_path == path, not_allowed(), checking()),
                    ),
                    spacing="4", width="100%", padding="1.5em", class_name="app-main-body",
                ),
                id="main-content", tab_index=-1, class_name="app-main",
            ),
            align="start", spacing="0", width="100%",
        ),
    )
