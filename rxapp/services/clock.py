"""The app's clock, re-exported for the services (it lives in `rxapp.clock` so that the models,
which need it for defaults, do not import the service layer)."""

from rxapp.clock import as_utc, now, set_clock

__all__ = ["as_utc", "now", "set_clock"]
