"""Clients page state: the list (search, archived toggle, pages) and the Add client / Edit form."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, fields
from typing import Any

import reflex as rx

from rxapp.services.clients import directory
from rxapp.services.clients import records as client_records
from rxapp.services.clients.records import ClientForm, ClientInvalid, ClientNotFound
from rxapp.services.identity import accounts
from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.state.auth import AuthState
from rxapp.state.keyset_pages import KeysetPages

SEARCH_MAX = 100
FORM_FIELDS = frozenset(f.name for f in fields(ClientForm))


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


class ClientFormState(AuthState):
    """The Add client / Edit dialog, on the Clients page and on a client's page. What was typed stays
    in the form until it is saved, whatever the errors."""

    open: bool = False
    editing: bool = False  # Edit (a saved client) rather than Add client
    errors: dict[str, str] = {}
    saving: bool = False
    notice: str = ""  # what the last save (and invite) did, shown on the page
    first_name: str = ""
    last_name: str = ""
    preferred_name: str = ""
    email: str = ""
    phone: str = ""
    timezone: str = ""
    date_of_birth: str = ""
    notes: str = ""
    _client_id: int = 0  # the client being edited, set by open_edit after the server's check

    @rx.var
    def notes_count(self) -> str:
        return f"{len(self.notes):,} / {client_records.NOTES_LIMIT:,} characters"

    def _fill(self, form: ClientForm) -> None:
        for name, value in asdict(form).items():
            setattr(self, name, value)

    @rx.event
    async def open_add(self):
        try:
            principal = await self._require(Action.MANAGE_CLIENTS)
        except NotAllowed:
            return rx.toast.error("You are not allowed to add clients.")
        self._fill(await asyncio.to_thread(client_records.new_client_form, principal))
        self._client_id, self.editing, self.errors, self.notice, self.open = 0, False, {}, "", True
        return None

    @rx.event
    async def open_edit(self, client_id: int):
        try:
            principal = await self._require(Action.MANAGE_CLIENTS)
            form = await asyncio.to_thread(client_records.edit_form, principal, client_id)
        except NotAllowed:
            return rx.toast.error("You are not allowed to change client records.")
        except ClientNotFound as exc:
            return rx.toast.error(str(exc))
        self._fill(form)
        self._client_id, self.editing, self.errors, self.notice, self.open = client_id, True, {}, "", True
        return None

    @rx.event
    def set_open(self, value: bool):
        """The dialog's own close (Escape, Cancel): what was typed is dropped with it."""
        self.open = bool(value)

    @rx.event
    def set_field(self, name: str, value: str):
        if name in FORM_FIELDS:
            setattr(self, name, str(value)[:client_records.NOTES_LIMIT + 500])
            self.errors = {k: v for k, v in self.errors.items() if k != name}

    def _form(self) -> ClientForm:
        return ClientForm(**{name: getattr(self, name) for name in FORM_FIELDS})

    @rx.event
    async def save(self):
        async for event in self._save(invite=False):
            yield event

    @rx.event
    async def save_and_invite(self):
        async for event in self._save(invite=True):
            yield event

    async def _save(self, invite: bool):
        if self.saving or not self.open:  # a second click queued behind the save that closed the form
            return
        try:
            principal = await self._require(Action.MANAGE_CLIENTS)
        except NotAllowed:
            yield rx.toast.error("You are not allowed to change client records.")
            return
        self.saving = True
        yield
        try:
            client_id = await self._write(principal)
        except ClientInvalid as exc:
            self.errors = exc.errors
            yield rx.toast.error("Check the highlighted fields: nothing was saved yet.")
            return
        except ClientNotFound as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.saving = False
        name = f"{self.preferred_name.strip() or self.first_name.strip()} {self.last_name.strip()}"
        notice = f"Saved {name}."
        if invite:
            notice += " " + await self._invite(principal, client_id)
        self.open, self.errors, self.notice = False, {}, notice
        await self._refresh_pages(client_id)
        yield rx.toast.success(notice)

    async def _write(self, principal: Principal) -> int:
        if self.editing:
            await asyncio.to_thread(client_records.update_client, principal, self._client_id, self._form())
            return self._client_id
        return await asyncio.to_thread(client_records.add_client, principal, self._form())

    @staticmethod
    async def _invite(principal: Principal, client_id: int) -> str:
        try:
            sent = await asyncio.to_thread(accounts.send_portal_invite, principal, client_id)
        except accounts.InviteRefused as exc:
            return f"The portal invite was not sent: {exc}"
        return invite_outcome(sent)

    async def _refresh_pages(self, client_id: int) -> None:
        """The list, and the client's page when that is where the form was opened."""
        from rxapp.state.client_record import ClientRecordState  # the record page's state imports this one

        if self._path() == "/clients":
            await (await self.get_state(ClientsState)).load()
        else:
            record = await self.get_state(ClientRecordState)
            if record.client_id_shown == client_id:
                await record.load()
