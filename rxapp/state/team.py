"""Team page state: the practice's people, invites, roles, deactivation and profile edits.

Every handler takes the person's user id from the browser; the services re-check practice and
role for that id, so a stale or forged id changes nothing it should not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import reflex as rx

from rxapp.services.identity import mfa
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.practice import profiles, team
from rxapp.services.timezones import all_timezones
from rxapp.state.auth import AuthState

T = TypeVar("T")

_STATUS_LABELS = {team.MemberStatus.ACTIVE: "Active", team.MemberStatus.INVITED: "Invited",
                  team.MemberStatus.DEACTIVATED: "Deactivated"}
_ZOOM_LABELS = {"connected": "Connected", "needs_reconnect": "Needs reconnect", "not_connected": "Not connected"}
_ROLE_LABELS = {r.value: r.value.capitalize() for r in team.TEAM_ROLES}
_NO_PERMISSION = "You are not allowed to manage the team."


def _assignable(principal: Principal) -> list[str]:
    """The roles this viewer may give (only an owner gives manager or owner)."""
    return [r.value for r in team.TEAM_ROLES if r not in team.OWNER_CONTROLLED or principal.role == "owner"]


def _visits_kept(total: int) -> str:
    """What happens to a deactivated practitioner's future appointments, in words that agree with the number."""
    if not total:
        return "They have no future appointments."
    if total == 1:
        return ("Their 1 future appointment stays booked and is listed here for re-assignment to another "
                "practitioner; nothing is cancelled.")
    return (f"Their {total:,} future appointments stay booked and are listed here for re-assignment to another "
            "practitioner; nothing is cancelled.")


def _visits_message(total: int) -> str:
    return (f"{total} future appointment{'s' if total != 1 else ''} need{'s' if total == 1 else ''} another "
            "practitioner")


