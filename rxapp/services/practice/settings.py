"""Practice settings (owner/manager): Zoom allowed, reminders, telehealth location, practitioners."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import Practice, PractitionerProfile, User, ZoomConnection
from rxapp.services.audit import trail
from rxapp.services.notify import reminders
from rxapp.services.notify.sms import credits as sms_credits
from rxapp.services.notify.sms import phones
from rxapp.services.permissions import Action, NotAllowed, Principal, require

POS_CODES = {"02": "02 · Telehealth provided other than in patient's home",
             "10": "10 · Telehealth provided in patient's home"}


class InvalidSettings(Exception):
    """Some values are out of range; `errors` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class PracticeSettings:
    allow_zoom: bool
    standard_reminder_days: int
    telehealth_reminder_minutes: int
    telehealth_reminder_includes_link: bool
    telehealth_location_name: str
    telehealth_location_address: str
    default_pos_code: str
    notify_client_when_started: bool
    address: str = ""  # where in-person visits take place
    phone: str = ""  # the practice's phone, as typed (saved in E.164); told to a client who texts HELP


@dataclass(frozen=True)
class PractitionerRow:
    user_id: int
    name: str
    email: str
    telehealth_enabled: bool
    zoom_status: str  # not_connected | connected | needs_reconnect


def get_settings_view(principal: Principal) -> tuple[PracticeSettings, int, list[PractitionerRow]]:
    """The practice's settings, its SMS credit balance and its practitioners."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        values = PracticeSettings(**{f.name: getattr(practice, f.name) for f in fields(PracticeSettings)})
        rows = session.exec(
            select(User, PractitionerProfile, ZoomConnection.status)
            .join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id)
            .join(ZoomConnection, col(ZoomConnection.practitioner_id) == User.id, isouter=True)
            .where(User.practice_id == principal.practice_id, col(User.is_active).is_(True))
            .order_by(col(User.full_name))
        ).all()
        practitioners = [PractitionerRow(user_id=u.id or 0, name=u.full_name, email=u.email,
                                         telehealth_enabled=p.telehealth_enabled,
                                         zoom_status=status or "not_connected") for u, p, status in rows]
        return values, sms_credits.balance(session, practice.id or 0), practitioners


def validate(values: PracticeSettings) -> dict[str, str]:
    errors = {}
    if not 1 <= values.standard_reminder_days <= 5:
        errors["standard_reminder_days"] = "Choose between 1 and 5 days."
    if not 15 <= values.telehealth_reminder_minutes <= 30:
        errors["telehealth_reminder_minutes"] = "Choose between 15 and 30 minutes."
    if values.default_pos_code not in POS_CODES:
        errors["default_pos_code"] = "Choose 02 or 10."
    if len(values.telehealth_location_name) > 200:
        errors["telehealth_location_name"] = "Use at most 200 characters."
    if len(values.telehealth_location_address) > 500:
        errors["telehealth_location_address"] = "Use at most 500 characters."
    if len(values.address) > 500:
        errors["address"] = "Use at most 500 characters."
    return errors


def _apply(practice: Practice, values: PracticeSettings | SelfBookingSettings) -> dict[str, object]:
    """Copy a settings section onto the practice; returns what changed (for the audit record)."""
    changed = {f.name: getattr(values, f.name) for f in fields(values)
               if getattr(practice, f.name) != getattr(values, f.name)}
    for name, value in changed.items():
        setattr(practice, name, value)
    return changed


def save_settings(principal: Principal, values: PracticeSettings) -> None:
    """Save all settings at once, or nothing (raises `InvalidSettings`). Turning Zoom off keeps
    every stored connection and meeting; it only stops new Zoom work."""
    require(principal, Action.PRACTICE_SETTINGS)
    errors = validate(values)
    if errors:
        raise InvalidSettings(errors)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        region = practice.country or phones.region_for_timezone(practice.timezone)
        phone, problem = phones.parse_phone(values.phone, region)
        if problem:
            raise InvalidSettings({"phone": problem})
        changed = _apply(practice, replace(values, phone=phone))
        if changed.keys() & {"standard_reminder_days", "telehealth_reminder_minutes"}:
            session.flush()
            reminders.replan_practice(session, practice.id or 0)  # future reminders follow the new times
        if changed:
            trail.record(session, practice_id=practice.id or 0, actor_user_id=principal.user_id,
                         action="practice.settings_changed", subject_type="practice", subject_id=practice.id or 0,
                         **changed)


def confirmations_asked(principal: Principal) -> bool:
    """Whether the practice asks clients to confirm their appointments."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        return bool(practice and practice.ask_clients_to_confirm)


