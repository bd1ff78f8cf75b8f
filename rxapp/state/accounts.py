"""States of the pages reached without signing in: portal and team invites, forgot password, password reset.

The link token is read from the page URL on every handler, never kept in a var: the browser
already has it, and the server trusts only what the database says about it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import reflex as rx

from rxapp.services.identity import accounts
from rxapp.services.identity.passwords import password_problem
from rxapp.state.auth import post_to_server


class _SetPasswordForm(rx.State, mixin=True):
    """A page that checks its link on load, then asks for a new password twice."""

    checked: bool = False
    link_problem: str = ""
    account_email: str = ""
    practice_name: str = ""
    password_error: str = ""
    confirm_error: str = ""
    busy: bool = False

    def _token(self) -> str:
        return (self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1]

    def _start_check(self) -> None:
        self.checked, self.link_problem, self.account_email, self.practice_name = False, "", "", ""
        self.password_error = self.confirm_error = ""
        self.busy = False

    def _show(self, info: accounts.LinkInfo) -> None:
        self.account_email, self.practice_name, self.checked = info.email, info.practice_name, True

    def _form_is_valid(self, form: dict[str, str]) -> bool:
        password, confirm = form.get("new_password") or "", form.get("confirm_password") or ""
        self.password_error = password_problem(password) or ""
        self.confirm_error = "" if self.password_error or password == confirm else (
            "The two passwords do not match. Type the same password in both fields.")
        return not (self.password_error or self.confirm_error)


async def _check_invite(form: _SetPasswordForm, check: Callable[[str], accounts.LinkInfo]) -> None:
    """on_load of an invite page: who the link is for, or why it cannot be used."""
    form._start_check()
    try:
        info = await asyncio.to_thread(check, form._token())
    except (accounts.LinkUnusable, accounts.InviteRefused) as exc:
        form.link_problem, form.checked = str(exc), True
        return
    form._show(info)


async def _accept_invite(form: _SetPasswordForm, submitted: dict[str, str], accept: Callable[[str, str], str],
                         next_path: str) -> AsyncIterator[Any]:
    """Set the password through the link, then sign in (the session cookie comes from an HTTP route)."""
    if not form._form_is_valid(submitted):
        return
    form.busy = True
    yield
    try:
        ticket = await asyncio.to_thread(accept, form._token(), submitted["new_password"])
    except accounts.PasswordRejected as exc:
        form.password_error = str(exc)
        return
    except (accounts.LinkUnusable, accounts.InviteRefused) as exc:
        form.link_problem = str(exc)
        return
    finally:
        form.busy = False
    yield post_to_server("/auth/session", {"ticket": ticket, "next": next_path})


class InviteState(_SetPasswordForm, rx.State):
    """A client's portal invite: choose a password, then land signed in on the portal."""

    @rx.event
    async def load(self):
        await _check_invite(self, accounts.check_invite)

    @rx.event
    async def submit_password(self, form: dict[str, str]):
        async for event in _accept_invite(self, form, accounts.accept_invite, "/portal"):
            yield event


class TeamInviteState(_SetPasswordForm, rx.State):
    """A team member's invite: choose a password, then land signed in on their first page."""

    @rx.event
    async def load(self):
        await _check_invite(self, accounts.check_team_invite)

    @rx.event
    async def submit_password(self, form: dict[str, str]):
        async for event in _accept_invite(self, form, accounts.accept_team_invite, ""):
            yield event


class ResetPasswordState(_SetPasswordForm, rx.State):
    done: bool = False

    @rx.event
    async def load(self):
        self._start_check()
        self.done = False
        try:
            info = await asyncio.to_thread(accounts.check_reset, self._token())
        except accounts.LinkUnusable as exc:
            self.link_problem, self.checked = str(exc), True
            return
        self._show(info)

    @rx.event
    async def submit_password(self, form: dict[str, str]):
        if self.done or not self._form_is_valid(form):
            return
        self.busy = True
        yield
        try:
            await asyncio.to_thread(accounts.reset_password, self._token(), form["new_password"])
        except accounts.PasswordRejected as exc:
            self.password_error = str(exc)
            return
        except accounts.LinkUnusable as exc:
            self.link_problem = str(exc)
            return
        finally:
            self.busy = False
        self.done = True
        yield rx.toast.success("Your password was changed. Sign in with the new password.")


class ForgotPasswordState(rx.State):
    answer: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def load(self):
        self.answer = self.error = ""
        self.busy = False

    @rx.event
    async def request_link(self, form: dict[str, str]):
        email = (form.get("email") or "").strip()
        if "@" not in email or len(email) > 320:
            self.error, self.answer = "Enter the email address you sign in with.", ""
            return
        self.error = ""
        self.answer = accounts.forgot_password(email)
