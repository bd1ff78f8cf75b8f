"""The waitlist: clients who want a sooner time are offered open slots as they open.

A wish (a client in the portal, or the front desk on the client's record) says with whom (or
anyone), how (in person, telehealth, either), on which weekdays between which times (the client's
own zone) and between which dates. When a slot opens (a cancellation, a move, new availability)
`slot_freed` offers every practitioner's earliest matching open slot to the oldest matching wishes,
`OFFER_BATCH` at a time, each by email and SMS (each only where the client takes it) with a one-time
link. The first to claim books it through the appointment book under the practitioner's booking
lock (the same use case and lock as self-booking), so of any number of simultaneous claims exactly
one books; the others are told it has gone and stay on the waitlist. An offer nobody claims expires
after the practice's `waitlist_offer_hours`, and the slot goes to the next wishes. A wish is removed
when its client books through an offer, or by hand. Everything is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Client,
    Practice,
    PractitionerProfile,
    Role,
    User,
    WaitlistOffer,
    WaitlistWish,
)
from rxapp.services.audit import trail
from rxapp.services.clients.directory import own_client_record, visible_client
from rxapp.services.identity import one_time
from rxapp.services.notify.outbox import OutgoingEmail, queue_email, queue_sms
from rxapp.services.permissions import Action, NotAllowed, Principal, can, require
from rxapp.services.scheduling import availability
from rxapp.services.scheduling.slots import Slot, SlotMode
from rxapp.services.timezones import format_local
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

OFFER_BATCH = 3  # wishes a slot is offered to at once (the first to claim books it)
MAX_DAYS_AHEAD = 365
MODES = {"either": "In person or telehealth", "in_person": "In person", "telehealth": "Telehealth"}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OPEN, BOOKED, GONE, EXPIRED = "", "booked", "gone", "expired"


class WishInvalid(Exception):
    """The wish's form has problems: field -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class OfferUnusable(Exception):
    """The offer's link cannot book (unknown, used, expired, gone); the message says what to do."""


@dataclass(frozen=True)
class WishForm:
    practitioner_id: str = ""  # "" for any practitioner
    mode: str = "either"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    earliest: str = "08:00"  # HH:MM, the client's zone
    latest: str = "18:00"
    first_date: str = ""  # YYYY-MM-DD ("" today)
    last_date: str = ""


@dataclass(frozen=True)
class WishView:
    id: int
    client_id: int
    client_name: str
    practitioner_name: str  # "Any practitioner" when any
    mode: str
    days: str  # "Mon, Wed, 09:00-12:00"
    dates: str  # "9 Dec 2026 - 31 Jan 2027"
    added: datetime
    offer: str  # the open offer's slot, or ""


def _minutes(text: str) -> int | None:
    try:
        parsed = time.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.hour * 60 + parsed.minute


def _date(text: str, default: date) -> date | None:
    if not text.strip():
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _practitioners(session: Session, practice_id: int) -> dict[int, tuple[User, PractitionerProfile]]:
    rows = session.exec(select(User, PractitionerProfile).join(PractitionerProfile,
                                                               col(PractitionerProfile.user_id) == User.id)
                        .where(User.practice_id == practice_id, col(User.is_active).is_(True))).all()
    return {u.id or 0: (u, p) for u, p in rows}


def _wish_client(session: Session, principal: Principal, client_id: int | None) -> Client:
    """The client a wish is for: the signed-in client themself, or one the front desk may reach."""
    if can(principal, Action.USE_PORTAL):
        client = own_client_record(session, principal)
        if client is not None and client_id not in (None, client.id):
            client = None  # a client's wish is their own: any other id is refused like an unknown one
    else:
        require(principal, Action.MANAGE_APPOINTMENTS)
        client = visible_client(session, principal, client_id) if client_id else None
    if client is None or client.archived_at is not None:
        raise NotAllowed("no such client")
    return client


