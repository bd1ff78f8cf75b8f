"""Issue 25, item 2: a practice never reaches another practice's data.

Two practices live on one database, built by the same steps (`build_practice`: the demo loader, whose
second practice's people get sign-in emails of their own): the same client names, client emails and
phone numbers, a Dr. Lee connected to Zoom (the sandbox, over HTTP) in each, with meetings, visits,
feeds, invites, caught mail and SMS, failed messages and Zoom events. The clock stands still, so both
builds write the same values. Then, for practice A's people (owner, practitioner, front desk, client):

1. Row ids (`ROW_IDS`): every use case that takes a row id, or carries one in its form, is called with
   practice B's ids and with ids that exist nowhere (`NOWHERE`); the outcomes (the value returned, or
   the exception's type and message) must be identical, and no row of B may change. Two page
   handlers that take ids are spot-checked the same way (they ask these use cases).
2. Reads without ids (`READS`): every practice-wide read is answered before B exists and again after B
   was built; the answers must be identical (the reads' own audit entries are dropped in between).
3. Writes without ids (`WRITES`), and A's writes of its own rows: no row of B may change.
4. HTTP routes: A's session with B's ids gets what ids that exist nowhere get; what A downloads or
   subscribes to holds nothing of B; Zoom's and Twilio's calls about B change B only.

`test_every_use_case_is_in_a_table` keeps the tables complete: every public function of
`rxapp/services` whose first parameter is `principal` is in `ROW_IDS`, `READS` or `WRITES`.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import itertools
import pkgutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import ColumnElement, Table, delete
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select

import rxapp.services
from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    Client,
    CreditKind,
    JoinLink,
    LoginSession,
    Meeting,
    Notification,
    NotificationStatus,
    OAuthAttempt,
    Practice,
    SmsCreditEntry,
    User,
    WebhookEvent,
)
from rxapp.services import permissions
from rxapp.services.audit import attention, entries
from rxapp.services.clients import directory, history, importing, records
from rxapp.services.identity import accounts, auth, mfa, one_time, sessions
from rxapp.services.identity.passwords import hash_password
from rxapp.services.notify import mailbox, outbox
from rxapp.services.notify.reminders import links
from rxapp.services.notify.sms import account as sms_account
from rxapp.services.notify.sms import caught, twilio_hooks
from rxapp.services.notify.sms.providers import INBOUND_PATH, STATUS_CALLBACK_PATH, CatcherProvider
from rxapp.services.practice import dashboard, export, profiles, settings, setup, signup, team, trust
from rxapp.services.scheduling import appointments, availability_editor, calendar, feeds, self_booking, waitlist
from rxapp.services.telehealth import lateness, meeting_list, portal
from rxapp.services.telehealth.meetings import actions, decisions, schedule, sync
from rxapp.services.telehealth.meetings import attention as meeting_attention
from rxapp.services.telehealth.zoom import connections
from rxapp.settings import get_settings
from rxapp.state.client_record import ClientRecordState
from rxapp.state.team import TeamState
from tests.fake_twilio import post_signed
from tests.integration.conftest import ZoomSandbox
from tests.integration.page_states import page_state, run, toasts
from tests.integration.zoom_helpers import SignedIn, connect, control, wait_until

NEW_YORK = ZoneInfo("America/New_York")
NOWHERE_ID = 10**9
YEAR = dashboard.Period(date(2026, 1, 1), date(2026, 12, 31))  # the owner's dashboard, over the whole year
CLIENT_FORM = records.ClientForm(first_name="Casey", last_name="Morgan", email="casey@demo.client",
                                 phone="+13125550199", timezone="America/Chicago")


# -- two practices built the same way ------------------------------------------------------------

@dataclass(frozen=True)
class Ids:
    """The rows of one practice that use cases take by id."""

    client: int  # Alex Rivera: trusts Dr. Lee, has a portal account
    practitioner: int  # Dr. Lee, Zoom connected
    member: int  # the front desk
    invited: int  # a team member invited, without a password yet
    appointment: int  # a future in-person visit (Dr. Lee with Sam)
    meeting: int  # a future telehealth appointment with its Zoom meeting (Dr. Lee with Alex)
    past: int  # a visit that has started, still booked
    login: int  # a sign-in session of the owner
    attempt: int  # Dr. Lee's Zoom connect attempt
    sms: str  # the message id of a caught SMS to Alex
    wish: int = 0  # Alex's waitlist wish (for Dr. Lee, put there by the front desk)


NOWHERE = Ids(*([NOWHERE_ID] * 9), sms="SMcatch-nowhere", wish=NOWHERE_ID)


@dataclass(frozen=True)
class Side:
    """One practice as its people use it."""

    practice_id: int
    owner: SignedIn
    lee: SignedIn
    desk: SignedIn
    alex: SignedIn
    ids: Ids
    feeds: tuple[str, str]  # the paths of Dr. Lee's calendar feed and of the owner's (everyone's)
    mail: Path  # the mail catcher's folder (shared by both practices, as in development)
    texts: Path  # the SMS catcher's folder (shared)

    @property
    def people(self) -> tuple[SignedIn, ...]:
        return self.owner, self.lee, self.desk, self.alex


def _as_second(email: str) -> str:
    return email.replace("@demo.clinic", "@second.clinic").replace("@demo.client", "@second.client")


def _rename_users(practice_id: int, rename: Callable[[str], str]) -> None:
    with unit_of_work() as s:
        for user in s.exec(select(User).where(User.practice_id == practice_id)):
            user.email = rename(user.email)


@cache
def _demo_password_hash(password: str) -> str:
    """The demo password's hash, made once per run (argon2 takes a third of a second)."""
    return hash_password(password)


