"""A tiny in-process signal: services announce that a meeting changed; the UI layer (live.py)
listens and pushes the change to open browsers. Services never import Reflex."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeetingChanged:
    meeting_id: int
    practitioner_id: int
    client_id: int


Listener = Callable[[MeetingChanged], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def meeting_changed(meeting_id: int, practitioner_id: int, client_id: int) -> None:
    """Call after the change is committed. A failing listener never fails the caller."""
    change = MeetingChanged(meeting_id, practitioner_id, client_id)
    for listener in list(_listeners):
        try:
            listener(change)
        except Exception:
            log.exception("meeting change listener failed")
