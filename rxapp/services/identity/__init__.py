"""Who someone is: passwords (argon2), sign-in with lockout and server-side sessions (`auth`), single-use
secrets claimed by one conditional UPDATE (`one_time`), portal and team invites and password resets
(`accounts`), two-step sign-in for staff (`mfa`: TOTP and recovery codes) and the signed-in sessions
a person sees and ends (`sessions`).

May import: the leaves, `audit` (the trail), `notify` (the outbox, for invite and reset emails)."""
