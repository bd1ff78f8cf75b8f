"""The sign-in form."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import reflex as rx

from rxapp.clock import now
from rxapp.services.identity import auth, mfa
from rxapp.services.identity.auth import safe_next
from rxapp.services.permissions import home_path
from rxapp.services.practice import signup
from rxapp.state.auth import AuthState, post_to_server

_NOTICES = {
    "expired": "Your sign-in took too long to complete. Please sign in again.",
    "signed_out": "You have signed out.",
}


class LoginState(rx.State):
    error: str = ""
    notice: str = ""
    busy: bool = False
    signup_open: bool = False  # this installation takes new practices (/signup)
    # "password", then for staff with two-step sign-in "code", or "enrol" (the practice requires it and
    # none is set up) followed by "codes" (the recovery codes, shown once).
    step: str = "password"
    qr: str = ""  # the enrolment's QR code (an SVG data URI): the person scans it
    secret: str = ""  # the same secret as text, for typing into the app
    recovery_codes: list[str] = []
    _ticket: str = ""  # the "mfa" ticket: proof of the password, owed its second step
    _secret: str = ""
    _session_ticket: str = ""  # after enrolment: exchanged once the codes have been seen

    @rx.event
    async def load(self):
        """Send a signed-in user home; otherwise show why they are here."""
        auth_state = await self.get_state(AuthState)
        principal = await auth_state._principal()
        if principal is not None:
            return rx.redirect(home_path(principal), replace=True)
        params = self.router.url.query_parameters
        self.error = ""
        self.signup_open = signup.signup_open()
        self._forget()
        self.notice = _NOTICES["expired"] if params.get("error") == "expired" else (
            _NOTICES["signed_out"] if params.get("signed_out") else "")
        return None

    def _forget(self) -> None:
        self.step, self.qr, self.secret, self.recovery_codes = "password", "", "", []
        self._ticket = self._secret = self._session_ticket = ""

    @rx.event
    async def sign_in(self, form: dict[str, str]):
        email, password = (form.get("email") or "").strip(), form.get("password") or ""
        self.notice = ""
        if not email or not password:
            self.error = "Enter your email and password."
            return
        self.busy = True
        yield
        try:
            ticket = await auth.sign_in(email, password, source=self.router.session.client_ip)
        except auth.AccountLocked as exc:
            minutes = max(1, round((exc.until - now()).total_seconds() / 60))
            self.error = (f"Too many failed sign-ins: this account is locked for {minutes} more minute"
                          f"{'s' if minutes != 1 else ''}. Try again later or ask your practice manager.")
            return
        except auth.AccountDeactivated:
            self.error = auth.DEACTIVATED_MESSAGE
            return
        except auth.InvalidCredentials:
            self.error = auth.INVALID_CREDENTIALS_MESSAGE
            return
        finally:
            self.busy = False
        self.error = ""
        try:
            owed = await asyncio.to_thread(auth.second_step, ticket)
        except auth.SecondStepExpired as exc:
            self.error = str(exc)
            return
        if owed == "":
            yield self._go(ticket)
            return
        self._ticket, self.step = ticket, owed
        if owed == "enrol":
            try:
                enrolment = await asyncio.to_thread(auth.enrolment_for, ticket)
            except auth.SecondStepExpired as exc:
                self._forget()
                self.error = str(exc)
                return
            self._secret, self.secret, self.qr = enrolment.secret, enrolment.secret, enrolment.qr

    def _go(self, ticket: str) -> rx.event.EventSpec:
        target = safe_next(self.router.url.query_parameters.get("next"), "")
        self._forget()
        return post_to_server("/auth/session", {"ticket": ticket, "next": target})

    @rx.event
    async def verify_code(self, form: dict[str, str]):
        """The second step: the authenticator app's code (or a recovery code)."""
        async for update in self._second_step(form, "Enter the code from your authenticator app, or a recovery "
                                              "code.", auth.verify_second_step, self._ticket):
            yield update

    @rx.event
    async def enrol(self, form: dict[str, str]):
        """Enrolment at sign-in (the practice requires two steps): the app's first code."""
        async for update in self._second_step(form, "Enter the 6-digit code your authenticator app shows.",
                                              auth.enrol_at_sign_in, self._ticket, self._secret):
            yield update

    async def _second_step(self, form: dict[str, str], missing: str, check: Callable[..., Any], *args: str):
        """Send the typed code to `check`; its refusals stay on the form, a late or locked one starts
        over; a session ticket signs in (after enrolment, once the recovery codes have been seen)."""
        code = (form.get("code") or "").strip()
        if not code:
            self.error = missing
            return
        self.busy = True
        yield
        try:
            found = await asyncio.to_thread(check, *args, code, self.router.session.client_ip)
        except mfa.CodeRejected as exc:
            self.error = str(exc)
            return
        except (auth.AccountLocked, auth.SecondStepExpired):
            self._forget()
            self.error = "Your sign-in could not be completed (too late, or too many wrong codes). Sign in again."
            return
        finally:
            self.busy = False
        self.error = ""
        if isinstance(found, str):
            yield self._go(found)
            return
        ticket, codes = found
        self.qr, self.secret, self._secret = "", "", ""
        self._session_ticket, self.recovery_codes, self.step = ticket, codes, "codes"

    @rx.event
    def finish(self):
        """The recovery codes have been seen: on into the app."""
        if self.step == "codes" and self._session_ticket:
            return self._go(self._session_ticket)
        return None

    @rx.event
    def start_over(self):
        self._forget()
        self.error = ""
