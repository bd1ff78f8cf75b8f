"""Scheduling: the appointment book's use cases (book, change, re-assign, cancel, outcome), recurrence,
published availability and its editor, the pure slot engine, the per-practitioner booking lock, the
calendar's read queries, client self-booking, and the Zoom work each change queues (`zoom_follow`).

May import: the leaves, `audit`, `clients`, `practice`, `notify` (reminders, emails), `telehealth`
(an appointment's Zoom meeting)."""
