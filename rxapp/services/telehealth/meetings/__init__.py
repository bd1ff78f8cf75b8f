"""Telehealth meetings: scheduling, keeping Zoom in step, row actions, Zoom events, emails."""
