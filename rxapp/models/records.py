"""Sign-in sessions, the notification outbox and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, Integer, String, Text
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import Channel, NotificationStatus, UTCDateTime


class LoginSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the cookie value is stored."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What My profile shows of it: the browser's User-Agent and the address it signed in from.
    user_agent: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    source: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))


class LoginThrottle(SQLModel, table=True):
    """Sign-in attempts per email (known or not, so a lockout says nothing about who exists) and
    source address (so a stranger's failures lock out only the stranger's address).

    It is the one table without a practice: it is keyed by what a stranger typed.
    """

    __tablename__ = "login_throttle"

    email: str = Field(sa_column=Column(String(320), primary_key=True))
    source: str = Field(default="", sa_column=Column(String(64), primary_key=True, server_default=""))
    failures: int = 0
    window_started_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInTicket(SQLModel, table=True):
    """A single-use, short-lived proof of a good password, exchanged by an HTTP route for
    the HttpOnly session cookie (the websocket handler cannot set cookies itself)."""

    __tablename__ = "sign_in_ticket"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    ticket_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # "session": exchanged for the cookie; "mfa": the password was right, the second step is owed
    # (a code, or enrolment when the practice requires it); never exchanged for a cookie itself.
    kind: str = Field(default="session", sa_column=Column(String(10), nullable=False, server_default="session"))


class SetupCode(SQLModel, table=True):
    """The one-time code that opens /setup while no practice exists (`manage setup-code`, or logged
    at start); only its SHA-256 is kept. The one table without a practice: there is none yet."""

    __tablename__ = "setup_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarFeed(SQLModel, table=True):
    """A private calendar subscription URL (`/feeds/<token>.ics`): a practitioner's own appointments, or
    (`everyone`) the whole practice's for the owner. Only the token's SHA-256 is kept; a new link
    revokes the old."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    everyone: bool = False
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MfaRecoveryCode(SQLModel, table=True):
    """One of a person's 10 single-use recovery codes for two-step sign-in (only its SHA-256 kept)."""

    __tablename__ = "mfa_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountToken(SQLModel, table=True):
    """A single-use emailed link: a portal invite (48 h) or a password reset. Only a hash is stored."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    purpose: str = Field(max_length=20)  # "portal_invite" | "password_reset" | "team_invite" | "verify_email"
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """The outbox: written in the same transaction as the change it reports, sent later."""

    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    idempotency_key: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    channel: Channel = Field(default=Channel.EMAIL, sa_type=String(10))
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    ics: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: NotificationStatus = Field(default=NotificationStatus.PENDING, sa_type=String(10))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the last send failed (its reason is `last_error`): the owner's Needs attention page.
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The bodies (text, html) are encrypted at rest (services.crypto): the message carries a secret
    # such as a Zoom join link and passcode (a reminder that includes them). Opened only to send it.
    sealed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    # About the recipient's own sign-in (confirm the email, reset the password, two-step reset): sent even
    # while the practice's email is unconfirmed, when everything else waits (services.practice.signup).
    account: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    # SMS only: who it is for (opt-out), what it costs, what the provider said.
    client_id: int | None = Field(default=None, foreign_key="client.id")
    telehealth: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    segments: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    sms_encoding: str = Field(default="", sa_column=Column(String(8), nullable=False, server_default=""))
    credits: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    provider_message_id: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default="",
                                                                   index=True))
    delivery_status: str = Field(default="", sa_column=Column(String(20), nullable=False, server_default=""))
    error_code: str = Field(default="", sa_column=Column(String(20), nullable=False, server_default=""))


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_practice_created", "practice_id", "created_at"),
        # The audit page's keyset pages (services.audit.entries) filtered by person or by action.
        Index("ix_audit_practice_actor", "practice_id", "actor_user_id", "created_at", "id"),
        Index("ix_audit_practice_action", "practice_id", "action", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=100)
    subject_type: str = Field(default="", max_length=50)
    subject_id: str = Field(default="", max_length=64)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