def add_wish(principal: Principal, form: WishForm, client_id: int | None = None) -> int:
    """Put a client on the waitlist; raises `WishInvalid` (nothing saved) or `NotAllowed`. Any open slot
    that already matches is offered at once."""
    with unit_of_work() as session:
        client = _wish_client(session, principal, client_id)
        today = now().astimezone(ZoneInfo(client.timezone)).date()
        errors: dict[str, str] = {}
        practitioner_id = int(form.practitioner_id) if form.practitioner_id.isdigit() else None
        if form.practitioner_id and practitioner_id not in _practitioners(session, client.practice_id):
            errors["practitioner"] = "Choose a practitioner of the practice, or any practitioner."
        if form.mode not in MODES:
            errors["mode"] = "Choose in person, telehealth or either."
        days = sorted(set(form.weekdays))
        if not days or any(d not in range(7) for d in days):
            errors["weekdays"] = "Choose at least one day of the week."
        earliest, latest = _minutes(form.earliest), _minutes(form.latest)
        if earliest is None or latest is None or earliest >= latest:
            errors["times"] = "Enter a time range like 09:00 to 12:00 (the first before the second)."
        first, last = _date(form.first_date, today), _date(form.last_date, today + timedelta(days=60))
        if first is None or last is None or first > last:
            errors["dates"] = "Enter the dates as 2026-12-31, the first no later than the last."
        elif last < today or last > today + timedelta(days=MAX_DAYS_AHEAD):
            errors["dates"] = f"The last date must be from today to {MAX_DAYS_AHEAD} days ahead."
        if errors:
            raise WishInvalid(errors)
        assert first is not None and last is not None and earliest is not None and latest is not None
        wish = WaitlistWish(practice_id=client.practice_id, client_id=client.id or 0, practitioner_id=practitioner_id,
                            mode=form.mode, weekdays=",".join(map(str, days)), earliest_minute=earliest,
                            latest_minute=latest, first_date=max(first, today), last_date=last,
                            created_by_user_id=principal.user_id)
        session.add(wish)
        session.flush()
        trail.record(session, practice_id=client.practice_id, actor_user_id=principal.user_id, action="waitlist.added",
                     subject_type="client", subject_id=client.id or 0)
        wish_id, practice_id = wish.id or 0, client.practice_id
    slot_freed(practice_id)
    return wish_id


def _describe(wish: WaitlistWish) -> str:
    days = ", ".join(WEEKDAY_NAMES[int(d)] for d in wish.weekdays.split(",") if d)
    return f"{days}, {wish.earliest_minute // 60:02d}:{wish.earliest_minute % 60:02d}-" \
           f"{wish.latest_minute // 60:02d}:{wish.latest_minute % 60:02d}"


def wishes(principal: Principal, client_id: int | None = None) -> list[WishView]:
    """Active wishes, oldest first: the signed-in client's own; for staff the practice's (or one
    client's). Raises `NotAllowed`."""
    with unit_of_work() as session:
        query = select(WaitlistWish, Client).join(Client, col(Client.id) == WaitlistWish.client_id).where(
            WaitlistWish.practice_id == principal.practice_id, col(WaitlistWish.removed_at).is_(None),
            WaitlistWish.last_date >= now().date() - timedelta(days=1))
        if can(principal, Action.USE_PORTAL):
            own = own_client_record(session, principal)
            if own is None:
                return []
            query = query.where(WaitlistWish.client_id == own.id)
        else:
            require(principal, Action.MANAGE_APPOINTMENTS)
            if client_id is not None:
                client = visible_client(session, principal, client_id)
                if client is None:
                    raise NotAllowed("no such client")
                query = query.where(WaitlistWish.client_id == client.id)
        rows = session.exec(query.order_by(col(WaitlistWish.created_at), col(WaitlistWish.id))).all()
        people = _practitioners(session, principal.practice_id)
        offers = {o.wish_id: o for o in session.exec(select(WaitlistOffer).where(
            col(WaitlistOffer.wish_id).in_([w.id for w, _ in rows]), WaitlistOffer.outcome == OPEN,
            WaitlistOffer.expires_at > now()))}
        views = []
        for wish, client in rows:
            if not can(principal, Action.USE_PORTAL) and visible_client(session, principal, client.id) is None:
                continue  # a practitioner sees the wishes of the clients they reach
            offer = offers.get(wish.id or 0)
            views.append(WishView(
                id=wish.id or 0, client_id=client.id or 0, client_name=client.full_name,
                practitioner_name=people[wish.practitioner_id][0].full_name
                if wish.practitioner_id in people else "Any practitioner",
                mode=MODES.get(wish.mode, wish.mode), days=_describe(wish),
                dates=f"{wish.first_date:%-d %b %Y} - {wish.last_date:%-d %b %Y}", added=wish.created_at,
                offer=format_local(offer.start_at, client.timezone) if offer else ""))
        return views


