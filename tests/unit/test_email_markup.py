"""Every HTML email escapes what people typed (names, topics, reasons, practice names)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from rxapp.models import Role, User
from rxapp.services.identity import accounts
from rxapp.services.notify.outbox import OutgoingEmail
from rxapp.services.telehealth.meetings import emails
from rxapp.services.telehealth.zoom import tokens

HOSTILE = '<img src=x onerror="alert(1)">'


def _facts() -> emails.MeetingFacts:
    return emails.MeetingFacts(meeting_id=1, title=HOSTILE, practitioner_name=HOSTILE, practice_name=HOSTILE,
                               client_name=HOSTILE, client_email="alex@demo.client", client_timezone="UTC",
                               start_at=datetime(2026, 12, 1, 10, tzinfo=UTC), duration_minutes=30,
                               portal_url='https://clinic.example/portal?a="b"')


def _user() -> User:
    return User(id=1, practice_id=1, email="dr.lee@demo.clinic", full_name=HOSTILE, role=Role.PRACTITIONER)


BUILDERS = {
    "scheduled": lambda: emails.scheduled(_facts()),
    "cancelled": lambda: emails.cancelled(_facts(), HOSTILE, had_zoom_meeting=True),
    "provider_started": lambda: emails.provider_started(_facts()),
    "portal_invite": lambda: accounts._invite_email("alex@demo.client", HOSTILE, HOSTILE, "https://x/invite?t=1"),
    "password_reset": lambda: accounts._reset_email("alex@demo.client", HOSTILE, HOSTILE, "https://x/reset?t=1"),
    "zoom_reconnect": lambda: tokens.reconnect_email(_user(), 'https://clinic.example/"x'),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_user_provided_values_are_escaped_in_html_emails(name: str) -> None:
    email: OutgoingEmail = BUILDERS[name]()
    assert email.html
    assert "<img" not in email.html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in email.html
    for href in re.findall(r'href="([^"]*)"', email.html):
        assert "<" not in href and '"' not in href
