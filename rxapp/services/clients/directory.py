"""Client records of a practice: who may see which, the Clients page's list and the pickers' search.

The one rule for reaching a client (seeing their record, picking them, booking them, messaging them)
is `visible_clients` / `visible_client`, used by every page, picker, handler and route:

- owners, managers and the front desk (who manage client records) reach every client of the practice;
- a practitioner reaches a client who trusts them (the portal's My practitioners), or who has a visit
  with them that was not cancelled (booked, under way, completed, no-show), made by someone else or by
  the client; a practitioner books only clients they already reach, so reaching a client never
  follows from an appointment made to get access;
- after a visit is cancelled, that visit gives the practitioner nothing: their calendar and Meetings
  list keep the cancelled visit with the client's name (their own schedule's history), but the record
  (contact details, date of birth, notes, history) is reached only through trust or another visit;
- a client reaches only their own record (the portal).

Unknown ids, other practices' clients and clients out of reach all look the same: not found.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, tuple_
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, TrustedPractitioner, User
from rxapp.services.permissions import Action, Principal, can, require
from rxapp.text import fold

PAGE_SIZE = 25


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    email: str
    phone: str
    timezone: str
    has_portal: bool
    trusted: str
    archived: bool = False


@dataclass(frozen=True)
class ClientPage:
    rows: list[ClientRow]
    has_previous: bool
    has_next: bool
    previous_cursor: str  # for `before` ("" on the first page)
    next_cursor: str  # for `after` ("" on the last page)


@dataclass(frozen=True)
class ClientOption:
    """A client as a picker offers it (the New meeting modal, the appointment editor)."""

    id: int
    name: str
    email: str


def own_client_record(session: Session, principal: Principal) -> Client | None:
    """The client record whose portal account the principal signed in with (None for staff)."""
    return session.exec(select(Client).where(Client.user_id == principal.user_id,
                                             Client.practice_id == principal.practice_id)).first()


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its `%`, `_` and `\\` taken literally (use `escape="\\"`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_clients(principal: Principal) -> list[ColumnElement[bool]]:
    """Conditions on `Client` for the records the principal may see: the whole practice for those who
    manage client records; for a practitioner, the clients they have a visit with that was not
    cancelled (telehealth or in person) or who trust them (see the module's rule). Raises `NotAllowed`
    without `VIEW_CLIENTS`."""
    require(principal, Action.VIEW_CLIENTS)
    conditions: list[ColumnElement[bool]] = [col(Client.practice_id) == principal.practice_id]
    if can(principal, Action.MANAGE_CLIENTS):
        return conditions
    me = principal.user_id
    # Every telehealth meeting is an appointment too, so appointments cover meetings.
    conditions.append(or_(
        select(Appointment.id).where(col(Appointment.client_id) == Client.id,
                                     col(Appointment.practitioner_id) == me,
                                     col(Appointment.status) != AppointmentStatus.CANCELLED).exists(),
        select(TrustedPractitioner.id).where(col(TrustedPractitioner.client_id) == Client.id,
                                             col(TrustedPractitioner.practitioner_id) == me).exists(),
    ))
    return conditions


def visible_client(session: Session, principal: Principal, client_id: int) -> Client | None:
    """The client with this id if the principal may see it (None otherwise: unknown, another
    practice's, or not one a practitioner works with)."""
    return session.exec(select(Client).where(col(Client.id) == client_id, *visible_clients(principal))).first()


def _matching(search: str) -> list[ColumnElement[bool]]:
    if not search.strip():
        return []
    # The folded key (rxapp.text.fold): "elodie", "ÉLO" and "Élodie" all find Élodie Durand.
    return [col(Client.search_key).like(contains_pattern(fold(search.strip())), escape="\\")]


def _key() -> ColumnElement:
    return tuple_(col(Client.full_name), col(Client.id))


def _cursor_key(session: Session, cursor: str, conditions: list[ColumnElement[bool]]) -> tuple[str, int] | None:
    """The (name, id) a cursor (a client id) stands for; None for a cursor that is not one of ours."""
    if not cursor.isdigit():
        return None
    name = session.exec(select(Client.full_name).where(col(Client.id) == int(cursor), *conditions[:1])).first()
    return None if name is None else (name, int(cursor))


def list_clients(principal: Principal, search: str = "", *, archived: bool = False, after: str = "",
                 before: str = "", page_size: int = PAGE_SIZE) -> ClientPage:
    """One page of the clients the principal may see, by name, optionally filtered by name or email
    (typed text, taken literally). `archived` lists the archived clients instead of the others.

    Keyset pages on (name, id), so the 400th page of 10,000 clients costs what the first does;
    the cursors are client ids. `has_portal` says the client has a portal account with a password
    (they sign in; an invite would not be for them). Raises `NotAllowed` without `VIEW_CLIENTS`.
    """
    conditions = [*visible_clients(principal), *_matching(search),
                  col(Client.archived_at).is_not(None) if archived else col(Client.archived_at).is_(None)]
    with unit_of_work() as session:
        cursor_before = _cursor_key(session, before, conditions)
        cursor_after = None if cursor_before else _cursor_key(session, after, conditions)
        if cursor_before is not None:  # the previous page: read backwards from the cursor
            found = list(session.exec(select(Client).where(*conditions, _key() < tuple_(*cursor_before))
                                      .order_by(col(Client.full_name).desc(), col(Client.id).desc())
                                      .limit(page_size + 1)).all())
            has_previous = len(found) > page_size
            clients = list(reversed(found[:page_size]))
            has_next = True
        else:
            keyset = [_key() > tuple_(*cursor_after)] if cursor_after is not None else []
            found = list(session.exec(select(Client).where(*conditions, *keyset)
                                      .order_by(col(Client.full_name), col(Client.id)).limit(page_size + 1)).all())
            has_next = len(found) > page_size
            clients = found[:page_size]
            has_previous = cursor_after is not None and session.exec(
                select(Client.id).where(*conditions, _key() <= tuple_(*cursor_after)).limit(1)).first() is not None
        rows = _rows(session, clients)
    return ClientPage(rows=rows, has_previous=has_previous, has_next=has_next,
                      previous_cursor=str(rows[0].id) if has_previous and rows else "",
                      next_cursor=str(rows[-1].id) if has_next and rows else "")


def _rows(session: Session, clients: list[Client]) -> list[ClientRow]:
    ids = [c.id for c in clients]
    with_password = set(session.exec(select(Client.id).join(User, col(User.id) == Client.user_id).where(
        col(Client.id).in_(ids), col(User.password_hash).is_not(None))).all())
    trusted: dict[int, list[str]] = {}
    for client_id, name in session.exec(
        select(TrustedPractitioner.client_id, User.full_name)
        .join(User, col(User.id) == TrustedPractitioner.practitioner_id)
        .where(col(TrustedPractitioner.client_id).in_(ids))
    ).all():
        trusted.setdefault(client_id, []).append(name)
    return [ClientRow(id=c.id or 0, name=c.full_name, email=c.email or "", phone=c.phone or "",
                      timezone=c.timezone, has_portal=c.id in with_password,
                      trusted=", ".join(sorted(trusted.get(c.id or 0, []))), archived=c.archived_at is not None)
            for c in clients]


def _pickable(principal: Principal) -> list[ColumnElement[bool]]:
    """What a picker may offer: clients the principal reaches who are not archived."""
    return [*visible_clients(principal), col(Client.archived_at).is_(None)]


def search_clients(principal: Principal, text: str, limit: int = 20) -> list[ClientOption]:
    """The clients a picker offers for typed `text` (name or email, taken literally), by name:
    never archived ones, and for a practitioner only the clients they work with.
    Raises `NotAllowed` without `VIEW_CLIENTS`."""
    conditions = [*_pickable(principal), *_matching(text)]
    with unit_of_work() as session:
        found = session.exec(select(Client.id, Client.full_name, Client.email).where(*conditions)
                             .order_by(col(Client.full_name), col(Client.id)).limit(max(1, min(limit, 100)))).all()
    return [ClientOption(id=cid or 0, name=name, email=email or "") for cid, name, email in found]


def pickable_client(principal: Principal, client_id: int) -> ClientOption | None:
    """The client with this id as a picker would offer it (None when no picker would: unknown,
    another practice's, archived, or not one a practitioner works with). Raises `NotAllowed`
    without `VIEW_CLIENTS`."""
    conditions = [*_pickable(principal), col(Client.id) == client_id]
    with unit_of_work() as session:
        found = session.exec(select(Client.id, Client.full_name, Client.email).where(*conditions)).first()
    return ClientOption(id=found[0] or 0, name=found[1], email=found[2] or "") if found else None
