"""Meeting rules that need no database: passcodes that meet an account's rules, the .ics invite
and the email the client gets, the payload sent to Zoom, and the registry of watching browsers."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from rxapp import live
from rxapp.models import AppointmentStatus, SyncState
from rxapp.services.telehealth.meetings import emails, passcodes, sync
from rxapp.services.telehealth.zoom.client import PasscodeRules
from zoom_sandbox.users import BASIC_RULES as SANDBOX_BASIC_RULES

ZOOM_DEFAULT = PasscodeRules()
SANDBOX_BASIC = PasscodeRules(length=8, have_letter=True, have_number=True, consecutive_characters_length=4)
NUMERIC = PasscodeRules(length=6, only_allow_numeric=True, consecutive_characters_length=4)
UPPER_AND_LOWER = PasscodeRules(length=8, have_letter=True, have_upper_and_lower_characters=True)
SPECIAL = PasscodeRules(length=10, have_letter=True, have_number=True, have_special_character=True,
                        have_upper_and_lower_characters=True, consecutive_characters_length=5)
RULE_SETS = {"zoom default": ZOOM_DEFAULT, "sandbox basic user": SANDBOX_BASIC, "numeric only": NUMERIC,
             "upper and lower": UPPER_AND_LOWER, "special characters": SPECIAL}
ZOOM_CHARACTERS = re.compile(r"[A-Za-z0-9@\-_*]+")


@pytest.mark.parametrize("rules", RULE_SETS.values(), ids=RULE_SETS.keys())
def test_generated_passcodes_always_meet_the_accounts_rules(rules: PasscodeRules) -> None:
    for _ in range(500):
        code = passcodes.generate(rules)
        assert passcodes.satisfies(code, rules), code
        assert len(code) <= 10 and ZOOM_CHARACTERS.fullmatch(code), code
        assert not rules.only_allow_numeric or code.isdigit(), code


@pytest.mark.parametrize(("code", "rules"), [
    ("k7q2", SANDBOX_BASIC),  # shorter than 8
    ("k7q2x9", PasscodeRules(length=8)),  # shorter than the account's minimum
    ("Kq7xw2Zp9mA", ZOOM_DEFAULT),  # longer than Zoom's 10
    ("k71234qz", SANDBOX_BASIC),  # 4 consecutive digits
    ("Zaaaa7kq", SANDBOX_BASIC),  # 4 equal letters
    ("k7dcbaq9", SANDBOX_BASIC),  # 4 consecutive letters, backwards
    ("kqwzxmpt", SANDBOX_BASIC),  # no number
    ("93718264", SANDBOX_BASIC),  # no letter
    ("12a456", NUMERIC),  # not only digits
    ("kq7xw2zp", UPPER_AND_LOWER),  # no upper case
    ("KQ7XW2ZP", UPPER_AND_LOWER),  # no lower case
    ("Kq7xw2Zp9m", SPECIAL),  # no special character
])
def test_passcodes_breaking_a_rule_are_rejected(code: str, rules: PasscodeRules) -> None:
    assert not passcodes.satisfies(code, rules)


@pytest.mark.parametrize(("code", "rules"), [
    ("k7abcq9x", SANDBOX_BASIC),  # 3 consecutive are allowed when the limit is 4 (Zoom's own example)
    ("k7aaaq9x", SANDBOX_BASIC),
    ("123456", ZOOM_DEFAULT),  # no consecutive rule on the account
    ("Kq7-w2Zp9m", SPECIAL),
])
def test_passcodes_within_the_rules_are_accepted(code: str, rules: PasscodeRules) -> None:
    assert passcodes.satisfies(code, rules)


@pytest.mark.parametrize("code", ["k7aabcQ9x2", "Q91123kxz8", "m4xyzzP7q2"])
def test_a_passcode_the_zoom_sandbox_refuses_never_satisfies_the_same_rules(code: str) -> None:
    assert SANDBOX_BASIC_RULES.problems(code)  # Zoom (the sandbox) refuses it
    assert not passcodes.satisfies(code, SANDBOX_BASIC)


# 01:30 in New York on the days the clocks change: 05:30Z before falling back (EDT), 06:30Z
# before springing forward (EST); each session runs across the change.
FALL_BACK = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
SPRING_FORWARD = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)


def _facts(**changes: object) -> emails.MeetingFacts:
    facts = emails.MeetingFacts(
        meeting_id=42, title="Weekly session", practitioner_name="Dr. Dana Lee", practice_name="Demo Practice",
        client_name="Alex Rivera", client_email="alex@demo.client", client_timezone="America/Chicago",
        start_at=FALL_BACK, duration_minutes=60, portal_url="https://clinic.example/portal")
    return replace(facts, **changes)  # type: ignore[arg-type]


def _lines(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    lines = ics.removesuffix("\r\n").split("\r\n")
    assert not any("\r" in line or "\n" in line for line in lines), "a bare CR or LF inside a line"
    return lines


def _field(ics: str, name: str) -> str:
    [value] = [line.split(":", 1)[1] for line in _lines(ics) if line.split(":", 1)[0] == name]
    return value


def test_an_invite_is_a_request_and_a_cancellation_a_cancel_with_crlf_lines() -> None:
    invite, cancellation = emails.ics(_facts(), 0), emails.ics(_facts(), 1, cancelled=True)
    assert _lines(invite)[0] == "BEGIN:VCALENDAR" and _lines(invite)[-1] == "END:VCALENDAR"
    assert (_field(invite, "METHOD"), _field(invite, "STATUS"), _field(invite, "SEQUENCE")) == (
        "REQUEST", "CONFIRMED", "0")
    assert (_field(cancellation, "METHOD"), _field(cancellation, "STATUS"), _field(cancellation, "SEQUENCE")) == (
        "CANCEL", "CANCELLED", "1")
    assert _field(invite, "UID") == _field(cancellation, "UID")  # the calendar replaces the same event


@pytest.mark.parametrize(("start", "dtstart", "dtend"), [
    (FALL_BACK, "20261101T053000Z", "20261101T063000Z"),
    (SPRING_FORWARD, "20260308T063000Z", "20260308T073000Z"),
])
def test_invite_times_are_utc_across_a_clock_change(start: datetime, dtstart: str, dtend: str) -> None:
    invite = emails.ics(_facts(start_at=start), 0)
    assert (_field(invite, "DTSTART"), _field(invite, "DTEND")) == (dtstart, dtend)
    assert re.fullmatch(r"\d{8}T\d{6}Z", _field(invite, "DTSTAMP"))


def test_invite_times_are_utc_even_when_given_a_local_start() -> None:
    local = FALL_BACK.astimezone(ZoneInfo("America/New_York"))  # 01:30 EDT
    invite = emails.ics(_facts(start_at=local), 0)
    assert (_field(invite, "DTSTART"), _field(invite, "DTEND")) == ("20261101T053000Z", "20261101T063000Z")


def test_the_summary_escapes_commas_semicolons_backslashes_and_newlines() -> None:
    invite = emails.ics(_facts(title="Plan, review; notes\\draft\nnext steps", practitioner_name="Lee, Dana"), 0)
    assert _field(invite, "SUMMARY") == "Plan\\, review\\; notes\\\\draft\\nnext steps with Lee\\, Dana"


def test_a_windows_line_break_in_the_topic_stays_inside_the_summary() -> None:
    invite = emails.ics(_facts(title="First line\r\nSecond line"), 0)
    assert _field(invite, "SUMMARY") == "First line\\nSecond line with Dr. Dana Lee"


@pytest.mark.parametrize(("start", "shown"), [
    (FALL_BACK, "Sun 01 Nov 2026, 00:30 CDT (America/Chicago)"),
    (FALL_BACK + timedelta(hours=2), "Sun 01 Nov 2026, 01:30 CST (America/Chicago)"),
    (SPRING_FORWARD, "Sun 08 Mar 2026, 00:30 CST (America/Chicago)"),
    (datetime(2026, 11, 2, 3, 0, tzinfo=UTC), "Sun 01 Nov 2026, 21:00 CST (America/Chicago)"),  # Monday in UTC
])
def test_the_scheduled_email_shows_the_clients_own_time_and_no_zoom_link(start: datetime, shown: str) -> None:
    mail = emails.scheduled(_facts(start_at=start))
    assert f"When: {shown}\n" in mail.text
    assert shown in mail.html
    assert mail.subject.startswith(f"Telehealth session on {shown[:15]}")
    links = re.findall(r"https?://[^\s\"<]+", mail.text + mail.html + mail.ics)
    assert links and all(link.startswith("https://clinic.example/portal") for link in links)
    assert "pwd=" not in mail.text + mail.html + mail.ics
    assert mail.to == "alex@demo.client" and "BEGIN:VCALENDAR" in mail.ics


def _work(**changes: object) -> sync._Work:
    work = sync._Work(id=1, practice_id=1, practitioner_id=2, client_id=3, state=SyncState.PENDING_CREATE,
                      status=AppointmentStatus.BOOKED, telehealth=True, topic="Weekly session",
                      start_at=SPRING_FORWARD + timedelta(hours=1), duration_minutes=50, timezone="America/New_York",
                      zoom_meeting_id=None, holder_id=None, attempts=1)
    return replace(work, **changes)  # type: ignore[arg-type]


def test_meetings_go_to_zoom_with_safe_settings_and_utc_time_with_the_iana_zone() -> None:
    payload = sync.meeting_payload(_work(), None)
    settings = payload["settings"]
    assert settings["waiting_room"] is True and settings["join_before_host"] is True
    assert settings["auto_recording"] == "none"
    assert settings["host_video"] is True and settings["participant_video"] is True
    assert payload["start_time"] == "2026-03-08T07:30:00Z" and payload["timezone"] == "America/New_York"
    assert (payload["type"], payload["duration"], payload["topic"]) == (2, 50, "Weekly session")
    assert payload["default_password"] is True and "password" not in payload
    assert "agenda" not in payload  # the appointment's notes stay with us


def test_a_chosen_passcode_is_sent_instead_of_asking_zoom_for_one() -> None:
    payload = sync.meeting_payload(_work(), "k7abcq9x")
    assert payload["password"] == "k7abcq9x" and "default_password" not in payload


def test_zoom_time_is_utc_with_a_z_whatever_zone_it_is_given() -> None:
    local = datetime(2026, 3, 8, 3, 30, tzinfo=ZoneInfo("America/New_York"))  # just after the clocks sprang
    assert sync.zoom_time(local) == "2026-03-08T07:30:00Z"
    assert sync.zoom_time(FALL_BACK) == "2026-11-01T05:30:00Z"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The registry's view of time.time, moved by hand."""
    fake = SimpleNamespace(now=1_000_000.0)
    fake.time = lambda: fake.now
    monkeypatch.setattr(live, "time", fake)
    return fake


