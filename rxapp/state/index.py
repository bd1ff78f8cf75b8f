"""The root path's state: sends people to their home page or to sign in."""

from __future__ import annotations

import reflex as rx

from rxapp.services.permissions import home_path
from rxapp.state.auth import AuthState


class IndexState(AuthState):
    @rx.event
    async def route(self):
        principal = await self._principal()
        return rx.redirect(home_path(principal) if principal else "/login", replace=True)
