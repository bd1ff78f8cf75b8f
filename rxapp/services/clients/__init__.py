"""The practice's clients: who may see which client, the Clients list and the pickers' search
(`directory`), adding, editing, archiving and consents (`records`), and a client's appointments
(`history`).

May import: the leaves, `audit`, `notify` (phone numbers), `telehealth` (a renamed client's meetings
keep their search text)."""
