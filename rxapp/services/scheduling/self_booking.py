"""Client self-booking in the portal: book a session in a practitioner's open slot, move it to
another open slot, cancel it.

The principal is always the client's own portal user; no client id ever comes from the caller.
Whatever the page showed, every write re-checks on the server, inside the booking transaction
and after the practitioner's booking lock (services.scheduling.booking_lock): the client's own
record and not archived, the practice allows self-booking, the practitioner may be booked by
this client (trusted, when the practice requires it; new clients only when the practitioner
takes them), the slot is still open (minimum notice, horizon, mode, day's maximum, nobody else
in it) and, for a move or a cancellation, that the appointment is outside the practice's
cancellation window. The writes themselves are the appointment book's use cases, so a telehealth
booking gets its Zoom meeting the usual way, the client their email, the calendar its live update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    BookingRule,
    Client,
    Practice,
    PractitionerProfile,
    TrustedPractitioner,
    User,
    WaitlistOffer,
    WaitlistWish,
)
from rxapp.models.practice import CANCELLATION_MESSAGE
from rxapp.services.clients.directory import own_client_record
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.phrases import count
from rxapp.services.practice import profiles
from rxapp.services.scheduling import availability, booking_lock, waitlist
from rxapp.services.scheduling.appointments import (
    AppointmentChange,
    AppointmentDraft,
    AppointmentInvalid,
    AppointmentRefused,
    OverlapWarning,
    Saved,
    book_appointments,
    cancel_appointment,
    change_appointment,
)
from rxapp.services.scheduling.booking_lock import BookingBusy, SlotTaken
from rxapp.services.scheduling.slots import Slot, SlotMode, group_by_local_day, why_not_open
from rxapp.services.timezones import format_local

__all__ = ["BookablePractitioner", "Moving", "SelfBookingRefused", "SlotTaken", "Week", "book_slot",
           "bookable_practitioners", "cancel_own", "may_change", "reschedule_own", "week_of_slots"]

DEFAULT_CANCELLATION_MESSAGE = CANCELLATION_MESSAGE
CLIENT_CANCEL_REASON = "Cancelled by you in your portal."
CLIENT_REASON_MAX = 300


class SelfBookingRefused(Exception):
    """The client may not do this; the message says why and what to do instead."""


@dataclass(frozen=True)
class BookablePractitioner:
    practitioner_id: int
    name: str


@dataclass(frozen=True)
class Week:
    """A week of a practitioner's open slots, grouped by the client's local day (7 days from
    `first_day`; a day without slots has an empty list)."""

    practitioner_id: int
    practitioner_name: str
    first_day: date
    timezone: str  # the client's: days and times are theirs
    days: list[tuple[date, list[Slot]]]
    length_minutes: int
    lengths: tuple[int, ...]  # offered by the practitioner
    telehealth_unavailable: str  # "" or why no telehealth slots are offered
    has_earlier: bool  # the week before still has bookable days (not all in the past)
    has_later: bool  # the week after starts inside the booking horizon


# -- checks, all inside the caller's transaction -------------------------------------------------

def _client(session: Session, principal: Principal) -> tuple[Client, Practice]:
    require(principal, Action.USE_PORTAL)
    client = own_client_record(session, principal)
    if client is None:
        raise SelfBookingRefused("Your portal account is not linked to a client record. Please contact the practice.")
    if client.archived_at is not None:
        raise SelfBookingRefused("Your client record is archived, so you cannot book online. "
                                 "Please contact the practice.")
    practice = session.get(Practice, client.practice_id)
    assert practice is not None
    if not practice.self_booking_enabled:
        raise SelfBookingRefused(f"{practice.name} does not take bookings in the portal. Please contact the practice.")
    return client, practice


def _allowed_practitioners(session: Session, client: Client,
                           practice: Practice) -> list[tuple[User, PractitionerProfile]]:
    rows = session.exec(
        select(User, PractitionerProfile).join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id)
        .where(User.practice_id == practice.id, col(User.is_active).is_(True)).order_by(col(User.full_name))).all()
    if practice.self_booking_any_practitioner:
        return list(rows)
    trusted = set(session.exec(select(TrustedPractitioner.practitioner_id)
                               .where(TrustedPractitioner.client_id == client.id)).all())
    return [(u, p) for u, p in rows if u.id in trusted]


def _practitioner(session: Session, client: Client, practice: Practice,
                  practitioner_id: int) -> tuple[User, PractitionerProfile]:
    for user, profile in _allowed_practitioners(session, client, practice):
        if user.id == practitioner_id:
            return user, profile
    if practice.self_booking_any_practitioner:
        raise SelfBookingRefused("That practitioner cannot be booked. Choose another practitioner.")
    raise SelfBookingRefused("You can book only your trusted practitioners: add them under My practitioners.")


def _takes_client(session: Session, client: Client, user: User) -> None:
    """A practitioner who takes no new clients online is booked only by clients they have seen."""
    rule = session.get(BookingRule, user.id)
    if rule is None or rule.new_clients_may_self_book:
        return
    seen = session.exec(select(Appointment.id).where(
        Appointment.client_id == client.id, Appointment.practitioner_id == user.id,
        col(Appointment.status).in_([AppointmentStatus.COMPLETED, AppointmentStatus.IN_PROGRESS]))).first()
    if seen is None:
        raise SelfBookingRefused(f"{user.full_name} does not take new clients online. Please contact the practice.")


def _mode(slot_mode: str) -> SlotMode:
    try:
        mode = SlotMode(slot_mode)
    except ValueError:
        raise SelfBookingRefused("Choose in person or telehealth.") from None
    if mode == SlotMode.BOTH:
        raise SelfBookingRefused("This time is offered in person and by telehealth: choose one.")
    return mode


def _slot_open(session: Session, practitioner_id: int, start_at: datetime, length: int, mode: SlotMode,
               exclude: frozenset[int] = frozenset()) -> None:
    """Refuse unless the slot is open now; `SlotTaken` when only other bookings close it."""
    why = availability.slot_is_open(session, practitioner_id, start_at, length, mode, exclude)
    if not why:
        return
    schedule, problem = availability.load_schedule(session, practitioner_id, start_at,
                                                   start_at + timedelta(minutes=length),
                                                   exclude_appointment_ids=exclude)
    if not why_not_open(replace(schedule, busy=()), start_at, length, mode, now(), problem):
        raise SlotTaken()
    raise SelfBookingRefused(why)


def _outside_window(practice: Practice, appointment: Appointment, verb: str) -> None:
    hours = practice.cancellation_window_hours
    if appointment.start_at - now() < timedelta(hours=hours):
        message = practice.cancellation_message.strip() or DEFAULT_CANCELLATION_MESSAGE
        raise SelfBookingRefused(f"This appointment starts within {hours} hours, so it cannot be {verb} online. "
                                 f"{message}")


def _within_limits(session: Session, client: Client, practice: Practice, start_at: datetime, length: int,
                   moving: int | None = None) -> None:
    """A client's own booking: never over another of their visits (any practitioner), and within
    the practice's limits of self-booked visits per day (the client's day) and still to come. The
    front desk is not limited. Call under the booking locks (`booking_lock.lock_client`)."""
    booking_lock.lock_client(session, client.id or 0)
    end = start_at + timedelta(minutes=length)
    mine = select(Appointment).where(Appointment.client_id == client.id,
                                     col(Appointment.status).in_([AppointmentStatus.BOOKED,
                                                                  AppointmentStatus.IN_PROGRESS]),
                                     col(Appointment.id) != (moving or 0))
    clash = session.exec(mine.where(col(Appointment.start_at) < end,
                                    col(Appointment.start_at) > start_at - timedelta(hours=24))).all()
    for other in clash:
        if other.end_at > start_at:
            when = format_local(other.start_at, client.timezone)
            raise SelfBookingRefused(f"You already have an appointment then ({when}). Choose another time.")
    if client.user_id is None:
        return
    booked_online = mine.where(Appointment.created_by_user_id == client.user_id)
    zone = ZoneInfo(client.timezone)
    day = start_at.astimezone(zone).date()
    day_start = datetime.combine(day, time(), zone).astimezone(UTC)
    same_day = session.exec(booked_online.where(col(Appointment.start_at) >= day_start,
                                                col(Appointment.start_at) < day_start + timedelta(days=1))).all()
    if len(same_day) >= practice.self_booking_max_per_day:
        raise SelfBookingRefused(f"You can book {count(practice.self_booking_max_per_day, 'visit')} a day online. "
                                 "Choose another day, or call the practice.")
    upcoming = session.exec(booked_online.where(col(Appointment.start_at) > now())).all()
    if moving is None and len(upcoming) >= practice.self_booking_max_upcoming:
        raise SelfBookingRefused(f"You already have {count(len(upcoming), 'visit')} booked online, the most the "
                                 "practice allows at once. Call the practice to book more.")


def _own_booked(session: Session, client: Client, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.client_id != client.id:
        raise SelfBookingRefused("That is not one of your appointments.")
    if appointment.status != AppointmentStatus.BOOKED:
        shown = AppointmentStatus(appointment.status).value.replace("_", " ")
        raise SelfBookingRefused(f"Only a booked appointment can be changed; this one is {shown}.")
    return appointment


def _as_utc(start_at: datetime) -> datetime:
    if start_at.tzinfo is None:
        raise SelfBookingRefused("Choose a time from the list.")
    return start_at.astimezone(UTC)


# -- reading ------------------------------------------------------------------------------------

def bookable_practitioners(principal: Principal) -> list[BookablePractitioner]:
    """The practitioners this client may book: those they trust, or every active practitioner of
    the practice when it allows that. Raises `SelfBookingRefused`, `NotAllowed`."""
    with unit_of_work() as session:
        client, practice = _client(session, principal)
        return [BookablePractitioner(u.id or 0, profiles.client_facing_name(u.full_name, p))
                for u, p in _allowed_practitioners(session, client, practice)]


def week_of_slots(principal: Principal, practitioner_id: int, first_day: date, length: int | None = None, *,
                  moving_appointment_id: int | None = None, first_open: bool = False) -> Week:
    """The practitioner's open slots for the 7 client-local days from `first_day` (for a move,
    the appointment being moved does not block its own time). With `first_open`, the first such
    week (whole weeks on from `first_day`) that has an open slot within the booking horizon, so a
    client never starts on an empty week; `first_day` itself when none has. Raises `SelfBookingRefused`."""
    with unit_of_work() as session:
        client, practice = _client(session, principal)
        user, profile = _practitioner(session, client, practice, practitioner_id)
        exclude: frozenset[int] = frozenset()
        if moving_appointment_id is not None:
            moving = _own_booked(session, client, moving_appointment_id)
            _outside_window(practice, moving, "moved")
            exclude = frozenset({moving.id or 0})
        rules = availability.rules_of(session.get(BookingRule, practitioner_id))
        lengths = rules.lengths
        chosen = length if length in lengths else (profile.default_length_minutes
                                                   if profile.default_length_minutes in lengths
                                                   else (lengths[0] if lengths else 0))
        zone = ZoneInfo(client.timezone)
        if first_open and chosen:
            first_day = _first_open_week(session, practitioner_id, first_day, zone, chosen, exclude, rules.horizon_days)
        start = datetime.combine(first_day, time(), zone).astimezone(UTC)
        end = datetime.combine(first_day + timedelta(days=7), time(), zone).astimezone(UTC)
        result = availability.open_slots_for(session, practitioner_id, start, end, length=chosen or None,
                                             exclude_appointment_ids=exclude) if chosen else None
        by_day = dict(group_by_local_day(result.slots if result else [], client.timezone))
        days = [(first_day + timedelta(days=i), by_day.get(first_day + timedelta(days=i), [])) for i in range(7)]
        at = now()
        return Week(practitioner_id=practitioner_id, practitioner_name=profiles.client_facing_name(user.full_name,
                                                                                                   profile),
                    first_day=first_day, timezone=client.timezone, days=days, length_minutes=chosen,
                    lengths=lengths, telehealth_unavailable=result.telehealth_unavailable if result else "",
                    has_earlier=start > at, has_later=end < at + timedelta(days=rules.horizon_days))


def _first_open_week(session: Session, practitioner_id: int, first_day: date, zone: ZoneInfo, length: int,
                     exclude: frozenset[int], horizon_days: int) -> date:
    """The first day of the first whole week from `first_day` holding an open slot (`first_day` when
    none does before the horizon)."""
    start = datetime.combine(first_day, time(), zone).astimezone(UTC)
    until = max(start, now()) + timedelta(days=horizon_days)
    found = availability.open_slots_for(session, practitioner_id, start, until, length=length,
                                        exclude_appointment_ids=exclude).slots
    if not found:
        return first_day
    weeks = (min(s.start_at for s in found).astimezone(zone).date() - first_day).days // 7
    return first_day + timedelta(weeks=max(weeks, 0))


@dataclass(frozen=True)
class Moving:
    """The client's own appointment they are about to move."""

    appointment_id: int
    practitioner_id: int
    start_at: datetime
    duration_minutes: int
    telehealth: bool


