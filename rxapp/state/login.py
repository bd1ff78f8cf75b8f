"""The sign-in form."""

from __future__ import annotations

import reflex as rx

from rxapp.clock import now
from rxapp.services.identity import auth
from rxapp.services.identity.auth import safe_next
from rxapp.services.permissions import home_path
from rxapp.state.auth import AuthState, post_to_server

_NOTICES = {
    "expired": "Your sign-in took too long to complete. Please sign in again.",
    "signed_out": "You have signed out.",
}


class LoginState(rx.State):
    error: str = ""
    notice: str = ""
    busy: bool = False

    @rx.event
    async def load(self):
        """Send a signed-in user home; otherwise show why they are here."""
        auth_state = await self.get_state(AuthState)
        principal = await auth_state._principal()
        if principal is not None:
            return rx.redirect(home_path(principal), replace=True)
        params = self.router.url.query_parameters
        self.error = ""
        self.notice = _NOTICES["expired"] if params.get("error") == "expired" else (
            _NOTICES["signed_out"] if params.get("signed_out") else "")
        return None

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
        target = safe_next(self.router.url.query_parameters.get("next"), "")
        yield post_to_server("/auth/session", {"ticket": ticket, "next": target})
