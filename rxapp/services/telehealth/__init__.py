"""Telehealth: Zoom (`zoom/`: OAuth, tokens, API client, webhooks), meetings (`meetings/`: scheduling,
keeping Zoom in step, row actions, Zoom events, emails, decisions), the Meetings page's keyset list
(`meeting_list`), and the client's side (`portal`: My sessions, the waiting room, one-time join
links).

May import: the leaves, `audit`, `identity`, `clients`, `practice`, `notify`, `scheduling` (the
booking lock and the appointment book)."""