def may_change(principal: Principal, appointment_id: int, verb: str = "moved") -> Moving:
    """The client's own booked appointment, when it may still be moved or cancelled online (asked
    before the client picks a new time; the write checks again). Raises `SelfBookingRefused` with
    the practice's message inside its cancellation window."""
    with unit_of_work() as session:
        client, practice = _client(session, principal)
        appointment = _own_booked(session, client, appointment_id)
        _outside_window(practice, appointment, "cancelled" if verb == "cancelled" else "moved")
        return Moving(appointment.id or 0, appointment.practitioner_id, appointment.start_at,
                      appointment.duration_minutes, appointment.telehealth)


# -- writing ------------------------------------------------------------------------------------

def _for_the_client(write: Callable[[], Saved]) -> Saved:
    """Run an appointment-book use case; its refusals become the client's words (the book's
    overlap warning names other clients, so a client only hears that the time was taken)."""
    try:
        return write()
    except OverlapWarning:
        raise SlotTaken() from None
    except AppointmentInvalid as exc:
        raise SelfBookingRefused(" ".join(exc.errors.values())) from None
    except (AppointmentRefused, BookingBusy) as exc:
        raise SelfBookingRefused(str(exc)) from None


def _local(start_at: datetime, zone: str) -> tuple[str, str]:
    local = start_at.astimezone(ZoneInfo(zone))
    return local.date().isoformat(), local.strftime("%H:%M")


