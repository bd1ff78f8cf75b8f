"""Needs attention (owner/manager): meetings Zoom is out of step with, failed Zoom events and failed
messages, in the viewer's timezone.

Every section has the same row shape ({"id", "when", "title", "detail", "reason"}), so a new
section is a service call here, two vars and one `section(...)` line on the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from rxapp.clock import now
from rxapp.services.audit import attention
from rxapp.services.audit.attention import LATEST as LATEST  # re-exported for the page
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.phrases import count
from rxapp.services.practice import profiles
from rxapp.services.telehealth.meetings.attention import meetings_needing_attention
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState

Row = dict[str, str]


@dataclass(frozen=True)
class _View:
    meetings: list[Row]
    zoom_events: list[Row]
    zoom_events_more: bool
    messages: list[Row]
    messages_more: bool
    sms_credits: list[Row]


def _view(principal: Principal) -> _View:
    tz = profiles.viewer_timezone(principal)
    meetings = [{"id": str(m.meeting_id), "when": format_local(m.start_at, tz),
                 "title": f"{m.topic} with {m.patient_name}",
                 "detail": f"{m.practitioner_name} · {m.status.value.replace('_', ' ')}"
                           + (f" · last changed by {m.changed_by_name}" if m.changed_by_name else ""),
                 "reason": m.reason}
                for m in meetings_needing_attention(principal)]
    events = attention.failed_zoom_events(principal)
    messages = attention.failed_messages(principal)
    event_rows = [{"id": str(e.id), "when": format_local(e.failed_at, tz), "title": e.event,
                   "detail": f"Given up after {count(e.attempts, 'attempt')}.", "reason": e.reason}
                  for e in events.items]
    message_rows = [{"id": str(m.id), "when": format_local(m.failed_at, tz), "title": m.subject,
                     "detail": f"To {m.to} · {count(m.attempts, 'attempt')} · "
                               + (f"next try {format_local(m.retry_at, tz)}" if m.retry_at else "given up"),
                     "reason": m.reason}
                    for m in messages.items]
    low = attention.sms_credit_warning(principal)
    credit_rows = [{"id": "sms-credits", "when": format_local(now(), tz), "title": f"SMS credits are low: "
                    f"{count(low.balance, 'credit')} left",
                    "detail": f"Below your warning threshold of {low.threshold:,}. Add credits in Practice settings.",
                    "reason": f"{count(low.unsent, 'text message')} not sent for lack of credits (the emails "
                              "went)." if low.unsent else "Text messages stop when the credits run out."}
                   ] if low else []
    return _View(meetings, event_rows, events.more, message_rows, messages.more, credit_rows)


class AttentionState(AuthState):
    meetings: list[Row] = []
    zoom_events: list[Row] = []
    zoom_events_more: bool = False
    messages: list[Row] = []
    messages_more: bool = False
    sms_credits: list[Row] = []
    loaded: bool = False

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.VIEW_ATTENTION)
        except NotAllowed:
            self.meetings, self.zoom_events, self.messages, self.loaded = [], [], [], False
            self.sms_credits = []
            return
        view = await asyncio.to_thread(_view, principal)
        self.meetings = view.meetings
        self.zoom_events, self.zoom_events_more = view.zoom_events, view.zoom_events_more
        self.messages, self.messages_more = view.messages, view.messages_more
        self.sms_credits = view.sms_credits
        self.loaded = True
