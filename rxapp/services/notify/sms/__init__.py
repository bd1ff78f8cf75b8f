"""SMS: segment counting, providers (Twilio, the embedded catcher), the credit ledger, inbound replies."""
