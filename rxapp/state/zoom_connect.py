"""Starting the Zoom OAuth flow from any page (Meeting tab, practice settings, banners)."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import NotAllowed, Principal
from rxapp.services.telehealth.zoom import connections
from rxapp.services.telehealth.zoom.errors import ZoomNotConnected
from rxapp.state.auth import AuthState


async def start_zoom_connect(state: AuthState, principal: Principal, practitioner_id: int) -> rx.event.EventSpec:
    """Send the browser to Zoom's sign-in and consent, or explain why not."""
    try:
        url = await asyncio.to_thread(connections.begin_connect, principal, practitioner_id, state._session_token())
    except ZoomNotConnected as exc:
        return rx.toast.error(str(exc))
    except NotAllowed:
        return rx.toast.error("You are not allowed to connect Zoom for this practitioner.")
    return rx.redirect(url)