def test_browsers_watching_a_topic_are_its_watchers_once_each(clock: SimpleNamespace) -> None:
    registry = live._MemoryRegistry()

    async def scenario() -> None:
        await registry.watch("meeting:1", "browser-a")
        await registry.watch("meeting:1", "browser-b")
        await registry.watch("meeting:1", "browser-a")
        await registry.watch("client:7", "browser-a")
        assert sorted(await registry.watchers("meeting:1")) == ["browser-a", "browser-b"]
        assert await registry.watchers("client:7") == ["browser-a"]
        assert await registry.watchers("meeting:2") == []

    asyncio.run(scenario())


def test_a_watch_lapses_after_an_hour_unless_renewed(clock: SimpleNamespace) -> None:
    registry = live._MemoryRegistry()

    async def scenario() -> None:
        await registry.watch("meeting:1", "browser-a")
        await registry.watch("meeting:1", "browser-b")
        clock.now += live.WATCH_SECONDS - 10
        await registry.watch("meeting:1", "browser-b")  # the page loaded again
        assert sorted(await registry.watchers("meeting:1")) == ["browser-a", "browser-b"]
        clock.now += 20
        assert await registry.watchers("meeting:1") == ["browser-b"]
        clock.now += live.WATCH_SECONDS
        assert await registry.watchers("meeting:1") == []

    asyncio.run(scenario())
