"""Clients page state: the list (search, archived toggle, pages), archive and restore, invites."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from rxapp.services.clients import directory
from rxapp.services.clients import records as client_records
from rxapp.services.clients.records import ClientNotFound
from rxapp.services.identity import accounts
from rxapp.services.permissions import Action, NotAllowed, can
from rxapp.state.auth import AuthState
from rxapp.state.keyset_pages import KeysetPages

SEARCH_MAX = 100


def _invite_label(has_account: bool, invited: bool) -> str:
    """A client who already signs in gets a password reset, never an invite (which would replace it)."""
    if has_account:
        return "Send password reset"
    return "Resend portal invite" if invited else "Send portal invite"


def invite_outcome(sent: accounts.InviteSent) -> str:
    if sent.password_reset:
        return f"Password reset link sent to {sent.client_name} at {sent.email}."
    return f"Portal invite sent to {sent.client_name} at {sent.email}."


class ClientsState(KeysetPages, AuthState):
    rows: list[dict[str, str]] = []
    search: str = ""
    show_archived: bool = False
    can_manage: bool = False
    inviting: int = 0  # id of the client whose invite is being sent

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.VIEW_CLIENTS)
        except NotAllowed:
            self.rows = []
            return
        self.can_manage = can(principal, Action.MANAGE_CLIENTS)
        page = await asyncio.to_thread(directory.list_clients, principal, self.search, archived=self.show_archived,
                                       after=self._after, before=self._before)
        self._show_page(page.has_previous, page.has_next, page.previous_cursor, page.next_cursor)
        invited = set()
        if can(principal, Action.SEND_PORTAL_INVITE):
            invited = await asyncio.to_thread(accounts.clients_with_open_invites, principal,
                                              [r.id for r in page.rows])
        self.rows = [{"id": str(r.id), "name": r.name, "email": r.email, "phone": r.phone, "timezone": r.timezone,
                      "trusted": r.trusted, "has_portal": str(r.has_portal), "archived": "1" if r.archived else "",
                      "invite_label": _invite_label(r.has_portal, r.id in invited)}
                     for r in page.rows]

    async def _apply_page(self) -> Any:
        await self.load()

    @rx.event
    async def set_search(self, value: str):
        self.search = value[:SEARCH_MAX]
        self.page, self._after, self._before = 1, "", ""
        await self.load()

    @rx.event
    async def set_show_archived(self, value: bool):
        self.show_archived = bool(value)
        self.page, self._after, self._before = 1, "", ""
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
        yield rx.toast.success(invite_outcome(sent))

    @rx.event
    async def restore(self, client_id: int):
        """Restore an archived client from the archived list (by id; the service re-checks)."""
        message = await restore_client(self, client_id)
        await self.load()
        return message


async def archive_or_restore(state: AuthState, client_id: int, archived: bool) -> rx.event.EventSpec:
    """Archive or restore the client with this id for the signed-in user; a toast says what happened."""
    try:
        principal = await state._require(Action.MANAGE_CLIENTS)
        name = await asyncio.to_thread(client_records.set_archived, principal, client_id, archived)
    except NotAllowed:
        return rx.toast.error("You are not allowed to change client records.")
    except ClientNotFound as exc:
        return rx.toast.error(str(exc))
    if archived:
        return rx.toast.success(f"{name} is archived: hidden from lists and pickers, history kept.")
    return rx.toast.success(f"{name} is restored.")


async def restore_client(state: AuthState, client_id: int) -> rx.event.EventSpec:
    return await archive_or_restore(state, client_id, archived=False)