def _own_wish(session: Session, principal: Principal, wish_id: int) -> WaitlistWish:
    wish = session.get(WaitlistWish, wish_id)
    if wish is None or wish.practice_id != principal.practice_id or wish.removed_at is not None:
        raise NotAllowed("no such wish")
    _wish_client(session, principal, wish.client_id)  # raises unless the principal may reach its client
    return wish


def remove_wish(principal: Principal, wish_id: int) -> None:
    """Take a wish off the waitlist (its open offers stop working). Raises `NotAllowed`."""
    with unit_of_work() as session:
        wish = _own_wish(session, principal, wish_id)
        _retire(session, wish, "removed", principal.user_id)


def _retire(session: Session, wish: WaitlistWish, reason: str, actor: int | None) -> None:
    wish.removed_at, wish.removed_reason = now(), reason
    if reason == "removed":  # its open offers stop working (a booked wish's offer is settled by the claim)
        for offer in session.exec(select(WaitlistOffer).where(WaitlistOffer.wish_id == wish.id,
                                                              WaitlistOffer.outcome == OPEN)):
            offer.outcome = GONE
    trail.record(session, practice_id=wish.practice_id, actor_user_id=actor, action=f"waitlist.{reason}",
                 subject_type="client", subject_id=wish.client_id)


def offer_now(principal: Principal, wish_id: int) -> str:
    """The front desk offers a wish its earliest matching open slot now (by hand). Says what happened."""
    require(principal, Action.MANAGE_APPOINTMENTS)
    if can(principal, Action.USE_PORTAL):
        raise NotAllowed("staff only")
    with unit_of_work() as session:
        wish = _own_wish(session, principal, wish_id)
        made = _offer_round(session, wish.practice_id, only_wish=wish.id, actor=principal.user_id)
        client = session.get(Client, wish.client_id)
        name = client.full_name if client else "The client"
    if not made:
        return f"No open time matches {name}'s wish (or a time is already offered to them)."
    return f"{name} was offered {made[0]}."


def slot_freed(practice_id: int) -> int:
    """A time may have opened in the practice (a cancellation, a move, new availability, an offer that
    expired or a claim that lost): offer open slots to the wishes waiting. Never raises (a failure is
    logged: the change that called it stands)."""
    try:
        with unit_of_work() as session:
            return len(_offer_round(session, practice_id))
    except Exception:
        log.exception("waitlist offers failed for practice %s", practice_id)
        return 0


def _fits(wish: WaitlistWish, slot: Slot, zone: ZoneInfo) -> bool:
    local = slot.start_at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    mode_ok = wish.mode == "either" or slot.mode == SlotMode.BOTH or slot.mode.value == wish.mode
    return (str(local.weekday()) in wish.weekdays.split(",") and wish.earliest_minute <= minute
            and minute + slot.length_minutes <= wish.latest_minute
            and wish.first_date <= local.date() <= wish.last_date and mode_ok)


