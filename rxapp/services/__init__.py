"""The service layer: plain Python, no Reflex. Each use case takes the caller's `Principal`, opens one
unit of work, re-checks the caller's role and practice (`permissions`), and returns plain values.

Packages, one concern each (their own docstrings say what they own and may import):
identity/ (sign-in, sessions, accounts), practice/ (settings, team, profiles, trust), clients/
(records, history, who sees whom), scheduling/ (appointments, availability, slots, self-booking),
telehealth/ (Zoom, meetings, the meeting list, the portal's waiting room), notify/ (outbox, SMS,
reminders), audit/ (the trail, the audit page, Needs attention).

Leaves at the bottom, importing no other service: `crypto` (encryption at rest), `timezones`,
`permissions` (roles and actions), `changes` (the appointment-changed signal the UI listens to),
`phrases` (counted nouns). The one clock is `rxapp.clock`.
Services never import `rxapp.state`, `rxapp.pages`, `rxapp.components`, the HTTP edge or `reflex`
(tests/unit/test_layers.py)."""
