"""A tiny in-process signal: services announce that an appointment (or its Zoom meeting) changed;
the UI layer (live.py) listens and pushes the change to open browsers. Services never import Reflex."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppointmentChanged:
    appointment_id: int
    practice_id: int
    practitioner_id: int
    client_id: int


Listener = Callable[[AppointmentChanged], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def appointment_changed(appointment_id: int, practice_id: int, practitioner_id: int, client_id: int) -> None:
    """Call after the change is committed. A failing listener never fails the caller."""
    change = AppointmentChanged(appointment_id, practice_id, practitioner_id, client_id)
    for listener in list(_listeners):
        try:
            listener(change)
        except Exception:
            log.exception("appointment change listener failed")