def _load_demo(second: bool) -> int:
    """The demo practice, its week and its hours. The second one is loaded while the first one's people
    sign in elsewhere, then its people are given their own sign-in emails; its clients keep theirs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_data, "hash_password", _demo_password_hash)
        first = None
        if second:
            with unit_of_work() as s:
                first = s.exec(select(Practice.id).where(Practice.name == demo_data.PRACTICE_NAME)).one()
            _rename_users(first, lambda e: f"{e}.aside")
            patch.setattr(demo_data, "PRACTICE_NAME", "Second Practice")
        demo_data.load_demo_data()
        demo_data.load_demo_week()
        demo_data.load_demo_availability()
        with unit_of_work() as s:
            practice = s.exec(select(Practice).where(Practice.name == demo_data.PRACTICE_NAME)).one()
            practice.allow_zoom = True
    if first is not None:
        _rename_users(practice.id or 0, _as_second)
        _rename_users(first, lambda e: e.removesuffix(".aside"))
    return practice.id or 0


def _day(days: int) -> str:
    return (now() + timedelta(days=days)).astimezone(NEW_YORK).date().isoformat()


def _settle(zoom: ZoomSandbox) -> None:
    """Wait until the sandbox delivered every webhook and the app processed every event."""
    def settled() -> bool:
        pending = [d for d in control(zoom.url, "GET", "/deliveries")["deliveries"] if d["state"] == "pending"]
        with unit_of_work() as s:
            unprocessed = s.exec(select(WebhookEvent.id).where(col(WebhookEvent.processed_at).is_(None))).first()
        return not pending and unprocessed is None
    assert wait_until(settled)


def _signed_in(email: str) -> SignedIn:
    """A sign-in session as a right password gives one (its ticket), without the password hash's time."""
    with unit_of_work() as s:
        ticket = auth.issue_ticket(s, s.exec(select(User).where(User.email == email)).one())
    new = auth.redeem_ticket(ticket)
    assert new is not None
    return SignedIn(new.principal, new.token)


def _deliver(mail: Path, texts: Path) -> None:
    """Send what the outbox holds to the catchers: .eml files and the SMS catcher's files."""
    mail.mkdir(exist_ok=True)
    numbers = itertools.count(len(list(mail.glob("*.eml"))))

    def catch(email: outbox.OutgoingEmail) -> None:
        (mail / f"{next(numbers):04d}.eml").write_bytes(bytes(outbox.build_message(email)))

    while outbox.deliver_due(send=catch, limit=500, sms_provider=CatcherProvider(texts)):
        pass  # sending may queue more (the owner is told credits are low)


def _give_up_on_some(practice_id: int) -> None:
    """The practice's first message failed for good, and a Zoom event of it too."""
    with unit_of_work() as s:
        failed = s.exec(select(Notification).where(Notification.practice_id == practice_id,
                                                   Notification.channel == Channel.EMAIL)
                        .order_by(col(Notification.id))).first()
        assert failed is not None
        failed.status, failed.attempts, failed.failed_at = NotificationStatus.FAILED, outbox.MAX_ATTEMPTS, now()
        failed.last_error = "SMTP said no"
        s.add(WebhookEvent(practice_id=practice_id, dedupe_key=f"isolation:{practice_id}", event="meeting.ended",
                           payload="{}", error="RuntimeError: boom", attempts=5, processed_at=now(), failed_at=now()))


def _draft(client_id: int, practitioner_id: int, days: int, hour: str, *, telehealth: bool = False,
           timezone: str = "America/New_York") -> appointments.AppointmentDraft:
    return appointments.AppointmentDraft(client_id=client_id, practitioner_id=practitioner_id, date=_day(days),
                                         hour=hour, duration_minutes=50, telehealth=telehealth, timezone=timezone,
                                         allow_overlap=True, record_past=days < 0)


