"""Clients page state."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services import accounts, clients
from rxapp.services.permissions import Action, NotAllowed
from rxapp.state.auth import AuthState


def _invite_label(has_account: bool, invited: bool) -> str:
    """A client who already signs in gets a password reset, never an invite (which would replace it)."""
    if has_account:
        return "Send password reset"
    return "Resend portal invite" if invited else "Send portal invite"


class ClientsState(AuthState):
    rows: list[dict[str, str]] = []
    search: str = ""
    inviting: int = -1
    # Client ids stay on the server; the page refers to rows by index.
    _client_ids: list[int] = []

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.VIEW_CLIENTS)
        except NotAllowed:
            self.rows, self._client_ids = [], []
            return
        found = await asyncio.to_thread(clients.list_clients, principal, self.search)
        ids = [r.id for r in found]
        invited = await asyncio.to_thread(accounts.clients_with_open_invites, principal, ids)
        self._client_ids = ids
        self.rows = [{"name": r.name, "email": r.email, "phone": r.phone, "timezone": r.timezone,
                      "trusted": r.trusted, "has_portal": str(r.has_portal),
                      "invite_label": _invite_label(r.has_portal, r.id in invited)}
                     for r in found]

    @rx.event
    async def set_search(self, value: str):
        self.search = value[:100]
        await self.load()

    @rx.event
    async def send_invite(self, index: int):
        try:
            principal = await self._require(Action.SEND_PORTAL_INVITE)
        except NotAllowed:
            yield rx.toast.error("You are not allowed to send portal invites.")
            return
        if not 0 <= index < len(self._client_ids):
            yield rx.toast.error("That client is no longer listed. Search again.")
            return
        self.inviting = index
        yield
        try:
            sent = await asyncio.to_thread(accounts.send_portal_invite, principal, self._client_ids[index])
        except accounts.InviteRefused as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.inviting = -1
        if sent.password_reset:
            self.rows[index]["has_portal"], self.rows[index]["invite_label"] = "True", _invite_label(True, False)
            yield rx.toast.success(f"Password reset link sent to {sent.client_name} at {sent.email}.")
            return
        self.rows[index]["invite_label"] = _invite_label(False, True)
        yield rx.toast.success(f"Portal invite sent to {sent.client_name} at {sent.email}.")
