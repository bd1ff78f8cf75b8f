"""SQLModel tables. The schema is only ever created by Alembic migrations."""

from rxapp.models.availability import AvailabilityBlock, AvailabilityOverride, BookingRule
from rxapp.models.practice import (
    Client,
    Practice,
    PractitionerProfile,
    TrustedPractitioner,
    User,
)
from rxapp.models.records import (
    AccountToken,
    AuditEvent,
    CalendarFeed,
    LoginSession,
    LoginThrottle,
    MfaRecoveryCode,
    Notification,
    SetupCode,
    SignInTicket,
)
from rxapp.models.reminders import Reminder, ReminderKind, ReminderStatus
from rxapp.models.scheduling import Appointment, Attendance, JoinLink, Meeting, WaitlistOffer, WaitlistWish
from rxapp.models.sms import CreditKind, SmsCreditEntry
from rxapp.models.types import (
    AppointmentStatus,
    Channel,
    NotificationStatus,
    Role,
    SyncState,
    UTCDateTime,
    ZoomConnectionStatus,
)
from rxapp.models.zoom import OAuthAttempt, WebhookEvent, ZoomConnection

__all__ = [
    "AccountToken",
    "Appointment",
    "AppointmentStatus",
    "Attendance",
    "AuditEvent",
    "AvailabilityBlock",
    "AvailabilityOverride",
    "BookingRule",
    "CalendarFeed",
    "Channel",
    "Client",
    "CreditKind",
    "JoinLink",
    "LoginSession",
    "LoginThrottle",
    "Meeting",
    "MfaRecoveryCode",
    "Notification",
    "NotificationStatus",
    "OAuthAttempt",
    "Practice",
    "PractitionerProfile",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
    "Role",
    "SetupCode",
    "SignInTicket",
    "SmsCreditEntry",
    "SyncState",
    "TrustedPractitioner",
    "UTCDateTime",
    "User",
    "WaitlistOffer",
    "WaitlistWish",
    "WebhookEvent",
    "ZoomConnection",
    "ZoomConnectionStatus",
]
