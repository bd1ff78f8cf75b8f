"""What we keep of each practitioner's Zoom account, and what Zoom tells us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import UTCDateTime, ZoomConnectionStatus


class ZoomConnection(SQLModel, table=True):
    """One practitioner's Zoom grant. Tokens are encrypted; `version` guards refresh races."""

    __tablename__ = "zoom_connection"
    __table_args__ = (Index("ix_zoom_connection_zoom_user", "zoom_account_id", "zoom_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    practitioner_id: int = Field(foreign_key="user.id", unique=True)
    status: ZoomConnectionStatus = Field(default=ZoomConnectionStatus.CONNECTED, sa_type=String(20))
    access_token_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    refresh_token_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    access_expires_at: datetime = Field(sa_type=UTCDateTime)
    scopes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    zoom_user_id: str = Field(max_length=64)
    zoom_account_id: str = Field(max_length=64)
    api_url: str = Field(default="", max_length=255)
    version: int = 0
    refresh_claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    connected_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEvent(SQLModel, table=True):
    """A Zoom event as received, stored once. `practice_id` is empty for unknown accounts."""

    __tablename__ = "webhook_event"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", index=True)
    dedupe_key: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    event: str = Field(max_length=100)
    zoom_account_id: str = Field(default="", max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # A failed run is retried with backoff; after the last attempt the event is processed with
    # `failed_at` set and its reason in `error` (shown on the owner's Needs attention page).
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OAuthAttempt(SQLModel, table=True):
    """One press of Connect to Zoom: the `state` (stored hashed) and the PKCE verifier, bound
    to the browser session that started it; single-use, ten minutes. The outcome feeds the
    review page shown after Zoom sends the browser back."""

    __tablename__ = "oauth_attempt"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    state_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    code_verifier_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    initiated_by_user_id: int = Field(foreign_key="user.id")
    practitioner_id: int = Field(foreign_key="user.id")
    login_session_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