def _offer_round(session: Session, practice_id: int, *, only_wish: int | None = None,
                 actor: int | None = None) -> list[str]:
    """Offer each practitioner's earliest matching open slot to the oldest wishes without an open
    offer (at most `OFFER_BATCH` open offers per slot). Returns what was offered (for the front desk)."""
    at = now()
    practice = session.get(Practice, practice_id)
    if practice is None:
        return []
    active = session.exec(select(WaitlistWish, Client).join(Client, col(Client.id) == WaitlistWish.client_id).where(
        WaitlistWish.practice_id == practice_id, col(WaitlistWish.removed_at).is_(None),
        WaitlistWish.last_date >= at.date() - timedelta(days=1), col(Client.archived_at).is_(None))
        .order_by(col(WaitlistWish.created_at), col(WaitlistWish.id))).all()
    if only_wish is not None:
        active = [(w, c) for w, c in active if w.id == only_wish]
    if not active:
        return []
    open_offers = list(session.exec(select(WaitlistOffer).where(WaitlistOffer.practice_id == practice_id,
                                                                WaitlistOffer.outcome == OPEN,
                                                                WaitlistOffer.expires_at > at)))
    waiting = {o.wish_id for o in open_offers}
    # A wish is never offered the same slot twice (it let the offer expire, or lost the race for it).
    offered_before = set(session.exec(select(WaitlistOffer.wish_id, WaitlistOffer.practitioner_id,
                                             WaitlistOffer.start_at).where(WaitlistOffer.practice_id == practice_id,
                                                                           WaitlistOffer.start_at > at)).all())
    per_slot: dict[tuple[int, datetime], int] = {}
    for offer in open_offers:
        per_slot[(offer.practitioner_id, offer.start_at)] = per_slot.get((offer.practitioner_id, offer.start_at), 0) + 1
    people = _practitioners(session, practice_id)
    # Every practitioner's open slots in one read (four queries), up to the last day a waiting wish wants;
    # each practitioner's own default length.
    until = datetime.combine(max(w.last_date for w, _ in active) + timedelta(days=2), time(), ZoneInfo("UTC"))
    slots: dict[int, list[Slot]] = {pid: [] for pid in people}
    for pid, slot in availability.open_slots_for_any(session, sorted(people), at, max(until, at)).pairs():
        if slot.length_minutes == people[pid][1].default_length_minutes:
            slots[pid].append(slot)
    made: list[str] = []
    for wish, client in active:
        if wish.id in waiting:
            continue
        zone = ZoneInfo(client.timezone)
        candidates = [wish.practitioner_id] if wish.practitioner_id in people else (
            [] if wish.practitioner_id else sorted(people))
        best: tuple[Slot, int] | None = None
        for pid in candidates:
            for slot in slots[pid]:
                if per_slot.get((pid, slot.start_at), 0) >= OFFER_BATCH or not _fits(wish, slot, zone) \
                        or (wish.id, pid, slot.start_at) in offered_before:
                    continue
                if best is None or slot.start_at < best[0].start_at:
                    best = (slot, pid)
                break
        if best is None:
            continue
        slot, pid = best
        per_slot[(pid, slot.start_at)] = per_slot.get((pid, slot.start_at), 0) + 1
        telehealth = slot.mode == SlotMode.TELEHEALTH or (slot.mode == SlotMode.BOTH and wish.mode == "telehealth")
        _offer(session, practice, wish, client, people[pid][0], slot, telehealth, actor)
        made.append(f"{format_local(slot.start_at, client.timezone)} with {people[pid][0].full_name}")
    return made


def _link(token: str) -> str:
    return f"{get_settings().app_url.rstrip('/')}/w/{token}"


