"""The practice and its people: practice settings (Zoom allowed, telehealth, reminders, self-booking,
address), the team (invites, roles, deactivation), practitioner profiles (display name, timezone,
default length) and which practitioners a client trusts.

May import: the leaves, `audit`, `identity`, `clients`, `notify`, `telehealth` (deactivating a
practitioner disconnects their Zoom; settings changes re-plan reminders)."""
