"""A client's page (/clients/<id>): the record, its actions and the client's appointments."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.clients import history as client_history
from rxapp.services.clients import records as client_records
from rxapp.services.clients.history import Visit
from rxapp.services.clients.records import ClientNotFound
from rxapp.services.identity import accounts
from rxapp.services.permissions import Action, NotAllowed, can
from rxapp.services.practice import profiles
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState
from rxapp.state.clients import archive_or_restore, invite_outcome


def visit_row(v: Visit, timezone: str, *, for_client: bool = False) -> dict[str, str]:
    """An appointment as the client page and the portal (`for_client`) show it, in the viewer's
    timezone; who booked it is said the way the reader would say it."""
    booked_by = ("You booked this online" if for_client else "Booked by the client online") \
        if v.booked_by_client else ""
    return {"id": str(v.appointment_id), "when": format_local(v.start_at, timezone),
            "minutes": f"{v.duration_minutes} min", "practitioner": v.practitioner_name, "mode": v.mode,
            "topic": v.topic, "status": v.status_text, "reason": v.cancel_reason if v.status == "cancelled" else "",
            "booked_by": booked_by,
            "attended": "" if v.attended_minutes is None or for_client else
            (f"Attended {v.attended_minutes} min" if v.attended_minutes else "Never joined")}


class ClientRecordState(AuthState):
    client_id_shown: int = 0  # the id in the URL, once the server found the client for this user
    page_path: str = ""  # the path this state was loaded for (the shell shows the page only then)
    found: bool = False
    can_manage: bool = False
    can_book: bool = False  # Book appointment: who books appointments, for a client not archived
    name: str = ""
    details: list[dict[str, str]] = []  # label, value
    email: str = ""
    archived: bool = False
    email_reminders: bool = True  # False after the Stop link in a reminder email or when set on this page
    sms_allowed: bool = True  # the client's SMS consent (False after STOP or when set on this page)
    invite_label: str = "Send portal invite"
    timezone: str = ""
    upcoming: list[dict[str, str]] = []
    cancelled: list[dict[str, str]] = []  # cancelled visits whose time is still to come
    past: list[dict[str, str]] = []

    def _url_client_id(self) -> int:
        last = self._path().rsplit("/", 1)[-1]
        return int(last) if last.isdigit() else 0

    @rx.event
    async def load(self):
        """on_load (and after a change): the client of the URL, re-checked for this user."""
        client_id = self._url_client_id()
        try:
            principal = await self._require(Action.VIEW_CLIENTS)
            detail = await asyncio.to_thread(client_records.client_detail, principal, client_id)
            history = await asyncio.to_thread(client_history.client_history, principal, client_id)
            tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        except (NotAllowed, ClientNotFound):
            self.found, self.client_id_shown, self.page_path = False, 0, self._path()
            self.name, self.email, self.details, self.upcoming, self.past = "", "", [], [], []
            self.cancelled = []
            return
        self.found, self.client_id_shown, self.page_path = True, client_id, self._path()
        self.can_manage = can(principal, Action.MANAGE_CLIENTS)
        self.name, self.email, self.timezone = detail.name, detail.email, tz
        self.archived = detail.archived_at is not None
        self.can_book = can(principal, Action.MANAGE_APPOINTMENTS) and not self.archived
        self.sms_allowed = not detail.sms_opted_out
        self.email_reminders = not detail.email_reminders_opt_out
        self.details = [{"label": label, "value": value} for label, value in (
            ("First name", detail.first_name), ("Last name", detail.last_name),
            ("Preferred name", detail.preferred_name), ("Email", detail.email), ("Mobile phone", detail.phone),
            ("Phone shared with", detail.phone_shared_with),
            ("Timezone", detail.timezone),
            ("Date of birth", detail.date_of_birth.isoformat() if detail.date_of_birth else ""),
            ("Text messages", "Opted out (no SMS is sent)" if detail.sms_opted_out else "Allowed"),
            ("Email reminders", "Opted out" if detail.email_reminders_opt_out else "Sent"),
            ("Trusts", detail.trusted), ("Portal", "Signs in" if detail.has_portal else "No portal account yet"),
            ("Archived", format_local(detail.archived_at, tz) if detail.archived_at else ""),
            ("Notes", detail.notes)) if value]
        self.invite_label = "Send password reset" if detail.has_portal else "Send portal invite"
        self.upcoming = [visit_row(v, tz) for v in history.upcoming] if history else []
        self.cancelled = [visit_row(v, tz) for v in history.cancelled] if history else []
        self.past = [visit_row(v, tz) for v in history.past] if history else []

    @rx.event
    async def archive(self, client_id: int):
        toast = await archive_or_restore(self, client_id, archived=True)
        await self.load()
        return toast

    @rx.event
    async def restore(self, client_id: int):
        toast = await archive_or_restore(self, client_id, archived=False)
        await self.load()
        return toast

    @rx.event
    async def set_sms_consent(self, client_id: int, allowed: bool):
        """By id; the service re-checks role and practice."""
        try:
            principal = await self._require(Action.MANAGE_CLIENTS)
            name = await asyncio.to_thread(client_records.set_sms_opt_out, principal, client_id, not allowed)
        except (NotAllowed, ClientNotFound):
            await self.load()
            return rx.toast.error("That client was not found or is not yours to change.")
        await self.load()
        return rx.toast.success(f"Text messages {'allowed' if allowed else 'turned off'} for {name}.")

    @rx.event
    async def set_email_reminders(self, client_id: int, allowed: bool):
        """By id; the service re-checks role and practice."""
        try:
            principal = await self._require(Action.MANAGE_CLIENTS)
            name = await asyncio.to_thread(client_records.set_email_reminders_opt_out, principal, client_id,
                                           not allowed)
        except (NotAllowed, ClientNotFound):
            await self.load()
            return rx.toast.error("That client was not found or is not yours to change.")
        await self.load()
        return rx.toast.success(f"Reminder emails {'on' if allowed else 'turned off'} for {name}.")

    @rx.event
    async def send_invite(self, client_id: int):
        """By id; the service re-checks role and practice."""
        try:
            principal = await self._require(Action.SEND_PORTAL_INVITE)
            sent = await asyncio.to_thread(accounts.send_portal_invite, principal, client_id)
        except NotAllowed:
            return rx.toast.error("You are not allowed to send portal invites.")
        except accounts.InviteRefused as exc:
            return rx.toast.error(str(exc))
        await self.load()
        return rx.toast.success(invite_outcome(sent))