def _offer(session: Session, practice: Practice, wish: WaitlistWish, client: Client, practitioner: User, slot: Slot,
           telehealth: bool, actor: int | None) -> None:
    token = one_time.new_secret()
    expires = now() + timedelta(hours=practice.waitlist_offer_hours)
    offer = WaitlistOffer(practice_id=practice.id or 0, wish_id=wish.id or 0, practitioner_id=practitioner.id or 0,
                          start_at=slot.start_at, duration_minutes=slot.length_minutes, telehealth=telehealth,
                          token_hash=one_time.digest(token), expires_at=expires)
    session.add(offer)
    session.flush()
    when = format_local(slot.start_at, client.timezone)
    until = format_local(expires, client.timezone, "%H:%M")
    how = "by telehealth" if telehealth else "in person"
    text = (f"A time opened at {practice.name}: {when}, {how}, with {practitioner.full_name}. The first to book it "
            f"gets it: {_link(token)} (until {until}).")
    _tell(session, practice, client, f"waitlist-offer:{offer.id}", f"A time opened: {when}", text,
          sealed=False)
    trail.record(session, practice_id=practice.id or 0, actor_user_id=actor, action="waitlist.offered",
                 subject_type="client", subject_id=client.id or 0, start=slot.start_at.isoformat())


def _tell(session: Session, practice: Practice, client: Client, key: str, subject: str, text: str, *,
          sealed: bool) -> None:
    """Email (unless the client stopped email reminders) and SMS (queue_sms skips an opted-out client)."""
    if client.email and not client.email_reminders_opt_out:
        queue_email(session, practice_id=practice.id or 0, key=f"{key}:email", email=OutgoingEmail(
            to=client.email, subject=subject, text=f"Hello {client.full_name},\n\n{text}\n"), sealed=sealed)
    if client.phone:
        queue_sms(session, practice_id=practice.id or 0, key=f"{key}:sms", to=client.phone, body=text,
                  telehealth=False, client_id=client.id)


@dataclass(frozen=True)
class OfferView:
    practice_name: str
    practitioner_name: str
    when: str  # in the client's zone
    how: str
    state: str  # OPEN, BOOKED, GONE, EXPIRED, or "unknown"
    refusal: str = ""  # why the link cannot book (when its state is not OPEN), as `claim` says it


def offer_view(token: str) -> OfferView:
    """What an offer link shows before it is pressed (reads only)."""
    with unit_of_work() as session:
        offer = session.exec(select(WaitlistOffer).where(
            WaitlistOffer.token_hash == one_time.digest(token or "-"))).first()
        if offer is None:
            return OfferView("", "", "", "", "unknown", _why_not(None))
        return _view(session, offer)


def _view(session: Session, offer: WaitlistOffer) -> OfferView:
    practice, user = session.get(Practice, offer.practice_id), session.get(User, offer.practitioner_id)
    wish = session.get(WaitlistWish, offer.wish_id)
    client = session.get(Client, wish.client_id) if wish else None
    state = offer.outcome or (EXPIRED if offer.expires_at <= now() else OPEN)
    return OfferView(practice.name if practice else "", user.full_name if user else "",
                     format_local(offer.start_at, client.timezone if client else "UTC"),
                     "By telehealth" if offer.telehealth else "In person", state,
                     "" if state == OPEN else _why_not(offer))


_GONE_MESSAGE = "Someone else booked this time a moment before you. You stay on the waitlist for the next one."


