"""SMS credits as practice settings show them: balance, recent history, add credits, threshold.

Owners and managers see them; only the owner (who pays) adds credits or sets the low-balance
threshold. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from rxapp.db import unit_of_work
from rxapp.models import Practice
from rxapp.services.audit import trail
from rxapp.services.notify.sms import credits
from rxapp.services.notify.sms.credits import LedgerLine
from rxapp.services.permissions import Action, Principal, can, require

MAX_GRANT = 100_000
MAX_THRESHOLD = 100_000


class InvalidCredits(Exception):
    """Field name -> message for the user."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class CreditsView:
    balance: int
    threshold: int
    low: bool
    history: list[LedgerLine]
    can_manage: bool


def credits_view(principal: Principal, limit: int = 20) -> CreditsView:
    """The practice's balance, threshold and newest ledger entries. Raises `NotAllowed`."""
    require(principal, Action.PRACTICE_SETTINGS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        balance = credits.balance(session, principal.practice_id)
        return CreditsView(balance=balance, threshold=practice.sms_low_balance_threshold,
                           low=balance < practice.sms_low_balance_threshold,
                           history=credits.history(session, principal.practice_id, limit),
                           can_manage=can(principal, Action.MANAGE_SMS_CREDITS))


def parse_amount(typed: str, field: str, low: int, high: int) -> int:
    """A whole number between `low` and `high`, or `InvalidCredits` naming the field."""
    text = typed.strip().replace(",", "")
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise InvalidCredits({field: f"Enter a whole number from {low:,} to {high:,}."})
    return int(text)


def add_credits(principal: Principal, amount: str, note: str) -> int:
    """Grant credits (a purchase or a gift) with a note; returns the new balance. Raises
    `NotAllowed` unless owner, `InvalidCredits` for a bad amount or note."""
    require(principal, Action.MANAGE_SMS_CREDITS)
    value = parse_amount(amount, "amount", 1, MAX_GRANT)
    note = " ".join(note.split())
    if len(note) > 200:
        raise InvalidCredits({"note": "Use at most 200 characters."})
    with unit_of_work() as session:
        credits.grant(session, practice_id=principal.practice_id, amount=value, note=note or "Credits added",
                      user_id=principal.user_id)
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="practice.sms_credits_added", subject_type="practice", subject_id=principal.practice_id,
                     amount=value)
        return credits.balance(session, principal.practice_id)


def set_threshold(principal: Principal, threshold: str) -> int:
    """Set the low-balance threshold (0 turns the warning off); returns it. Raises `NotAllowed`
    unless owner, `InvalidCredits` for a bad number."""
    require(principal, Action.MANAGE_SMS_CREDITS)
    value = parse_amount(threshold, "threshold", 0, MAX_THRESHOLD)
    with unit_of_work() as session:
        credits.lock_practice(session, principal.practice_id)
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        if practice.sms_low_balance_threshold != value:
            practice.sms_low_balance_threshold = value
            # A new threshold is judged afresh: the next charge below it emails again.
            practice.sms_low_balance_warned = False
            trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                         action="practice.sms_threshold_changed", subject_type="practice",
                         subject_id=principal.practice_id, threshold=value)
        return value
