"""Calendar feeds: a practitioner subscribes to their own appointments in Google, Apple or Outlook
calendar with a private URL (`webcal://…/feeds/<token>.ics`, or https); the owner may also have one of
everyone's. The feed is built on every request (so it follows every change) from 30 days back to 180
days ahead. Clients are named by their initials unless the practice chooses full names (a phone's
calendar is seen by others); a telehealth visit links to the practitioner's Meetings page (where Start
is), never to a client's join link. Only the token's SHA-256 is stored; a new link kills the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, CalendarFeed, Client, Practice, PractitionerProfile, Role, User
from rxapp.services import phrases
from rxapp.services.audit import trail
from rxapp.services.identity import one_time
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.services.telehealth.meetings import emails
from rxapp.settings import get_settings

BACK, AHEAD = timedelta(days=30), timedelta(days=180)


@dataclass(frozen=True)
class FeedStatus:
    may_have_own: bool  # a practitioner
    may_have_everyone: bool  # the owner
    own: bool  # a live feed exists
    everyone: bool
    full_names: bool  # the practice's choice


def initials(name: str) -> str:
    """ "Alex Rivera" -> "A.R." (what a feed shows unless the practice chooses full names)."""
    return "".join(f"{part[0].upper()}." for part in name.split() if part[:1].isalpha()) or "Client"


def _may(principal: Principal, everyone: bool) -> None:
    with unit_of_work() as session:
        if everyone and Role(principal.role) != Role.OWNER:
            raise NotAllowed("only the owner has a feed of everyone's appointments")
        if not everyone and session.get(PractitionerProfile, principal.user_id) is None:
            raise NotAllowed("only practitioners have a feed of their own appointments")


def status(principal: Principal) -> FeedStatus:
    with unit_of_work() as session:
        live = {f.everyone for f in session.exec(select(CalendarFeed).where(
            CalendarFeed.user_id == principal.user_id, col(CalendarFeed.revoked_at).is_(None)))}
        practice = session.get(Practice, principal.practice_id)
        return FeedStatus(may_have_own=session.get(PractitionerProfile, principal.user_id) is not None,
                          may_have_everyone=Role(principal.role) == Role.OWNER, own=False in live,
                          everyone=True in live, full_names=bool(practice and practice.feed_full_names))


def _revoke(session, principal: Principal, everyone: bool) -> int:
    return session.execute(update(CalendarFeed).where(
        col(CalendarFeed.user_id) == principal.user_id, col(CalendarFeed.everyone).is_(everyone),
        col(CalendarFeed.revoked_at).is_(None)).values(revoked_at=now())).rowcount or 0


def new_feed(principal: Principal, everyone: bool = False) -> str:
    """A new private feed URL (https; a calendar app may take it as webcal://); the older link of the
    same kind stops working. Raises `NotAllowed`."""
    _may(principal, everyone)
    token = one_time.new_secret(24)
    with unit_of_work() as session:
        _revoke(session, principal, everyone)
        session.add(CalendarFeed(practice_id=principal.practice_id, user_id=principal.user_id, everyone=everyone,
                                 token_hash=one_time.digest(token)))
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="calendar_feed.created", subject_type="user", subject_id=principal.user_id,
                     everyone=everyone)
    return f"{get_settings().app_url}/feeds/{token}.ics"


def stop_feed(principal: Principal, everyone: bool = False) -> None:
    with unit_of_work() as session:
        if _revoke(session, principal, everyone):
            trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                         action="calendar_feed.stopped", subject_type="user", subject_id=principal.user_id,
                         everyone=everyone)


def set_full_names(principal: Principal, full: bool) -> None:
    """The owner's choice: feeds name clients in full (or by initials)."""
    if Role(principal.role) != Role.OWNER:
        raise NotAllowed("only the owner decides this")
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        trail.set_practice_setting(session, practice, "feed_full_names", full, actor_user_id=principal.user_id)


def feed_ics(token: str) -> bytes | None:
    """The calendar behind a feed URL's token, now; None for a token that is unknown or revoked, or
    whose owner can no longer have it."""
    at = now()
    with unit_of_work() as session:
        feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == one_time.digest(token or "-"),
                                                       col(CalendarFeed.revoked_at).is_(None))).first()
        user = session.get(User, feed.user_id) if feed is not None else None
        practice = session.get(Practice, feed.practice_id) if feed is not None else None
        if feed is None or user is None or practice is None or not user.is_active \
                or (feed.everyone and Role(user.role) != Role.OWNER):
            return None
        query = (select(Appointment, Client.full_name, User.full_name)
                 .join(Client, col(Client.id) == Appointment.client_id)
                 .join(User, col(User.id) == Appointment.practitioner_id)
                 .where(Appointment.practice_id == practice.id, col(Appointment.start_at) >= at - BACK,
                        col(Appointment.start_at) < at + AHEAD)
                 .order_by(col(Appointment.start_at), col(Appointment.id)))
        if not feed.everyone:
            query = query.where(Appointment.practitioner_id == user.id)
        rows = session.exec(query).all()
        full_names, title = practice.feed_full_names, practice.name
    meetings = f"{get_settings().app_url}/meetings"
    calendar = emails.calendar_of("feed", f"{title} · {'everyone' if feed.everyone else user.full_name}")
    calendar.add("x-published-ttl", "PT15M")
    for a, client_name, practitioner in rows:
        who = client_name if full_names else initials(client_name)
        summary = f"{who} · {phrases.visit_title(a.topic, a.telehealth)}"
        event = emails.appointment_event(a, f"{summary} ({practitioner})" if feed.everyone else summary)
        event.add("sequence", a.ics_sequence)
        event.add("last-modified", a.updated_at.astimezone(UTC))
        if a.telehealth:
            event.add("location", "Telehealth (Zoom)")
            event.add("url", meetings)
            event.add("description", f"Start it from your Meetings page: {meetings}")
        else:
            event.add("location", practice.in_person_place if practice else "")
        calendar.add_component(event)
    return calendar.to_ical()