def book_slot(principal: Principal, practitioner_id: int, start_at: datetime, length: int, mode: str) -> Saved:
    """Book the client into an open slot, in person or by telehealth (`mode`; a Both slot needs
    the client's choice). Raises `SlotTaken` (someone booked it a moment ago: show fresh slots),
    `SelfBookingRefused` with the reason, `NotAllowed`; nothing is written when it raises."""
    start_at, chosen = _as_utc(start_at), _mode(mode)
    with unit_of_work() as session:  # a first look, for the draft; the guard checks again under the lock
        client, practice = _client(session, principal)
        _, profile = _practitioner(session, client, practice, practitioner_id)
        zone = profile.timezone
    date_text, hour = _local(start_at, zone)

    def guard(session: Session) -> None:
        client, practice = _client(session, principal)
        user, _ = _practitioner(session, client, practice, practitioner_id)
        _takes_client(session, client, user)
        _slot_open(session, practitioner_id, start_at, length, chosen)
        _within_limits(session, client, practice, start_at, length)

    draft = AppointmentDraft(client_id=client.id, practitioner_id=practitioner_id, date=date_text, hour=hour,
                             duration_minutes=length, telehealth=chosen == SlotMode.TELEHEALTH, timezone=zone)
    return _for_the_client(lambda: book_appointments(principal, draft, guard=guard))


