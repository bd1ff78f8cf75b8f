"""Audit page: the practice's audit trail for owners and managers (filters in the URL)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import reflex as rx

from rxapp.services.audit import entries as audit_log
from rxapp.services.audit.entries import ACTION_GROUPS as ACTION_GROUPS  # re-exported for the page
from rxapp.services.audit.entries import ACTION_LABELS as ACTION_LABELS
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.practice import profiles
from rxapp.state.auth import AuthState
from rxapp.state.keyset_pages import KeysetPages

PAGE_SIZE = 50


class AuditState(KeysetPages, AuthState):
    entries: list[dict[str, str]] = []
    people: list[dict[str, str]] = []
    person: str = ""
    action: str = ""
    date_from: str = ""
    date_to: str = ""
    timezone: str = "UTC"
    error: str = ""

    def _query(self, *, with_cursor: bool) -> dict[str, str]:
        query = {"person": self.person, "action": self.action, "from": self.date_from, "to": self.date_to}
        if with_cursor:
            query |= self._cursor()
        return {k: v for k, v in query.items() if v}

    @rx.var
    def export_href(self) -> str:
        """The CSV of everything the filters match (the route checks the session and role again)."""
        query = self._query(with_cursor=False)
        return "/audit/export.csv" + (f"?{urlencode(query)}" if query else "")

    @rx.event
    async def load(self):
        """on_load: the filters from the URL (bookmarkable), then the newest entries."""
        params = self.router.url.query_parameters
        self.person, self.action = params.get("person", "")[:20], params.get("action", "")[:60]
        self.date_from, self.date_to = params.get("from", "")[:10], params.get("to", "")[:10]
        self._read_page(params)
        await self._reload()

    async def _reload(self) -> None:
        try:
            principal = await self._require(Action.VIEW_AUDIT)
        except NotAllowed:
            self.entries, self.people = [], []
            return
        self.timezone, people = await asyncio.gather(asyncio.to_thread(profiles.viewer_timezone, principal),
                                                     asyncio.to_thread(audit_log.people, principal))
        self.people = [{"value": str(i), "label": n} for i, n in people]
        try:
            found = await asyncio.to_thread(self._read, principal, self._query(with_cursor=True), self.timezone)
        except audit_log.InvalidAuditFilter as exc:
            self.error, self.entries, self.has_previous, self.has_next = str(exc), [], False, False
            return
        self.error = ""
        self.entries = [{"id": str(e.id), "when": e.when, "who": e.who, "action": e.action_label, "code": e.action,
                         "subject": e.subject, "details": e.details} for e in found.entries]
        self._show_page(found.has_previous, found.has_next, found.previous_cursor, found.next_cursor)

    @staticmethod
    def _read(principal: Principal, query: dict[str, str], timezone: str) -> audit_log.AuditPage:
        filters = audit_log.parse_filters(query, timezone)
        found = audit_log.list_entries(principal, filters)
        if not found.entries and (filters.after or filters.before):  # the page's rows are gone: the first
            found = audit_log.list_entries(principal, audit_log.parse_filters(
                {k: v for k, v in query.items() if k not in ("after", "before")}, timezone))
        return found

    async def _apply_page(self):
        await self._reload()
        query = self._query(with_cursor=True)
        url = "/audit" + (f"?{urlencode(query)}" if query else "")
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(url)})")

    @rx.event
    async def set_person(self, value: str):
        self.person, self.page = ("" if value == "all" else value[:20]), 1
        return await self._apply_page()

    @rx.event
    async def set_action(self, value: str):
        self.action, self.page = ("" if value == "all" else value[:60]), 1
        return await self._apply_page()

    @rx.event
    async def set_date_from(self, value: str):
        self.date_from, self.page = value[:10], 1
        return await self._apply_page()

    @rx.event
    async def set_date_to(self, value: str):
        self.date_to, self.page = value[:10], 1
        return await self._apply_page()

    @rx.event
    async def clear_filters(self):
        self.person = self.action = self.date_from = self.date_to = ""
        self.page = 1
        return await self._apply_page()
