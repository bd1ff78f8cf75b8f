"""Client records of a practice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Client, TrustedPractitioner, User
from rxapp.services.permissions import Action, Principal, require


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    email: str
    phone: str
    timezone: str
    has_portal: bool
    trusted: str


def own_client_record(session: Session, principal: Principal) -> Client | None:
    """The client record whose portal account the principal signed in with (None for staff)."""
    return session.exec(select(Client).where(Client.user_id == principal.user_id,
                                             Client.practice_id == principal.practice_id)).first()


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its `%`, `_` and `\\` taken literally (use `escape="\\"`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_clients(principal: Principal, search: str = "") -> list[ClientRow]:
    """The practice's clients by name, optionally filtered by name or email (typed text, taken literally).

    `has_portal` says the client has a portal account with a password (they sign in; an invite
    would not be for them)."""
    require(principal, Action.VIEW_CLIENTS)
    with unit_of_work() as session:
        query = select(Client).where(Client.practice_id == principal.practice_id)
        if search.strip():
            like = contains_pattern(search.strip().lower())
            query = query.where(col(Client.full_name).ilike(like, escape="\\")
                                | col(Client.email).ilike(like, escape="\\"))
        clients = session.exec(query.order_by(col(Client.full_name)).limit(500)).all()
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
                          trusted=", ".join(sorted(trusted.get(c.id or 0, [])))) for c in clients]
