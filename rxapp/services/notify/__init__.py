"""Telling people: the outbox (`outbox`: email and SMS queued in the caller's transaction, delivered in
leased batches, SMS credits charged), SMS (`sms/`: providers, segments, credits, inbound replies),
reminders (`reminders/`: planned with every change, sent once), and the development mail catcher's
reader (`mailbox`).

May import: the leaves, `audit`, `telehealth` (meeting email wording and join details in reminders)."""