class TeamState(AuthState):
    rows: list[dict[str, str]] = []
    role_options: list[str] = []
    two_step_required: bool = False
    is_owner: bool = False
    # Deactivated people whose future appointments wait for re-assignment, and those appointments.
    waiting: list[dict[str, str]] = []
    waiting_visits: list[dict[str, str]] = []
    invite_error: str = ""
    inviting: bool = False
    busy_id: int = 0
    # The deactivation confirmation: whom, and what will happen.
    confirm_open: bool = False
    confirm_id: int = 0
    confirm_name: str = ""
    confirm_lines: list[str] = []
    # The profile edit dialog.
    edit_open: bool = False
    edit_id: int = 0
    edit_name: str = ""
    edit_display_name: str = ""
    edit_credentials: str = ""
    edit_timezone: str = ""
    edit_length: str = ""
    edit_errors: dict[str, str] = {}
    timezone_options: list[str] = []

    async def _allowed(self) -> Principal | None:
        try:
            return await self._require(Action.MANAGE_TEAM)
        except NotAllowed:
            return None

    async def _act(self, action: Callable[..., T], *args: object) -> tuple[T | None, str]:
        """Run a team service for the signed-in manager: (its result, '') or (None, why not)."""
        principal = await self._allowed()
        if principal is None:
            return None, _NO_PERMISSION
        try:
            return await asyncio.to_thread(action, principal, *args), ""
        except team.TeamRefused as exc:
            return None, str(exc)

    @rx.event
    async def load(self):
        principal = await self._allowed()
        if principal is None:
            self.rows, self.waiting, self.waiting_visits = [], [], []
            return
        members = await asyncio.to_thread(team.list_team, principal)
        self.role_options = _assignable(principal)
        self.is_owner = principal.role == "owner"
        self.two_step_required = (await asyncio.to_thread(mfa.status, principal)).required
        self.rows = [self._row(principal, m) for m in members]
        waiting, visits = [], []
        for member in members:
            if member.status != team.MemberStatus.DEACTIVATED:
                continue
            found, total = await asyncio.to_thread(team.future_visits, principal, member.user_id)
            if total:
                waiting.append({"id": str(member.user_id), "name": member.full_name,
                                "message": _visits_message(total)})
                visits += [{"user_id": str(member.user_id), "when": v.when, "client": v.client_name,
                            "mode": "Telehealth" if v.telehealth else "In person", "link": v.link}
                           for v in found]
        self.waiting, self.waiting_visits = waiting, visits

    @staticmethod
    def _row(principal: Principal, m: team.Member) -> dict[str, str]:
        changeable = m.user_id != principal.user_id and (
            m.role not in team.OWNER_CONTROLLED or principal.role == "owner")
        return {"id": str(m.user_id), "name": m.full_name, "email": m.email, "role": m.role.value,
                "role_label": _ROLE_LABELS.get(m.role.value, m.role.value), "status": m.status.value,
                "status_label": _STATUS_LABELS[m.status],
                "telehealth": ("On" if m.telehealth_enabled else "Off") if m.has_profile else "—",
                "zoom": _ZOOM_LABELS.get(m.zoom, "—"), "has_profile": "yes" if m.has_profile else "",
                "changeable": "yes" if changeable else "",
                "two_step": "On" if m.two_step else "Off",
                "can_reset_two_step": "yes" if m.two_step and principal.role == "owner"
                and m.user_id != principal.user_id else ""}

    @rx.event
    async def invite(self, form: dict[str, str]):
        principal = await self._allowed()
        if principal is None:
            self.invite_error = _NO_PERMISSION
            return
        self.inviting, self.invite_error = True, ""
        yield
        try:
            member = await asyncio.to_thread(team.invite_member, principal, form.get("email") or "",
                                             form.get("full_name") or "", form.get("role") or "")
        except team.TeamRefused as exc:
            self.invite_error = str(exc)
            return
        finally:
            self.inviting = False
        await self.load()
        yield rx.toast.success(f"Invite sent to {member.full_name} at {member.email}.")
        yield rx.set_value("invite-email", "")
        yield rx.set_value("invite-name", "")

    @rx.event
    async def reset_two_step(self, user_id: int):
        """The owner resets a member's two-step sign-in (a lost phone); the server re-checks the id."""
        principal = await self._allowed()
        if principal is None:
            return rx.toast.error(_NO_PERMISSION)
        try:
            name = await asyncio.to_thread(mfa.reset_for, principal, int(user_id))
        except NotAllowed:
            await self.load()
            return rx.toast.error("Only the owner resets two-step sign-in, for a member of the team.")
        await self.load()
        return rx.toast.success(f"Two-step sign-in reset for {name}: they were signed out and emailed.")

    @rx.event
    async def set_require_two_step(self, required: bool):
        principal = await self._allowed()
        if principal is None:
            return rx.toast.error(_NO_PERMISSION)
        try:
            await asyncio.to_thread(mfa.set_required, principal, bool(required))
        except NotAllowed:
            return rx.toast.error("Only the owner decides whether two-step sign-in is required.")
        self.two_step_required = bool(required)
        return rx.toast.success("Two-step sign-in is now required for the whole team." if required else
                                "Two-step sign-in is no longer required.")

    @rx.event
    async def resend_invite(self, user_id: int):
        email, error = await self._act(team.resend_invite, user_id)
        return rx.toast.error(error) if error else rx.toast.success(f"A new invite link was sent to {email}.")

    @rx.event
    async def change_role(self, user_id: int, role: str):
        self.busy_id = user_id
        yield
        member, error = await self._act(team.change_role, user_id, role)
        self.busy_id = 0
        await self.load()
        if member is None:
            yield rx.toast.error(error)
            return
        yield rx.toast.success(f"{member.full_name} is now {_ROLE_LABELS[member.role.value].lower()}.")

    @rx.event
    async def ask_deactivate(self, user_id: int):
        """Open the confirmation with what deactivating this person will do."""
        principal = await self._allowed()
        if principal is None:
            yield rx.toast.error(_NO_PERMISSION)
            return
        row = next((r for r in self.rows if r["id"] == str(user_id)), None)
        if row is None:
            return
        _, total = await asyncio.to_thread(team.future_visits, principal, user_id)
        lines = [f"{row['name']} can no longer sign in; every open session of theirs ends now."]
        if row["zoom"] in ("Connected", "Needs reconnect"):
            lines.append("Their Zoom connection is disconnected (meetings already in Zoom are not deleted).")
        lines.append(_visits_kept(total))
        self.confirm_id, self.confirm_name, self.confirm_lines = user_id, row["name"], lines
        self.confirm_open = True

    @rx.event
    def close_confirm(self):
        self.confirm_open = False

    @rx.event
    async def deactivate(self, user_id: int):
        principal = await self._allowed()
        self.confirm_open = False
        if principal is None:
            yield rx.toast.error(_NO_PERMISSION)
            return
        self.busy_id = user_id
        yield
        try:
            done = await team.deactivate_member(principal, user_id)
        except team.TeamRefused as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.busy_id = 0
        await self.load()
        message = f"{done.full_name} was deactivated."
        if done.zoom_disconnected:
            message += " Their Zoom connection was disconnected."
        if done.future_total:
            message += f" {_visits_message(done.future_total)}: they are listed on this page."
        yield rx.toast.success(message)
        if done.zoom_problem:
            yield rx.toast.error(done.zoom_problem)

    @rx.event
    async def reactivate(self, user_id: int):
        member, error = await self._act(team.reactivate_member, user_id)
        if member is None:
            yield rx.toast.error(error)
            return
        await self.load()
        yield rx.toast.success(f"{member.full_name} can sign in again. Their Zoom stays disconnected until they "
                               "connect it.")

    @rx.event
    async def open_edit(self, user_id: int):
        principal = await self._allowed()
        if principal is None:
            yield rx.toast.error(_NO_PERMISSION)
            return
        try:
            details = await asyncio.to_thread(profiles.profile_details, principal, user_id)
        except NotAllowed:
            yield rx.toast.error("That person has no practitioner profile in your practice.")
            return
        if not self.timezone_options:
            self.timezone_options = list(all_timezones())
        self._show_details(details)
        self.edit_errors, self.edit_open = {}, True

    def _show_details(self, details: profiles.ProfileDetails) -> None:
        self.edit_id, self.edit_name = details.practitioner_id, details.full_name
        self.edit_display_name, self.edit_credentials = details.display_name, details.credentials
        self.edit_timezone, self.edit_length = details.timezone, str(details.default_length_minutes)

    @rx.event
    def set_edit(self, field: str, value: str):
        if field in ("display_name", "credentials", "timezone", "length"):
            setattr(self, f"edit_{field}", value[:300])

    @rx.event
    def close_edit(self):
        self.edit_open = False

    @rx.event
    async def save_edit(self, user_id: int):
        principal = await self._allowed()
        if principal is None:
            yield rx.toast.error(_NO_PERMISSION)
            return
        try:
            details = await asyncio.to_thread(
                profiles.update_profile, principal, user_id, display_name=self.edit_display_name,
                credentials=self.edit_credentials, timezone=self.edit_timezone,
                default_length_minutes=self.edit_length)
        except profiles.ProfileInvalid as exc:
            self.edit_errors = exc.errors
            return
        except NotAllowed:
            yield rx.toast.error("You may not edit this profile.")
            return
        self.edit_open, self.edit_errors = False, {}
        yield rx.toast.success(f"Profile of {details.full_name} saved.")