def build_practice(zoom: ZoomSandbox, folder: Path, *, second: bool) -> Side:
    """One practice, by the same steps for either (only its people's sign-in emails and the Zoom account
    of its Dr. Lee differ): the demo practice with Zoom allowed and Dr. Lee connected, a meeting made at
    Zoom, visits (one with Dr. Patel waiting for a Zoom she never connected), feeds, a team and a
    portal invite, an SMS, credits below the warning, a message and a Zoom event given up on; its mail
    and SMS delivered to the catchers."""
    email = _as_second if second else str
    practice_id = _load_demo(second)
    owner, lee, desk, alex = (_signed_in(email(e)) for e in ("owner@demo.clinic", "dr.lee@demo.clinic",
                                                             "frontdesk@demo.clinic", "alex@demo.client"))
    connect(zoom.url, lee, "patel@zoom.demo" if second else "lee@zoom.demo")
    with unit_of_work() as s:
        attempt = s.exec(select(OAuthAttempt.id).where(OAuthAttempt.practice_id == practice_id)).one() or 0
        login = s.exec(select(LoginSession.id).where(LoginSession.user_id == owner.principal.user_id)).one() or 0
        alex_id, sam_id = (s.exec(select(Client.id).where(Client.practice_id == practice_id,
                                                          Client.first_name == name)).one() or 0
                           for name in ("Alex", "Sam"))
        patel_id = s.exec(select(User.id).where(User.practice_id == practice_id,
                                                User.full_name == "Dr. Priya Patel")).one() or 0
        s.exec(select(Practice).where(Practice.id == practice_id)).one().sms_low_balance_threshold = 500
        outbox.queue_sms(s, practice_id=practice_id, key=f"isolation-sms:{practice_id}", to="+13125550101",
                         body="Your visit is on Friday.", telehealth=False, client_id=alex_id)
    meeting = schedule.schedule_meeting(lee.principal, schedule.MeetingDraft(
        topic="Check-in", description="", date=_day(3), hour="10:00", timezone="America/New_York",
        client_id=alex_id), overlap_confirmed=True).meeting_id or 0
    assert asyncio.run(sync.sync_meeting(meeting, force=True))
    booked = [appointments.book_appointments(desk.principal, draft).ids[0] for draft in (
        _draft(sam_id, lee.principal.user_id, 4, "14:00"), _draft(sam_id, lee.principal.user_id, -1, "08:00"),
        _draft(alex_id, patel_id, 4, "10:00", telehealth=True, timezone="Europe/London"))]
    own_feed, everyone_feed = (urlsplit(feeds.new_feed(w.principal, everyone=w is owner)).path for w in (lee, owner))
    invited = team.invite_member(owner.principal, email("nia.new@demo.clinic"), "Nia New", "staff").user_id
    accounts.send_portal_invite(desk.principal, records.add_client(desk.principal, CLIENT_FORM))
    mail, texts = folder / "mail", folder / "sms"
    _deliver(mail, texts)
    _give_up_on_some(practice_id)
    with unit_of_work() as s:
        sms = s.exec(select(Notification.provider_message_id).where(
            Notification.practice_id == practice_id, Notification.provider_message_id != "")).one()
    _settle(zoom)
    # A wish nothing matches (Sunday dawn): no offer, so no message waits to be sent after this point.
    wish = waitlist.add_wish(desk.principal, waitlist.WishForm(
        practitioner_id=str(lee.principal.user_id), weekdays=(6,), earliest="05:00", latest="06:00"), alex_id)
    ids = Ids(client=alex_id, practitioner=lee.principal.user_id, member=desk.principal.user_id, invited=invited,
              appointment=booked[0], meeting=meeting, past=booked[1], login=login, attempt=attempt, sms=sms,
              wish=wish)
    return Side(practice_id, owner, lee, desk, alex, ids, (own_feed, everyone_feed), mail, texts)


@pytest.fixture
def frozen() -> datetime:
    """The app's clock stands still, so both practices are built with the same times."""
    at = now().replace(microsecond=0)
    set_clock(lambda: at)
    return at


@pytest.fixture
def practices(zoom: ZoomSandbox, frozen: datetime, tmp_path: Path) -> tuple[Side, Side]:
    """Practice A, then practice B beside it."""
    return build_practice(zoom, tmp_path, second=False), build_practice(zoom, tmp_path, second=True)


# -- what is compared -------------------------------------------------------------------------------

Given = tuple[tuple[Any, ...], dict[str, Any]]


def given(*args: Any, **kwargs: Any) -> Given:
    """The arguments of a use case after its `principal`."""
    return args, kwargs


def outcome(use_case: Callable[..., Any], who: SignedIn, arguments: Given) -> tuple[str, Any]:
    """What the use case did for `who`: ("returned", its value, awaited and iterated) or the exception's
    type and message."""
    args, kwargs = arguments
    try:
        result = use_case(who.principal, *args, **kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        if isinstance(result, Iterator):
            result = list(result)
    except Exception as exc:  # the outcome under test
        return f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc)
    return "returned", _plain(result)


def _plain(result: Any) -> Any:
    """Answers that are not values made comparable: conditions become the clients they select, a
    ZIP's chunks the files in it."""
    if isinstance(result, list) and result and all(isinstance(c, ColumnElement) for c in result):
        with unit_of_work() as s:
            return sorted(s.exec(select(Client.id).where(*result)).all())
    if isinstance(result, list) and result and all(isinstance(c, bytes) for c in result):
        archive = zipfile.ZipFile(io.BytesIO(b"".join(result)))
        return {name: archive.read(name) for name in archive.namelist()}
    return result


def name_of(use_case: Callable[..., Any]) -> str:
    return f"{use_case.__module__.removeprefix('rxapp.services.')}.{use_case.__name__}"


def _of_practice(table: Table, practice_id: int) -> ColumnElement[bool] | None:
    """Which rows of `table` are the practice's: those with its practice_id, the practice itself, the
    Zoom side of its appointments, the sign-in throttle of its people (None: a table of nobody's)."""
    if "practice_id" in table.c:
        return table.c.practice_id == practice_id
    if table.name == "practice":
        return table.c.id == practice_id
    if table.name == "meeting":
        return table.c.id.in_(sa_select(Appointment.id).where(col(Appointment.practice_id) == practice_id))
    if table.name == "login_throttle":
        return table.c.email.in_(sa_select(User.email).where(col(User.practice_id) == practice_id))
    return None


