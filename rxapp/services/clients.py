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


def list_clients(principal: Principal, search: str = "") -> list[ClientRow]:
    """The practice's clients by name, optionally filtered by name or email."""
    require(principal, Action.VIEW_CLIENTS)
    with unit_of_work() as session:
        query = select(Client).where(Client.practice_id == principal.practice_id)
        if search.strip():
            like = f"%{search.strip().lower()}%"
            query = query.where(col(Client.full_name).ilike(like) | col(Client.email).ilike(like))
        clients = session.exec(query.order_by(col(Client.full_name)).limit(500)).all()
        ids = [c.id for c in clients]
        trusted: dict[int, list[str]] = {}
        for client_id, name in session.exec(
            select(TrustedPractitioner.client_id, User.full_name)
            .join(User, col(User.id) == TrustedPractitioner.practitioner_id)
            .where(col(TrustedPractitioner.client_id).in_(ids))
        ).all():
            trusted.setdefault(client_id, []).append(name)
        return [ClientRow(id=c.id or 0, name=c.full_name, email=c.email or "", phone=c.phone or "",
                          timezone=c.timezone, has_portal=c.user_id is not None,
                          trusted=", ".join(sorted(trusted.get(c.id or 0, [])))) for c in clients]
