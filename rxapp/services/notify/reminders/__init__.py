"""Appointment reminders: planned with every appointment change, sent exactly once by the job.

- `plan(session, appointment)`: in the transaction that books, moves or cancels;
- `replan_practice(session, practice_id)`: when the practice's reminder settings change;
- `run_due()`: the job (claims due reminders, queues their email/SMS in the outbox);
- `answers`: the Confirm link, the SMS reply YES and the email opt-out link.
"""

# Imported for its registration: the SMS reply YES reaches `answers.confirm_by_sms` wherever reminders are.
from rxapp.services.notify.reminders import answers  # noqa: F401
from rxapp.services.notify.reminders.planning import plan, replan_practice
from rxapp.services.notify.reminders.sending import claim_due, run_due, send_batch, send_one

__all__ = ["claim_due", "plan", "replan_practice", "run_due", "send_batch", "send_one"]