def rows_of(practice_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the practice, table by table."""
    found = {}
    with unit_of_work() as s:
        for table in SQLModel.metadata.sorted_tables:
            where = _of_practice(table, practice_id)
            if where is not None:
                found[table.name] = [tuple(row) for row in s.execute(
                    sa_select(table).where(where).order_by(*table.primary_key.columns)).all()]
    return found


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _changed(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    return [table for table in after if after[table] != before.get(table)]


# -- 1. use cases that take a row id: B's ids are refused as ids that exist nowhere --------------------

def _later(days: int = 6) -> datetime:
    return (now() + timedelta(days=days)).replace(minute=0, second=0)


# (use case, its arguments for `w`, one of A's people, given `t`: B's ids or NOWHERE, and `a`: practice A)
ROW_IDS: list[tuple[Callable[..., Any], Callable[[SignedIn, Ids, Side], Given]]] = [
    (entries.list_entries, lambda w, t, a: given(entries.AuditFilters(actor_user_id=t.member))),
    (entries.export_rows, lambda w, t, a: given(entries.AuditFilters(actor_user_id=t.member))),
    (directory.list_clients, lambda w, t, a: given(after=str(t.client))),
    (directory.list_clients, lambda w, t, a: given(before=str(t.client))),
    (directory.pickable_client, lambda w, t, a: given(t.client)),
    (history.client_history, lambda w, t, a: given(t.client)),
    (records.client_detail, lambda w, t, a: given(t.client)),
    (records.edit_form, lambda w, t, a: given(t.client)),
    (records.update_client, lambda w, t, a: given(t.client, CLIENT_FORM)),
    (records.set_archived, lambda w, t, a: given(t.client, True)),
    (records.set_sms_opt_out, lambda w, t, a: given(t.client, True)),
    (records.set_email_reminders_opt_out, lambda w, t, a: given(t.client, True)),
    (accounts.send_portal_invite, lambda w, t, a: given(t.client)),
    (accounts.clients_with_open_invites, lambda w, t, a: given([t.client])),
    (mfa.reset_for, lambda w, t, a: given(t.member)),
    (sessions.end_session, lambda w, t, a: given(t.login)),
    (caught.reply_as_client, lambda w, t, a: given(a.texts, t.sms, "HELP")),
    (profiles.profile_details, lambda w, t, a: given(t.practitioner)),
    (profiles.update_profile, lambda w, t, a: given(t.practitioner, display_name="Dr. L", credentials="",
                                                    default_length_minutes=45)),
    (settings.set_telehealth, lambda w, t, a: given(t.practitioner, False)),
    (team.resend_invite, lambda w, t, a: given(t.invited)),
    (team.change_role, lambda w, t, a: given(t.member, "practitioner")),
    (team.deactivate_member, lambda w, t, a: given(t.member)),
    (team.reactivate_member, lambda w, t, a: given(t.member)),
    (team.future_visits, lambda w, t, a: given(t.practitioner)),
    (trust.set_trusted, lambda w, t, a: given(t.practitioner, True)),
    (appointments.book_appointments, lambda w, t, a: given(appointments.AppointmentDraft(
        client_id=t.client, practitioner_id=a.ids.practitioner, date=_day(5), hour="09:00", duration_minutes=50,
        telehealth=True, allow_overlap=True))),
    (appointments.book_appointments, lambda w, t, a: given(appointments.AppointmentDraft(
        client_id=a.ids.client, practitioner_id=t.practitioner, date=_day(5), hour="09:00", duration_minutes=50,
        telehealth=False, allow_overlap=True))),
    (appointments.change_appointment, lambda w, t, a: given(t.appointment, appointments.AppointmentChange(
        hour="16:00", allow_overlap=True))),
    (appointments.change_appointment, lambda w, t, a: given(a.ids.appointment, appointments.AppointmentChange(
        practitioner_id=t.practitioner, allow_overlap=True))),
    (appointments.cancel_appointment, lambda w, t, a: given(t.appointment, "Unwell")),
    (appointments.set_outcome, lambda w, t, a: given(t.past, AppointmentStatus.COMPLETED)),
    (availability_editor.availability_view, lambda w, t, a: given(t.practitioner)),
    (availability_editor.save_availability, lambda w, t, a: given(t.practitioner, [], [],
                                                                  availability_editor.RulesInput())),
    (calendar.week_view, lambda w, t, a: given(now().date(), 7, [t.practitioner], "UTC")),
    (calendar.appointment_detail, lambda w, t, a: given(t.appointment)),
    (calendar.appointment_detail, lambda w, t, a: given(t.meeting)),
    (self_booking.week_of_slots, lambda w, t, a: given(t.practitioner, now().date())),
    (self_booking.week_of_slots, lambda w, t, a: given(a.ids.practitioner, now().date(),
                                                       moving_appointment_id=t.meeting)),
    (self_booking.may_change, lambda w, t, a: given(t.meeting)),
    (self_booking.book_slot, lambda w, t, a: given(t.practitioner, _later(), 50, "telehealth")),
    (self_booking.reschedule_own, lambda w, t, a: given(t.meeting, _later(), 50, "telehealth")),
    (self_booking.cancel_own, lambda w, t, a: given(t.meeting)),
    (meeting_list.list_meetings, lambda w, t, a: given(meeting_list.MeetingFilters(practitioner_id=t.practitioner))),
    (meeting_list.list_meetings, lambda w, t, a: given(meeting_list.MeetingFilters(client_id=t.client))),
    (meeting_list.patients_for_filter, lambda w, t, a: given(t.practitioner)),
    (decisions.decisions_for, lambda w, t, a: given([t.meeting, t.appointment])),
    (schedule.schedule_meeting, lambda w, t, a: given(schedule.MeetingDraft(
        topic="Crafted", description="", date=_day(5), hour="11:00", timezone="America/New_York",
        client_id=t.client), overlap_confirmed=True)),
    (actions.start_url, lambda w, t, a: given(t.meeting)),
    (actions.end, lambda w, t, a: given(t.meeting)),
    (actions.cancel, lambda w, t, a: given(t.meeting, "Away")),
    (actions.delete, lambda w, t, a: given(t.meeting)),
    (actions.retry, lambda w, t, a: given(t.meeting)),
    (lateness.running_late, lambda w, t, a: given(t.meeting, 10, "Traffic")),
    (dashboard.dashboard, lambda w, t, a: given(YEAR, [t.practitioner], "UTC")),
    (waitlist.add_wish, lambda w, t, a: given(waitlist.WishForm(), t.client)),
    (waitlist.add_wish, lambda w, t, a: given(waitlist.WishForm(practitioner_id=str(t.practitioner)), a.ids.client)),
    (waitlist.wishes, lambda w, t, a: given(t.client)),
    (waitlist.remove_wish, lambda w, t, a: given(t.wish)),
    (waitlist.offer_now, lambda w, t, a: given(t.wish)),
    (portal.enter_waiting_room, lambda w, t, a: given(t.meeting)),
    (portal.waiting_room, lambda w, t, a: given(t.meeting)),
    (portal.issue_join_link, lambda w, t, a: given(t.meeting)),
    (connections.connection_view, lambda w, t, a: given(t.practitioner)),
    (connections.begin_connect, lambda w, t, a: given(t.practitioner, w.token)),
    (connections.review, lambda w, t, a: given(t.attempt)),
    (connections.check, lambda w, t, a: given(t.practitioner)),
    (connections.acknowledge_notice, lambda w, t, a: given(t.practitioner)),
    (connections.disconnect, lambda w, t, a: given(t.practitioner)),
]


def test_ids_of_another_practice_are_refused_exactly_like_ids_that_exist_nowhere(practices) -> None:
    a, b = practices
    problems: list[str] = []
    before = rows_of(b.practice_id)
    for use_case, arguments in ROW_IDS:
        for who in a.people:
            theirs = outcome(use_case, who, arguments(who, b.ids, a))
            nowhere = outcome(use_case, who, arguments(who, NOWHERE, a))
            if theirs != nowhere:
                problems.append(f"{name_of(use_case)} by A's {who.principal.role}: B's ids -> {theirs}; "
                                f"ids that exist nowhere -> {nowhere}")
        after = rows_of(b.practice_id)
        if after != before:
            problems.append(f"{name_of(use_case)} changed practice B: {_changed(before, after)}")
            before = after
    assert not problems, "\n".join(problems)

    # Two page handlers that take ids, as a browser sends them: they ask these use cases.
    def text_consent(client_id: int) -> list[tuple[str, str]]:
        page = page_state(ClientRecordState, f"/clients/{a.ids.client}", a.desk.principal.email)
        return toasts(run(page.set_sms_consent(client_id, False)))

    def role(user_id: int) -> list[tuple[str, str]]:
        page = page_state(TeamState, "/team", a.owner.principal.email)
        return toasts(run(page.change_role(user_id, "practitioner")))

    assert text_consent(b.ids.client) == text_consent(NOWHERE_ID) == [
        ("error", "That client was not found or is not yours to change.")]
    assert role(b.ids.member) == role(NOWHERE_ID) == [("error", "That person is not on your practice's team.")]
    assert _changed(before, rows_of(b.practice_id)) == []


# -- 2. reads without ids: the same answers whether or not B exists ------------------------------------

# (use case, its arguments for `w`, one of A's people, in practice `a`): each is asked by every one of A's people.
READS: list[tuple[Callable[..., Any], Callable[[SignedIn, Side], Given]]] = [
    (attention.failed_zoom_events, lambda w, a: given()),
    (attention.failed_messages, lambda w, a: given()),
    (attention.sms_credit_warning, lambda w, a: given()),
    (entries.people, lambda w, a: given()),
    (entries.list_entries, lambda w, a: given(entries.AuditFilters())),
    (entries.export_rows, lambda w, a: given(entries.AuditFilters())),
    (directory.visible_clients, lambda w, a: given()),
    (directory.list_clients, lambda w, a: given()),
    (directory.list_clients, lambda w, a: given("alex")),
    (directory.search_clients, lambda w, a: given("a")),
    (history.my_history, lambda w, a: given()),
    (history.client_history, lambda w, a: given(a.ids.client)),
    (records.new_client_form, lambda w, a: given()),
    (records.client_detail, lambda w, a: given(a.ids.client)),  # who else has Alex's phone
    (mfa.status, lambda w, a: given()),
    (sessions.my_sessions, lambda w, a: given(w.token)),
    (mailbox.caught_mail_of_practice, lambda w, a: given(a.mail)),
    (sms_account.credits_view, lambda w, a: given()),
    (caught.caught_sms_of_practice, lambda w, a: given(a.texts)),
    (permissions.can, lambda w, a: given(permissions.Action.VIEW_CLIENTS)),
    (permissions.require, lambda w, a: given(permissions.Action.VIEW_CALENDAR)),
    (permissions.navigation_for, lambda w, a: given()),
    (permissions.home_path, lambda w, a: given()),
    (export.export_archive, lambda w, a: given()),
    (profiles.viewer_timezone, lambda w, a: given()),
    (profiles.profile_details, lambda w, a: given(a.ids.practitioner)),
    (settings.get_settings_view, lambda w, a: given()),
    (settings.confirmations_asked, lambda w, a: given()),
    (settings.get_self_booking, lambda w, a: given()),
    (setup.checklist, lambda w, a: given()),
    (signup.confirmation, lambda w, a: given()),
    (waitlist.wishes, lambda w, a: given()),
    (dashboard.practitioners, lambda w, a: given()),
    (dashboard.dashboard, lambda w, a: given(YEAR, None, "UTC")),
    (waitlist.practitioner_choices, lambda w, a: given()),
    (team.list_team, lambda w, a: given()),
    (team.future_visits, lambda w, a: given(a.ids.practitioner)),
    (trust.practitioner_choices, lambda w, a: given()),
    (availability_editor.editable_practitioners, lambda w, a: given()),
    (availability_editor.availability_view, lambda w, a: given(a.ids.practitioner)),
    (calendar.practitioners, lambda w, a: given()),
    (calendar.week_view, lambda w, a: given(now().date() - timedelta(days=1), 7, [a.ids.practitioner], "UTC")),
    (calendar.appointment_detail, lambda w, a: given(a.ids.meeting)),
    (feeds.status, lambda w, a: given()),
    (self_booking.bookable_practitioners, lambda w, a: given()),
    (self_booking.week_of_slots, lambda w, a: given(a.ids.practitioner, now().date(), first_open=True)),
    (meeting_list.list_meetings, lambda w, a: given(meeting_list.MeetingFilters())),
    (meeting_list.list_meetings, lambda w, a: given(meeting_list.MeetingFilters(search="alex check"))),
    (meeting_list.patients_for_filter, lambda w, a: given()),
    (meeting_attention.meetings_needing_attention, lambda w, a: given()),
    (decisions.decisions_for, lambda w, a: given([a.ids.meeting])),
    (schedule.trusted_patients, lambda w, a: given()),
    (schedule.zoom_blocker, lambda w, a: given()),
    (schedule.zoom_problem, lambda w, a: given()),
    (portal.client_id, lambda w, a: given()),
    (portal.my_sessions, lambda w, a: given()),
    (portal.waiting_room, lambda w, a: given(a.ids.meeting)),
    (connections.connection_view, lambda w, a: given(a.ids.practitioner)),
]


def answers(a: Side) -> dict[str, Any]:
    return {f"{name_of(use_case)}{arguments(who, a)} by A's {who.principal.role}":
            outcome(use_case, who, arguments(who, a)) for use_case, arguments in READS for who in a.people}


def test_reads_answer_the_same_whether_or_not_another_practice_exists(zoom, frozen, tmp_path) -> None:
    a = build_practice(zoom, tmp_path, second=False)
    before = rows_of(a.practice_id)
    alone = answers(a)
    after = rows_of(a.practice_id)
    assert _changed(before, after) in ([], ["audit_event"]), "reads wrote more than their audit entries"
    with unit_of_work() as s:  # the reads' own audit entries (an export is audited) would change the next answers
        s.execute(delete(AuditEvent).where(col(AuditEvent.id).not_in([row[0] for row in before["audit_event"]]),
                                           col(AuditEvent.practice_id) == a.practice_id))
    build_practice(zoom, tmp_path, second=True)
    beside = answers(a)
    assert alone.keys() == beside.keys()
    different = [f"{key}:\n  alone  {_short(alone[key])}\n  beside {_short(beside[key])}"
                 for key in alone if alone[key] != beside[key]]
    assert not different, "\n".join(different)


# -- 3. writes without ids (and A's writes of its own rows) leave B untouched --------------------------

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
IMPORT = (b"First name,Last name,Email,Mobile\r\nAlex,Rivera,alex@demo.client,+13125550111\r\n"
          b"Sam,Taylor,sam@demo.client,\r\nRobin,Reyes,robin@demo.client,+13125550101\r\n")


@dataclass(frozen=True)
class Write:
    who: str  # which of A's people does it
    use_case: Callable[..., Any]
    arguments: Callable[[SignedIn, Side, Side], Given]  # (who, practice A, practice B)
    refused: bool = False  # expected to be refused (and then to have written nothing anywhere)


WRITES: list[Write] = [
    Write("lee", profiles.set_own_timezone, lambda w, a, b: given("Europe/Paris")),
    Write("owner", settings.save_settings, lambda w, a, b: given(replace(
        settings.get_settings_view(w.principal)[0], standard_reminder_days=3, telehealth_reminder_minutes=20,
        telehealth_reminder_includes_link=True, phone="+13125550100"))),
    Write("owner", settings.set_confirmations, lambda w, a, b: given(True)),
    Write("owner", settings.save_self_booking, lambda w, a, b: given(replace(
        settings.get_self_booking(w.principal), self_booking_any_practitioner=True, cancellation_window_hours=2))),
    Write("owner", team.invite_member, lambda w, a, b: given(b.desk.principal.email, "Frankie Frontdesk", "staff"),
          refused=True),
    Write("owner", team.invite_member, lambda w, a, b: given("pat.new@demo.clinic", "Pat New", "practitioner")),
    Write("desk", importing.import_clients, lambda w, a, b: given(
        IMPORT, {"first_name": 0, "last_name": 1, "email": 2, "phone": 3}, update_existing=True, dry_run=False)),
    Write("desk", records.add_client, lambda w, a, b: given(replace(CLIENT_FORM, first_name="Drew",
                                                                    email="drew@demo.client"))),
    Write("owner", sms_account.add_credits, lambda w, a, b: given("50", "Top-up")),
    Write("owner", sms_account.set_threshold, lambda w, a, b: given("30")),
    Write("lee", feeds.new_feed, lambda w, a, b: given()),
    Write("lee", feeds.stop_feed, lambda w, a, b: given()),
    Write("owner", feeds.new_feed, lambda w, a, b: given(everyone=True)),
    Write("owner", feeds.set_full_names, lambda w, a, b: given(True)),
    Write("lee", mfa.begin, lambda w, a, b: given()),
    Write("lee", mfa.enable, lambda w, a, b: given(TOTP_SECRET, mfa.code_at(TOTP_SECRET, now()))),
    Write("lee", mfa.disable, lambda w, a, b: given(demo_data.DEMO_PASSWORD)),
    Write("owner", mfa.set_required, lambda w, a, b: given(True)),
    Write("owner", signup.resend_confirmation, lambda w, a, b: given(), refused=True),  # confirmed already
    Write("owner", sessions.end_other_sessions, lambda w, a, b: given(b.owner.token)),
    # HELP changes nothing; a STOP or YES from Alex's number is the number's, in every practice, as at Twilio
    # (the routes test sends one).
    Write("desk", caught.reply_as_client, lambda w, a, b: given(a.texts, a.ids.sms, "HELP")),
    # A's own rows, whose clients share B's clients' names, emails and phones
    Write("alex", portal.enter_waiting_room, lambda w, a, b: given(a.ids.meeting)),
    Write("alex", trust.set_trusted, lambda w, a, b: given(a.ids.practitioner, False)),
    Write("desk", records.update_client, lambda w, a, b: given(a.ids.client, replace(
        CLIENT_FORM, first_name="Alexandra", last_name="Rivera", email="alex@demo.client", phone="+13125550101"))),
    Write("desk", records.set_sms_opt_out, lambda w, a, b: given(a.ids.client, True)),
    Write("desk", accounts.send_portal_invite, lambda w, a, b: given(a.ids.client)),
    Write("desk", appointments.change_appointment, lambda w, a, b: given(
        a.ids.appointment, appointments.AppointmentChange(hour="15:00", allow_overlap=True))),
    Write("desk", appointments.cancel_appointment, lambda w, a, b: given(a.ids.appointment, "Unwell")),
    Write("lee", appointments.set_outcome, lambda w, a, b: given(a.ids.past, AppointmentStatus.NO_SHOW)),
    Write("lee", lateness.running_late, lambda w, a, b: given(a.ids.meeting, 10)),  # texts Alex's number
    Write("desk", waitlist.add_wish, lambda w, a, b: given(waitlist.WishForm(weekdays=(6,), earliest="05:00",
                                                                             latest="06:00"), a.ids.client)),
    Write("desk", waitlist.offer_now, lambda w, a, b: given(a.ids.wish)),
    Write("alex", waitlist.remove_wish, lambda w, a, b: given(a.ids.wish)),
    Write("lee", actions.cancel, lambda w, a, b: given(a.ids.meeting, "Away")),
    Write("owner", settings.set_telehealth, lambda w, a, b: given(a.ids.practitioner, False)),
    Write("owner", connections.disconnect, lambda w, a, b: given(a.ids.practitioner)),
    Write("owner", team.deactivate_member, lambda w, a, b: given(a.ids.member)),
]


def test_writes_of_one_practice_leave_the_other_untouched(zoom, practices) -> None:
    a, b = practices
    problems: list[str] = []
    before = rows_of(b.practice_id)
    for write in WRITES:
        who = getattr(a, write.who)
        done = outcome(write.use_case, who, write.arguments(who, a, b))
        if (done[0] != "returned") != write.refused:
            problems.append(f"{name_of(write.use_case)} by A's {write.who}: {done}")
        after = rows_of(b.practice_id)
        if after != before:
            problems.append(f"{name_of(write.use_case)} by A's {write.who} changed practice B: "
                            f"{_changed(before, after)}")
            before = after
    _settle(zoom)  # and what Zoom reported back about A's meetings and connections
    if _changed(before, rows_of(b.practice_id)):
        problems.append(f"Zoom's answers to A's writes changed practice B: {_changed(before, rows_of(b.practice_id))}")
    assert not problems, "\n".join(problems)


# -- 4. HTTP routes, and the calls of Zoom and Twilio -------------------------------------------------

MARK = "only-in-the-second-practice"


def _mark(practice_id: int) -> None:
    """A marker on the practice's name, people, clients' and visits' notes, to look for in what A downloads."""
    with unit_of_work() as s:
        practice = s.exec(select(Practice).where(Practice.id == practice_id)).one()
        practice.name, practice.address = f"{practice.name} {MARK}", MARK
        for user in s.exec(select(User).where(User.practice_id == practice_id)):
            user.full_name = f"{user.full_name} {MARK}"
        for row in [*s.exec(select(Client).where(Client.practice_id == practice_id)),
                    *s.exec(select(Appointment).where(Appointment.practice_id == practice_id))]:
            row.notes = MARK


def _browser(zoom: ZoomSandbox, who: SignedIn | None) -> httpx.Client:
    """A browser on the app's routes (served for the sandbox's webhooks), signed in as `who`."""
    cookies = {get_settings().session_cookie_name: who.token} if who else {}
    return httpx.Client(base_url=zoom.app_url, cookies=cookies, follow_redirects=False, timeout=30)


def _answer(response: httpx.Response) -> tuple[int, str, str]:
    return response.status_code, response.headers.get("location", ""), response.text


def _meeting(meeting_id: int) -> Meeting:
    with unit_of_work() as s:
        found = s.get(Meeting, meeting_id)
    assert found is not None
    return found


def test_routes_answer_a_session_with_another_practices_ids_as_with_unknown_ones(zoom, practices) -> None:
    a, b = practices

    def get(who: SignedIn | None, path: str) -> tuple[int, str, str]:
        with _browser(zoom, who) as browser:
            return _answer(browser.get(path))

    def start(meeting_id: int) -> tuple[int, str, str]:  # the host's Start link, made by A's own page
        return get(a.lee, f"/meetings/{meeting_id}/start?t={auth.request_token(a.lee.token, f'start:{meeting_id}')}")

    def reminder_link(purpose: str, subject_id: int, client_id: int) -> tuple[tuple[int, str, str], ...]:
        path = f"/r/{purpose}/{links.make_token(purpose, subject_id, client_id)}"
        with _browser(zoom, None) as browser:
            return (_answer(browser.get(path)),
                    _answer(browser.post(path, headers={"origin": zoom.app_url, "sec-fetch-site": "same-origin"})))

    state = parse_qs(urlsplit(connections.begin_connect(b.lee.principal, b.ids.practitioner, b.lee.token)).query)
    with unit_of_work() as s:  # B's client's join link, and one of another client of A (A's Sam)
        sam = s.exec(select(Client.id).where(Client.practice_id == a.practice_id, Client.first_name == "Sam")).one()
        for practice_id, meeting, client, token in ((b.practice_id, b.ids.meeting, b.ids.client, "b-alex-link"),
                                                    (a.practice_id, a.ids.meeting, sam, "a-sam-link")):
            s.add(JoinLink(practice_id=practice_id, meeting_id=meeting, client_id=client or 0,
                           token_hash=one_time.digest(token)))
    untouched = rows_of(b.practice_id)

    assert start(b.ids.meeting) == start(NOWHERE_ID)
    assert get(a.owner, f"/audit/export.csv?person={b.ids.member}") == \
        get(a.owner, f"/audit/export.csv?person={NOWHERE_ID}")
    assert get(a.lee, f"/auth/zoom/callback?state={state['state'][0]}&code=c") == \
        get(a.lee, "/auth/zoom/callback?state=nowhere&code=c")
    assert reminder_link(links.CONFIRM, b.ids.appointment, a.ids.client) == \
        reminder_link(links.CONFIRM, NOWHERE_ID, a.ids.client)
    assert reminder_link(links.CONFIRM, a.ids.appointment, b.ids.client) == \
        reminder_link(links.CONFIRM, a.ids.appointment, NOWHERE_ID)
    # A join link is refused to anyone but its client, in the same words whoever holds it (see
    # test_portal.py): B's client's link is to A's client what a link of another client of A is.
    assert get(a.alex, "/join/b-alex-link") == get(a.alex, "/join/a-sam-link")
    assert get(a.alex, "/join/b-alex-link")[0] == 410
    assert _changed(untouched, rows_of(b.practice_id)) == []

    # B's signed links lead to B only, though A's Alex has the same email.
    a_rows = rows_of(a.practice_id)
    reminder_link(links.STOP_EMAIL, b.ids.client, b.ids.client)
    with unit_of_work() as s:
        assert s.get(Client, b.ids.client).email_reminders_opt_out  # type: ignore[union-attr]
    assert _changed(a_rows, rows_of(a.practice_id)) == []

    # What A downloads and subscribes to holds nothing of B.
    _mark(b.practice_id)
    with _browser(zoom, a.owner) as browser:
        archive = browser.get(f"/export.zip?t={auth.request_token(a.owner.token, 'export')}")
        audit = browser.get("/audit/export.csv")
    assert archive.status_code == audit.status_code == 200
    downloaded = _plain([archive.content]) | {"audit export": audit.content, **{
        path: httpx.get(f"{zoom.app_url}{path}").content for path in a.feeds}}
    assert [name for name, body in downloaded.items() if MARK.encode() in body] == []
    assert all(MARK.encode() in httpx.get(f"{zoom.app_url}{path}").content for path in b.feeds)


def test_zoom_and_twilio_calls_about_one_practice_change_only_that_one(zoom, practices, monkeypatch) -> None:
    a, b = practices
    a_rows = rows_of(a.practice_id)
    control(zoom.url, "POST", f"/meetings/{_meeting(b.ids.meeting).zoom_meeting_id}/start")  # B's Dr. Lee starts
    assert wait_until(lambda: _meeting(b.ids.meeting).started_at is not None)
    _settle(zoom)
    with unit_of_work() as s:
        started = s.exec(select(WebhookEvent.practice_id).where(WebhookEvent.event == "meeting.started")).all()
    assert started == [b.practice_id]

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "isolation-twilio-token")
    get_settings.cache_clear()
    delivery = {"MessageSid": b.ids.sms, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post_signed(twilio_hooks.signed_url(STATUS_CALLBACK_PATH), delivery, "isolation-twilio-token") \
        .status_code == 204
    with unit_of_work() as s:
        refunds = s.exec(select(SmsCreditEntry.practice_id).where(SmsCreditEntry.kind == CreditKind.REFUND)).all()
    assert refunds == [b.practice_id]
    assert _changed(a_rows, rows_of(a.practice_id)) == []

    # STOP from a number both practices have: the carrier stops it for both (Twilio blocks the number),
    # and each practice records it on its own client only.
    stop = {"From": "+13125550101", "To": "+15005550006", "Body": "STOP"}
    assert post_signed(twilio_hooks.signed_url(INBOUND_PATH), stop, "isolation-twilio-token").status_code == 200
    for side in (a, b):
        with unit_of_work() as s:
            recorded = s.exec(select(AuditEvent.subject_id).where(AuditEvent.practice_id == side.practice_id,
                                                                  AuditEvent.action == "client.sms_opted_out")).all()
        assert recorded == [str(side.ids.client)]


# -- the tables are complete -----------------------------------------------------------------------

def _use_cases() -> set[Callable[..., Any]]:
    """Every public function of rxapp/services whose first parameter is `principal`."""
    found = set()
    for module_info in pkgutil.walk_packages(rxapp.services.__path__, "rxapp.services."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__ \
                    and list(inspect.signature(value).parameters)[:1] == ["principal"]:
                found.add(value)
    return found


def test_every_use_case_is_in_a_table() -> None:
    listed = {u for u, _ in ROW_IDS} | {u for u, _ in READS} | {w.use_case for w in WRITES}
    use_cases = _use_cases()
    assert len(use_cases) >= 108
    assert sorted(map(name_of, use_cases - listed)) == [], "use cases no table lists"
    assert sorted(map(name_of, listed - use_cases)) == [], "listed, but not a use case"
