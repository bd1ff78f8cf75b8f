"""The Add client / Edit dialog's state (components/client_form.py), on the Clients page and on a
client's page."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, fields

import reflex as rx

from rxapp.services.clients import records as client_records
from rxapp.services.clients.records import NAME_LIMIT as NAME_LIMIT  # re-exported for the dialog
from rxapp.services.clients.records import NOTES_LIMIT as NOTES_LIMIT  # re-exported for the dialog
from rxapp.services.clients.records import ClientForm, ClientInvalid, ClientNotFound
from rxapp.services.identity import accounts
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.timezones import all_timezones as all_timezones  # re-exported for the dialog
from rxapp.state.auth import AuthState
from rxapp.state.client_record import ClientRecordState
from rxapp.state.clients import ClientsState, invite_outcome

FORM_FIELDS = frozenset(f.name for f in fields(ClientForm))


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

    @rx.event
    def clear_notice(self):
        """Another action on the page (archive, restore) makes the last save's notice stale."""
        self.notice = ""

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
        if self._path() == "/clients":
            await (await self.get_state(ClientsState)).load()
        else:
            record = await self.get_state(ClientRecordState)
            if record.client_id_shown == client_id:
                await record.load()
