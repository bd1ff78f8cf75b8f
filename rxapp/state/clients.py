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
    inviting: int = 0  # id of the client whose invite is being sent

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.VIEW_CLIENTS)
        except NotAllowed:
            self.rows = []
            return
        found = await asyncio.to_thread(clients.list_clients, principal, self.search)
        ids = [r.id for r in found]
        invited = await asyncio.to_thread(accounts.clients_with_open_invites, principal, ids)
        self.rows = [{"id": str(r.id), "name": r.name, "email": r.email, "phone": r.phone, "timezone": r.timezone,
                      "trusted": r.trusted, "has_portal": str(r.has_portal),
                      "invite_label": _invite_label(r.has_portal, r.id in invited)}
                     for r in found]

    @rx.event
    async def set_search(self, value: str):
        self.search = value[:100]
        await self.load()

    @rx.event
    async def send_invite(self, client_id: int):
        """The row's client id, sent by the browser: the service re-checks practice and role."""
        try:
            principal = await self._require(Action.SEND_PORTAL_INVITE)
        except NotAllowed:
            yield rx.toast.error("You are not allowed to send portal invites.")
            return
        self.inviting = client_id
        yield
        try:
            sent = await asyncio.to_thread(accounts.send_portal_invite, principal, client_id)
        except accounts.InviteRefused as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.inviting = 0
        label = _invite_label(sent.password_reset, not sent.password_reset)
        has_portal = str(sent.password_reset)
        self.rows = [{**row, "invite_label": label, "has_portal": has_portal} if row["id"] == str(client_id) else row
                     for row in self.rows]
        if sent.password_reset:
            yield rx.toast.success(f"Password reset link sent to {sent.client_name} at {sent.email}.")
            return
        yield rx.toast.success(f"Portal invite sent to {sent.client_name} at {sent.email}.")
