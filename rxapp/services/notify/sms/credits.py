"""The SMS credit ledger: the balance is the sum of a practice's entries.

Charging is race-safe on SQLite and PostgreSQL: `lock_practice` is a write to the practice row
(a row lock on PostgreSQL, SQLite's single write lock), taken as the FIRST statement of the
charging transaction, so two workers charging the same practice run one after the other and
the second sees the first's charge in the balance. A message is charged at most once (unique
per notification and kind), so a worker that retries after a crash does not charge it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.models import CreditKind, Practice, Role, SmsCreditEntry, User

NOT_ENOUGH = "not enough SMS credits"


@dataclass(frozen=True)
class LedgerLine:
    id: int
    at: datetime
    kind: str
    amount: int
    note: str


def lock_practice(session: Session, practice_id: int) -> None:
    """Serialise credit changes of one practice (see the module docstring): call it first."""
    session.execute(update(Practice).where(col(Practice.id) == practice_id)
                    .values(sms_low_balance_warned=Practice.sms_low_balance_warned))


def balance(session: Session, practice_id: int) -> int:
    """The practice's credits: grants and refunds minus charges."""
    total = session.exec(select(func.coalesce(func.sum(SmsCreditEntry.amount), 0))
                         .where(SmsCreditEntry.practice_id == practice_id)).one()
    return int(total)


def history(session: Session, practice_id: int, limit: int = 20) -> list[LedgerLine]:
    """The newest entries first."""
    rows = session.exec(select(SmsCreditEntry).where(SmsCreditEntry.practice_id == practice_id)
                        .order_by(col(SmsCreditEntry.id).desc()).limit(limit)).all()
    return [LedgerLine(id=r.id or 0, at=r.created_at, kind=str(r.kind), amount=r.amount, note=r.note) for r in rows]


def _existing(session: Session, notification_id: int, kind: CreditKind) -> SmsCreditEntry | None:
    return session.exec(select(SmsCreditEntry).where(SmsCreditEntry.notification_id == notification_id,
                                                     SmsCreditEntry.kind == kind)).first()


def charge(session: Session, *, practice_id: int, notification_id: int, credits: int, note: str = "") -> bool:
    """Charge a message (in a transaction that called `lock_practice` first). Returns False, and
    charges nothing, when the balance is too low; True when charged now or already before."""
    if _existing(session, notification_id, CreditKind.CHARGE) is not None:
        return True
    if balance(session, practice_id) < credits:
        return False
    session.add(SmsCreditEntry(practice_id=practice_id, kind=CreditKind.CHARGE, amount=-credits,
                               notification_id=notification_id, note=note[:200], created_at=now()))
    session.flush()
    return True


def charge_batch(session: Session, practice_id: int, messages: list[tuple[int, int, str]]) -> set[int]:
    """Charge a batch of one practice's messages, (notification id, credits, note) each, in order,
    exactly as `charge` one after the other would (in a transaction that called `lock_practice`
    first), reading the balance once. Returns the ids charged, now or before; a message that
    does not fit is not charged (a later, cheaper one may still be)."""
    if not messages:
        return set()
    ids = [m[0] for m in messages]
    charged = set(session.exec(select(SmsCreditEntry.notification_id).where(
        col(SmsCreditEntry.notification_id).in_(ids), SmsCreditEntry.kind == CreditKind.CHARGE)).all())
    left = balance(session, practice_id)
    at = now()
    for notification_id, credits, note in messages:
        if notification_id in charged or left < credits:
            continue
        left -= credits
        charged.add(notification_id)
        session.add(SmsCreditEntry(practice_id=practice_id, kind=CreditKind.CHARGE, amount=-credits,
                                   notification_id=notification_id, note=note[:200], created_at=at))
    session.flush()
    return {i for i in charged if i is not None}


def release(session: Session, notification_id: int) -> None:
    """Take back the charge of a message the provider did not accept (it never costs anything)."""
    session.execute(delete(SmsCreditEntry).where(col(SmsCreditEntry.notification_id) == notification_id,
                                                 col(SmsCreditEntry.kind) == CreditKind.CHARGE))


def refund(session: Session, *, practice_id: int, notification_id: int, note: str) -> int:
    """Give back what a message was charged (once); returns the credits refunded (0 if none)."""
    charged = _existing(session, notification_id, CreditKind.CHARGE)
    if charged is None or _existing(session, notification_id, CreditKind.REFUND) is not None:
        return 0
    session.add(SmsCreditEntry(practice_id=practice_id, kind=CreditKind.REFUND, amount=-charged.amount,
                               notification_id=notification_id, note=note[:200], created_at=now()))
    session.flush()
    return -charged.amount


def grant(session: Session, *, practice_id: int, amount: int, note: str, user_id: int | None) -> None:
    """Add credits (a purchase or a gift); a balance back at or above the threshold re-arms the
    low-balance email."""
    lock_practice(session, practice_id)
    session.add(SmsCreditEntry(practice_id=practice_id, kind=CreditKind.GRANT, amount=amount, note=note[:200],
                               created_by_user_id=user_id, created_at=now()))
    session.flush()
    practice = session.get(Practice, practice_id)
    if practice is not None and balance(session, practice_id) >= practice.sms_low_balance_threshold:
        practice.sms_low_balance_warned = False


def owners(session: Session, practice_id: int) -> list[User]:
    return list(session.exec(select(User).where(User.practice_id == practice_id, User.role == Role.OWNER,
                                                col(User.is_active).is_(True))).all())


def low_balance(session: Session, practice_id: int) -> tuple[int, int] | None:
    """(balance, threshold) when the practice is below its threshold, else None."""
    practice = session.get(Practice, practice_id)
    if practice is None:
        return None
    current = balance(session, practice_id)
    return (current, practice.sms_low_balance_threshold) if current < practice.sms_low_balance_threshold else None
