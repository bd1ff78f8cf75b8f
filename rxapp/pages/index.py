"""The root path sends people to their home page or to sign in."""

from __future__ import annotations

import reflex as rx

from rxapp.state.index import IndexState


@rx.page(route="/", title="Telehealth", on_load=IndexState.route)
def index() -> rx.Component:
    return rx.center(rx.spinner(), min_height="50vh")
