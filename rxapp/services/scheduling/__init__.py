"""Scheduling: the appointment book's use cases (book, change, re-assign, cancel, outcome), recurrence,
published availability and its editor, the pure slot engine, the per-practitioner booking lock, the
calendar's read queries, client self-booking, the Zoom work each change queues (`zoom_follow`), and
the practitioners' calendar subscription feeds (`feeds`).

May import: the leaves, `audit`, `clients`, `identity` (one-time tokens: the feeds' links), `practice`,
`notify` (reminders, emails), `telehealth` (an appointment's Zoom meeting)."""
