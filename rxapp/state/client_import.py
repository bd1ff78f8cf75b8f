"""Clients → Import clients: upload a CSV, map its columns, check it (a dry run with each row's
problems), then import it in one go (services.clients.importing). The uploaded file waits in a private
temporary file of this browser's state, never in the state itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import reflex as rx

from rxapp.services.clients import importing
from rxapp.services.clients.importing import FIELD_LABELS as FIELD_LABELS  # re-exported for the page
from rxapp.services.clients.importing import FIELDS as FIELDS
from rxapp.services.permissions import Action, NotAllowed
from rxapp.state.auth import AuthState
from rxapp.state.clients import ClientsState

NONE = "-1"  # a field mapped to no column


class ClientImportState(AuthState):
    open: bool = False
    file_name: str = ""
    summary: str = ""  # encoding, separator, rows
    headers: list[dict[str, str]] = []  # value (column index), label
    mapping: dict[str, str] = {}  # field -> column index (NONE: not imported)
    update_existing: bool = False
    checked: bool = False
    result: str = ""  # what the dry run or the import found
    preview: list[dict[str, str]] = []  # line, name, email, action, problems
    problem: str = ""
    busy: bool = False
    _path: str = ""

    def _forget_file(self) -> None:
        if self._path:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
        self._path, self.file_name, self.summary, self.headers, self.mapping = "", "", "", [], {}
        self.checked, self.result, self.preview, self.problem = False, "", [], ""

    @rx.event
    def open_dialog(self):
        self._forget_file()
        self.open = True

    @rx.event
    def set_open(self, value: bool):
        self.open = value
        if not value:
            self._forget_file()

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """The chosen file: read its header and guess the mapping (nothing is imported yet)."""
        try:
            await self._require(Action.MANAGE_CLIENTS)
        except NotAllowed:
            self.problem = "Only the front desk, managers and the owner import clients."
            return
        self._forget_file()
        if not files:
            self.problem = "Choose a CSV file first."
            return
        data = await files[0].read(importing.MAX_BYTES + 1)
        try:
            sheet = await asyncio.to_thread(importing.read_sheet, data)
        except importing.ImportRefused as exc:
            self.problem = str(exc)
            return
        handle, path = tempfile.mkstemp(prefix="client-import-", suffix=".csv")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        chosen = getattr(files[0], "filename", None) or getattr(files[0], "name", None) or "clients.csv"
        self._path, self.file_name = path, str(chosen)[:120]
        separator = {",": "commas", ";": "semicolons", "\t": "tabs"}[sheet.delimiter]
        self.summary = f"{len(sheet.rows):,} rows · {sheet.encoding} · separated by {separator}"
        self.headers = [{"value": str(i), "label": h or f"Column {i + 1}"} for i, h in enumerate(sheet.headers)]
        guessed = importing.guess_mapping(sheet.headers)
        self.mapping = {f: str(guessed.get(f, NONE)) for f in FIELDS}

    @rx.event
    def set_column(self, field: str, column: str):
        if field in FIELDS and (column == NONE or column in {h["value"] for h in self.headers}):
            self.mapping = {**self.mapping, field: column}
            self.checked, self.result = False, ""

    @rx.event
    def set_update_existing(self, value: bool):
        self.update_existing, self.checked, self.result = bool(value), False, ""

    @rx.event
    async def check(self):
        async for update in self._run(dry_run=True):
            yield update

    @rx.event
    async def run_import(self):
        async for update in self._run(dry_run=False):
            yield update

    async def _run(self, dry_run: bool):
        principal = await self._require(Action.MANAGE_CLIENTS)
        if not self._path:
            self.problem = "Choose a CSV file first."
            return
        self.busy, self.problem = True, ""
        yield
        mapping = {f: int(c) for f, c in self.mapping.items() if c != NONE}
        try:
            data = Path(self._path).read_bytes()
            outcome = await asyncio.to_thread(importing.import_clients, principal, data, mapping,
                                              update_existing=self.update_existing, dry_run=dry_run)
        except importing.ImportRefused as exc:
            self.problem = str(exc)
            return
        except OSError:
            self.problem = "The uploaded file is gone: choose it again."
            return
        finally:
            self.busy = False
        verb = "would be" if dry_run else "were"
        self.result = (f"{outcome.added:,} {verb} added, {outcome.updated:,} updated, "
                       f"{outcome.skipped + outcome.unchanged:,} skipped (already clients), "
                       f"{outcome.errors:,} not imported (see their problems).")
        self.preview = [{"line": str(r.line), "name": " ".join(v for v in (
            r.values.get("first_name", ""), r.values.get("last_name", ""), r.values.get("full_name", "")) if v),
            "email": r.values.get("email", ""), "action": r.action, "problems": " ".join(r.problems)}
            for r in outcome.rows]
        self.checked = dry_run
        if not dry_run:
            done = f"Import done: {self.result}"
            self._forget_file()
            self.open = False
            yield rx.toast.success(done)
            yield ClientsState.load
