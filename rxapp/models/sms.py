"""The SMS credit ledger: every grant, charge and refund of a practice; the balance is the sum."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import UTCDateTime


class CreditKind(StrEnum):
    GRANT = "grant"  # credits added (a purchase, a gift, the opening balance)
    CHARGE = "charge"  # an SMS the provider accepted (negative)
    REFUND = "refund"  # a charged SMS the provider reported failed or undelivered


class SmsCreditEntry(SQLModel, table=True):
    __tablename__ = "sms_credit_entry"
    __table_args__ = (
        # One charge and at most one refund per message, however often a worker retries it.
        UniqueConstraint("notification_id", "kind", name="uq_sms_credit_notification_kind"),
        Index("ix_sms_credit_practice_id", "practice_id", "id"),
        # The owner's dashboard: credits spent per month, read from the index alone.
        Index("ix_sms_credit_practice_created", "practice_id", "created_at", "kind", "amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    kind: CreditKind = Field(sa_type=String(10))
    amount: int  # positive for grants and refunds, negative for charges
    notification_id: int | None = Field(default=None, foreign_key="notification.id")
    note: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
