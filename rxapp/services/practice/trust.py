"""A client's choice of trusted practitioners, made in the portal.

Only practitioners a client trusts may book them as a patient of a meeting. The functions work
on the signed-in client's own record only: no client id ever comes from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Client, PractitionerProfile, TrustedPractitioner, User
from rxapp.services.audit import trail
from rxapp.services.clients.directory import own_client_record
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.practice import profiles


class NoClientRecord(Exception):
    """The signed-in portal user is not linked to a client record."""

    def __init__(self) -> None:
        super().__init__("Your portal account is not linked to a client record. Ask your practice for help.")


class PractitionerUnavailable(Exception):
    """The practitioner is not one of the practice's telehealth practitioners."""

    def __init__(self) -> None:
        super().__init__("That practitioner is not available for telehealth.")


@dataclass(frozen=True)
class PractitionerChoice:
    practitioner_id: int
    name: str
    trusted: bool


def _own_client(session: Session, principal: Principal) -> Client:
    client = own_client_record(session, principal)
    if client is None:
        raise NoClientRecord()
    return client


def _telehealth_practitioners(session: Session, practice_id: int) -> list[User]:
    return list(session.exec(
        select(User).join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id)
        .where(User.practice_id == practice_id, col(User.is_active).is_(True),
               col(PractitionerProfile.telehealth_enabled).is_(True))
        .order_by(col(User.full_name))
    ).all())


def _trusted_ids(session: Session, client_id: int) -> set[int]:
    return set(session.exec(select(TrustedPractitioner.practitioner_id)
                            .where(TrustedPractitioner.client_id == client_id)).all())


def practitioner_choices(principal: Principal) -> list[PractitionerChoice]:
    """The practice's telehealth practitioners by name, each with whether this client trusts them.

    Raises `NotAllowed` for anyone but a portal client and `NoClientRecord` when the user has none.
    """
    require(principal, Action.USE_PORTAL)
    with unit_of_work() as session:
        client = _own_client(session, principal)
        trusted = _trusted_ids(session, client.id or 0)
        return [PractitionerChoice(practitioner_id=u.id or 0, trusted=u.id in trusted,
                                   name=profiles.client_facing_name(u.full_name,
                                                                    session.get(PractitionerProfile, u.id)))
                for u in _telehealth_practitioners(session, principal.practice_id)]


def set_trusted(principal: Principal, practitioner_id: int, trusted: bool) -> PractitionerChoice:
    """Trust (or stop trusting) one practitioner; doing what is already so changes nothing.

    Raises `NotAllowed`, `NoClientRecord`, or `PractitionerUnavailable` for anyone who is not a
    telehealth practitioner of the client's practice.
    """
    require(principal, Action.USE_PORTAL)
    try:
        with unit_of_work() as session:
            client = _own_client(session, principal)
            practitioner = next((u for u in _telehealth_practitioners(session, principal.practice_id)
                                 if u.id == practitioner_id), None)
            if practitioner is None:
                raise PractitionerUnavailable()
            choice = PractitionerChoice(practitioner_id=practitioner_id, name=practitioner.full_name,
                                        trusted=trusted)
            row = session.exec(select(TrustedPractitioner).where(
                TrustedPractitioner.client_id == client.id,
                TrustedPractitioner.practitioner_id == practitioner_id)).first()
            if (row is not None) == trusted:
                return choice
            if trusted:
                session.add(TrustedPractitioner(practice_id=client.practice_id, client_id=client.id or 0,
                                                practitioner_id=practitioner_id))
            else:
                session.delete(row)
            trail.record(session, practice_id=client.practice_id, actor_user_id=principal.user_id,
                         action="trust.granted" if trusted else "trust.revoked", subject_type="client",
                         subject_id=client.id or "", practitioner_id=practitioner_id)
    except IntegrityError:
        pass  # another tab trusted the same practitioner a moment ago: the wish holds
    return choice