def claim(token: str, book: Callable[[WaitlistOffer, Client, WaitlistWish], int]) -> str:
    """Book the offer's slot for its client: the link is claimed once (atomically), then `book` (the
    appointment book, under the practitioner's booking lock) books it or raises because the time has
    gone. The first claim of a slot wins; the slot's other offers are told it has gone. Returns the
    message for the page; raises `OfferUnusable`."""
    with unit_of_work() as session:
        offer_id = one_time.claim(session, WaitlistOffer.token_hash, token, col(WaitlistOffer.outcome) == OPEN)
        if offer_id is None:
            found = session.exec(select(WaitlistOffer).where(
                WaitlistOffer.token_hash == one_time.digest(token or "-"))).first()
            raise OfferUnusable(_why_not(found))
        offer = session.get(WaitlistOffer, offer_id)
        wish = session.get(WaitlistWish, offer.wish_id) if offer else None
        client = session.get(Client, wish.client_id) if wish else None
        assert offer is not None and wish is not None and client is not None
        session.expunge_all()
    try:
        appointment_id = book(offer, client, wish)
    except Exception as exc:  # the time was taken (or can no longer be booked): this offer has gone
        log.info("waitlist claim lost: %s", type(exc).__name__)
        with unit_of_work() as session:
            stored = session.get(WaitlistOffer, offer.id)
            if stored is not None:
                stored.outcome = GONE
        slot_freed(offer.practice_id)
        return _GONE_MESSAGE
    with unit_of_work() as session:
        stored, stored_wish = session.get(WaitlistOffer, offer.id), session.get(WaitlistWish, wish.id)
        practice = session.get(Practice, offer.practice_id)
        assert stored is not None and stored_wish is not None and practice is not None
        stored.outcome, stored.appointment_id = BOOKED, appointment_id
        _retire(session, stored_wish, "booked", None)
        others = session.exec(select(WaitlistOffer, WaitlistWish, Client)
                              .join(WaitlistWish, col(WaitlistWish.id) == WaitlistOffer.wish_id)
                              .join(Client, col(Client.id) == WaitlistWish.client_id)
                              .where(WaitlistOffer.practitioner_id == offer.practitioner_id,
                                     WaitlistOffer.start_at == offer.start_at, WaitlistOffer.outcome == OPEN,
                                     WaitlistOffer.id != offer.id)).all()
        for other, _, other_client in others:
            other.outcome = GONE
            _tell(session, practice, other_client, f"waitlist-gone:{other.id}", "That time has gone",
                  f"The time {format_local(other.start_at, other_client.timezone)} at {practice.name} was booked by "
                  "someone else. You stay on the waitlist for the next one.", sealed=False)
        when = format_local(offer.start_at, client.timezone)
    return f"Booked: {when}. You will get a confirmation email; you are off the waitlist for this wish."


def _why_not(offer: WaitlistOffer | None) -> str:
    if offer is None:
        return "This link is not valid. Ask the practice, or wait for the next offer."
    if offer.outcome == BOOKED:
        return "You already booked this time with this link."
    if offer.outcome == GONE or offer.used_at is not None:
        return _GONE_MESSAGE
    return "This offer has expired, so the time went to the next person waiting. You stay on the waitlist."


def expire_offers() -> int:
    """Offers past their time: expired, and their slots offered to the next wishes (a job)."""
    at = now()
    with unit_of_work() as session:
        stale = list(session.exec(select(WaitlistOffer).where(WaitlistOffer.outcome == OPEN,
                                                              WaitlistOffer.expires_at <= at)))
        for offer in stale:
            offer.outcome = EXPIRED
        practices = {o.practice_id for o in stale}
    for practice_id in practices:
        slot_freed(practice_id)
    return len(stale)


def booking_principal(session: Session, client: Client, wish: WaitlistWish) -> Principal:
    """Who books a claimed offer: the client themself when they have a portal account (a self-booking),
    else whoever put them on the waitlist (the front desk), or the practice's owner."""
    candidates = [client.user_id, wish.created_by_user_id]
    for user_id in candidates:
        user = session.get(User, user_id) if user_id else None
        if user is not None and user.is_active and user.practice_id == client.practice_id \
                and user.role != Role.PRACTITIONER:
            return Principal(user.id or 0, user.practice_id, Role(user.role), user.email, user.full_name)
    owner = session.exec(select(User).where(User.practice_id == client.practice_id, User.role == Role.OWNER,
                                            col(User.is_active).is_(True)).order_by(col(User.id))).first()
    if owner is None:
        raise NotAllowed("nobody may book for this practice")
    return Principal(owner.id or 0, owner.practice_id, Role.OWNER, owner.email, owner.full_name)


def practitioner_choices(principal: Principal) -> list[tuple[int, str]]:
    """Whom a wish may name: the practice's active practitioners, by name."""
    if not can(principal, Action.USE_PORTAL):
        require(principal, Action.MANAGE_APPOINTMENTS)
    with unit_of_work() as session:
        return sorted(((pid, user.full_name) for pid, (user, _) in _practitioners(session, principal.practice_id)
                       .items()), key=lambda p: p[1])