def set_confirmations(principal: Principal, ask: bool) -> None:
    """Ask clients to confirm (a Confirm link in emails, "Reply YES" in SMS), or stop asking."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        trail.set_practice_setting(session, practice, "ask_clients_to_confirm", ask, actor_user_id=principal.user_id)


def set_telehealth(principal: Principal, practitioner_id: int, enabled: bool) -> str:
    """Turn telehealth on or off for a practitioner of the practice; returns their name."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        profile = session.get(PractitionerProfile, practitioner_id)
        user = session.get(User, practitioner_id)
        if profile is None or user is None or profile.practice_id != principal.practice_id:
            raise NotAllowed("not a practitioner of this practice")
        profile.telehealth_enabled = enabled
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="practitioner.telehealth_changed", subject_type="user", subject_id=practitioner_id,
                     enabled=enabled)
        return user.full_name


# -- client self-booking (the portal's Book a session) ---------------------------------------------

CANCELLATION_WINDOW_MAX_HOURS = 14 * 24
SELF_BOOKING_LIMIT_MAX = 50
CANCELLATION_MESSAGE_MAX = 500


@dataclass(frozen=True)
class SelfBookingSettings:
    self_booking_enabled: bool
    self_booking_any_practitioner: bool  # False: only practitioners the client trusts
    cancellation_window_hours: int
    cancellation_message: str  # shown to a client who tries to move or cancel inside the window
    self_booking_max_per_day: int = 1  # self-booked visits one client may have on one day
    self_booking_max_upcoming: int = 4  # self-booked visits one client may have still to come


def get_self_booking(principal: Principal) -> SelfBookingSettings:
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        return SelfBookingSettings(**{f.name: getattr(practice, f.name) for f in fields(SelfBookingSettings)})


def validate_self_booking(values: SelfBookingSettings) -> dict[str, str]:
    errors = {}
    if not 0 <= values.cancellation_window_hours <= CANCELLATION_WINDOW_MAX_HOURS:
        errors["cancellation_window_hours"] = f"Enter whole hours from 0 to {CANCELLATION_WINDOW_MAX_HOURS} (14 days)."
    if len(values.cancellation_message) > CANCELLATION_MESSAGE_MAX:
        errors["cancellation_message"] = f"Use at most {CANCELLATION_MESSAGE_MAX} characters."
    elif values.cancellation_window_hours > 0 and not values.cancellation_message.strip():
        errors["cancellation_message"] = "Tell clients what to do instead, e.g. “Please call the practice on …”."
    if not 1 <= values.self_booking_max_per_day <= SELF_BOOKING_LIMIT_MAX:
        errors["self_booking_max_per_day"] = f"Enter a whole number from 1 to {SELF_BOOKING_LIMIT_MAX}."
    if not 1 <= values.self_booking_max_upcoming <= SELF_BOOKING_LIMIT_MAX:
        errors["self_booking_max_upcoming"] = f"Enter a whole number from 1 to {SELF_BOOKING_LIMIT_MAX}."
    return errors


def save_self_booking(principal: Principal, values: SelfBookingSettings) -> None:
    """Save the self-booking settings at once, or nothing (raises `InvalidSettings`)."""
    require(principal, Action.PRACTICE_SETTINGS)
    values = replace(values, cancellation_message=values.cancellation_message.strip())
    errors = validate_self_booking(values)
    if errors:
        raise InvalidSettings(errors)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        changed = _apply(practice, values)
        if changed:
            trail.record(session, practice_id=practice.id or 0, actor_user_id=principal.user_id,
                         action="practice.self_booking_changed", subject_type="practice", subject_id=practice.id or 0,
                         **changed)