def book_waitlist_offer(offer: WaitlistOffer, client: Client, wish: WaitlistWish) -> int:
    """Book a claimed waitlist offer (services.scheduling.waitlist.claim) through the appointment book
    under the practitioner's booking lock, as a self-booking is: the slot must still be open. Returns
    the appointment's id; raises `SlotTaken` or `SelfBookingRefused` when the time has gone."""
    with unit_of_work() as session:
        principal = waitlist.booking_principal(session, client, wish)
        profile = session.get(PractitionerProfile, offer.practitioner_id)
        zone = profile.timezone if profile else client.timezone
    date_text, hour = _local(offer.start_at, zone)
    mode = SlotMode.TELEHEALTH if offer.telehealth else SlotMode.IN_PERSON

    def guard(session: Session) -> None:
        _slot_open(session, offer.practitioner_id, offer.start_at, offer.duration_minutes, mode)

    draft = AppointmentDraft(client_id=client.id, practitioner_id=offer.practitioner_id, date=date_text, hour=hour,
                             duration_minutes=offer.duration_minutes, telehealth=offer.telehealth, timezone=zone)
    return _for_the_client(lambda: book_appointments(principal, draft, guard=guard)).ids[0]


def reschedule_own(principal: Principal, appointment_id: int, start_at: datetime, length: int, mode: str) -> Saved:
    """Move the client's own booked appointment to another open slot of the same practitioner
    (its own time does not count as taken). Refused inside the practice's cancellation window with
    the practice's message. Raises `SlotTaken`, `SelfBookingRefused`, `NotAllowed`."""
    start_at, chosen = _as_utc(start_at), _mode(mode)
    with unit_of_work() as session:
        client, practice = _client(session, principal)
        appointment = _own_booked(session, client, appointment_id)
        _outside_window(practice, appointment, "moved")
        profile = session.get(PractitionerProfile, appointment.practitioner_id)
        zone = profile.timezone if profile else appointment.timezone
    date_text, hour = _local(start_at, zone)

    def own(session: Session, wanted: int) -> Appointment:
        client, practice = _client(session, principal)
        appointment = _own_booked(session, client, wanted)
        _outside_window(practice, appointment, "moved")
        _practitioner(session, client, practice, appointment.practitioner_id)
        _slot_open(session, appointment.practitioner_id, start_at, length, chosen, frozenset({wanted}))
        _within_limits(session, client, practice, start_at, length, moving=wanted)
        return appointment

    change = AppointmentChange(date=date_text, hour=hour, timezone=zone, duration_minutes=length,
                               telehealth=chosen == SlotMode.TELEHEALTH)
    return _for_the_client(lambda: change_appointment(principal, appointment_id, change, own=own))


def client_cancel_reason(reason: str = "") -> str:
    """What the appointment records (and the emails say) when a client cancels: the client's own
    words, when given, on one line and at most CLIENT_REASON_MAX characters."""
    said = " ".join(reason.split())[:CLIENT_REASON_MAX]
    return f"{CLIENT_CANCEL_REASON} Reason given: {said}" if said else CLIENT_CANCEL_REASON


def cancel_own(principal: Principal, appointment_id: int, reason: str = "") -> Saved:
    """Cancel the client's own booked appointment (its Zoom meeting goes, the client is emailed);
    `reason` is optional. Refused inside the practice's cancellation window with the practice's
    message. Raises `SelfBookingRefused`, `NotAllowed`."""
    def own(session: Session, wanted: int) -> Appointment:
        client, practice = _client(session, principal)
        appointment = _own_booked(session, client, wanted)
        _outside_window(practice, appointment, "cancelled")
        return appointment

    return _for_the_client(lambda: cancel_appointment(principal, appointment_id, client_cancel_reason(reason),
                                                      own=own))
