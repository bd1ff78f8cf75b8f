"""The practice and its people: users, practitioner profiles, clients."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Text, UniqueConstraint, event, false, true
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import Role, UTCDateTime
from rxapp.text import fold

# What a client trying to move or cancel inside the cancellation window reads, until the practice words it.
CANCELLATION_MESSAGE = "Please contact the practice to change or cancel it."


class Practice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    timezone: str = Field(default="America/New_York", max_length=64)
    allow_zoom: bool = False
    standard_reminder_days: int = 1
    telehealth_reminder_minutes: int = 15
    telehealth_reminder_includes_link: bool = False
    telehealth_location_name: str = Field(default="", max_length=200)
    telehealth_location_address: str = Field(default="", max_length=500)
    default_pos_code: str = Field(default="10", max_length=2)
    # Where in-person visits take place: reminders, booking emails and calendar invites name it.
    address: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The SMS credit balance is the sum of `SmsCreditEntry` rows (services.notify.sms.credits). Below the
    # threshold the owner is warned (Needs attention) and emailed once, until credits are added.
    sms_low_balance_threshold: int = Field(default=20, sa_column=Column(Integer, nullable=False, server_default="20"))
    sms_low_balance_warned: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                                         server_default=false()))
    notify_client_when_started: bool = True
    # Client self-booking in the portal (services.scheduling.self_booking): on/off, any active practitioner or
    # only those the client trusts, and how close to the start a client may still move or cancel.
    self_booking_enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))
    self_booking_any_practitioner: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    cancellation_window_hours: int = Field(default=24, sa_column=Column(Integer, nullable=False, server_default="24"))
    cancellation_message: str = Field(default=CANCELLATION_MESSAGE, sa_column=Column(
        Text, nullable=False, server_default=CANCELLATION_MESSAGE))
    # How many visits one client may self-book (the front desk is not limited): on one day, and still
    # to come at once (services.scheduling.self_booking).
    self_booking_max_per_day: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    self_booking_max_upcoming: int = Field(default=4, sa_column=Column(Integer, nullable=False, server_default="4"))
    # Every staff member (not clients) must sign in with two steps; those without are enrolled at sign-in.
    require_staff_mfa: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # Calendar feeds name clients in full (else by initials: a phone's calendar is seen by others).
    feed_full_names: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # The country (ISO 3166 alpha-2) of phone numbers typed without a country code; "" uses the timezone's.
    country: str = Field(default="", sa_column=Column(String(2), nullable=False, server_default=""))
    # The practice's phone (E.164), given to a client who texts HELP or INFO.
    phone: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    # Reminders carry a Confirm link (email) / "Reply YES" (SMS); the appointment records confirmed_at.
    ask_clients_to_confirm: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                                          server_default=false()))
    # How long a waitlist offer's link works before the slot goes to the next wishes (services.scheduling.waitlist).
    waitlist_offer_hours: int = Field(default=2, sa_column=Column(Integer, nullable=False, server_default="2"))
    # When the owner confirmed their email. A practice made at /signup starts without it, and until then
    # the outbox sends nothing but the owner's own account mail (services.practice.signup); the first run,
    # `manage create-practice` and the demo make practices confirmed by the installation's operator.
    email_verified_at: datetime | None = Field(default_factory=now, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)

    @property
    def in_person_place(self) -> str:
        """The practice's name and, once set, its address: where an in-person visit takes place."""
        return ", ".join(part for part in (self.name, self.address.strip()) if part)


class User(SQLModel, table=True):
    """A person who signs in. `email` is stored lower-cased, so uniqueness is case-insensitive."""

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    full_name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    role: Role = Field(sa_type=String(20))
    is_active: bool = True
    # Two-step sign-in (services.identity.mfa): the authenticator's TOTP secret, encrypted with
    # SECRET_KEYS (None: not enrolled); the last time step accepted (a code is never used twice).
    mfa_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mfa_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mfa_last_step: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class PractitionerProfile(SQLModel, table=True):
    __tablename__ = "practitioner_profile"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    timezone: str = Field(default="America/New_York", max_length=64)
    telehealth_enabled: bool = False
    # What Zoom did to the connection that the practitioner has not acknowledged yet
    # (e.g. the app was removed in Zoom); shown on the Meeting tab.
    zoom_notice: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The length a new appointment starts with (services.practice.profiles.default_length).
    default_length_minutes: int = Field(default=50, sa_column=Column(Integer, nullable=False, server_default="50"))
    # How clients see the practitioner: a name and credentials such as "PhD, Licensed Psychologist".
    display_name: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    credentials: str = Field(default="", sa_column=Column(String(120), nullable=False, server_default=""))
    # Bumped as the first statement of every booking transaction: the per-practitioner booking lock
    # (services.scheduling.booking_lock).
    booking_seq: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class Client(SQLModel, table=True):
    """A client (patient) record. `full_name` is the display name everything else shows (emails,
    meeting search); services.clients.records keeps it "<preferred or first> <last>" on every save."""

    __table_args__ = (
        # The Clients page: keyset pages by name within a practice.
        Index("ix_client_practice_name", "practice_id", "full_name", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    full_name: str = Field(max_length=200)
    first_name: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    last_name: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    preferred_name: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    date_of_birth: date | None = None
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Archived clients are hidden from pickers and the default list; their history stays.
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    timezone: str = Field(default="America/New_York", max_length=64)
    # Set by a STOP reply (or the client record); no SMS goes to the client while it is set.
    sms_opted_out: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # Set from the link in a reminder email (or on the client record): no email reminders.
    email_reminders_opt_out: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                                           server_default=false()))
    user_id: int | None = Field(default=None, foreign_key="user.id", unique=True)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    # Names and email folded (rxapp.text.fold), kept by `_keep_search_key` on every insert and update:
    # the Clients list and every client picker search it, whatever the case and accents typed.
    search_key: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


def client_search_key(client: Client) -> str:
    return fold(" ".join(p for p in (client.full_name, client.preferred_name, client.first_name, client.last_name,
                                     client.email or "") if p))


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_search_key(_mapper: object, _connection: object, client: Client) -> None:
    client.search_key = client_search_key(client)


class TrustedPractitioner(SQLModel, table=True):
    """A client's choice of a practitioner they trust; only those may book them as a patient."""

    __tablename__ = "trusted_practitioner"
    __table_args__ = (UniqueConstraint("client_id", "practitioner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    practitioner_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
