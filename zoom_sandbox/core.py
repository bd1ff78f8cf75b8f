"""The sandbox's shared behaviour: meeting life, grants, events, faults, limits.

HTTP layers (oauth, api, pages, control) stay thin and call into `Sandbox`, so a
meeting started from the host page, the control API or a test behaves alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zoom_sandbox import documented
from zoom_sandbox import meetings as mt
from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.responses import RateLimits
from zoom_sandbox.state import Grant, Meeting, Store, new_token
from zoom_sandbox.users import USERS_BY_EMAIL, DemoUser
from zoom_sandbox.webhooks import WebhookDispatcher

FAULT_KINDS = ("500", "502", "429", "429-daily", "timeout", "timeout-after", "xml")
OPERATIONS = (
    "token", "revoke", "users.me", "users.get", "users.settings", "meetings.create",
    "meetings.get", "meetings.update", "meetings.delete", "meetings.status", "meetings.list",
)


@dataclass
class Fault:
    kind: str
    remaining: int
    delay: float = 10.0
    status: int = 500


class Sandbox:
    """State plus behaviour of one sandbox instance."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store.load(config.state_file)
        self.webhooks = WebhookDispatcher(config)
        self.faults: dict[str, deque[Fault]] = {}
        self._qps: dict[str, deque[float]] = {}

    # -- events ---------------------------------------------------------------
    def event_ts(self) -> int:
        return int(self.store.now() * 1000)

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        self.webhooks.send(event, payload, self.event_ts())

    # -- faults and limits ----------------------------------------------------
    def add_fault(self, operation: str, kind: str, count: int, delay: float | None, status: int) -> None:
        queue = self.faults.setdefault(operation, deque())
        queue.append(Fault(kind, max(count, 1), 10.0 if delay is None else delay, status))

    def take_fault(self, operation: str) -> Fault | None:
        """The fault planned for this call of `operation`, consuming one count."""
        queue = self.faults.get(operation)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def qps_exceeded(self, email: str) -> bool:
        """Sliding one-second window per user (real time, not the sandbox clock)."""
        window = self._qps.setdefault(email, deque())
        now = time.monotonic()
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.config.qps:
            return True
        window.append(now)
        return False

    def rate_limits(self, operation: str) -> RateLimits:
        """The limits a 429 of `operation` reports (category from Zoom's document)."""
        midnight = datetime.fromtimestamp(self.store.now(), UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        category = documented.rate_limit_category(operation) if operation in documented.OPERATION_PATHS else "Light"
        return RateLimits(category, self.config.qps, self.config.daily_limit,
                          (midnight + timedelta(days=1)).timestamp())

    def _day(self) -> str:
        return datetime.fromtimestamp(self.store.now(), UTC).strftime("%Y-%m-%d")

    def daily_exceeded(self, email: str) -> bool:
        day, count = self.store.daily.get(email, [self._day(), 0])
        return day == self._day() and count >= self.config.daily_limit

    def count_daily(self, email: str) -> None:
        day, count = self.store.daily.get(email, [self._day(), 0])
        if day != self._day():
            day, count = self._day(), 0
        self.store.daily[email] = [day, count + 1]
        self.store.save()

    # -- grants -----------------------------------------------------------------
    def deauthorize(self, grant: Grant, reason: str = "deauthorized") -> None:
        """Remove the app for a user (revoke, Remove app, control API): tokens die, event fires."""
        self.store.revoke_grant(grant, reason)
        self.store.save()
        user = USERS_BY_EMAIL[grant.email]
        when = mt.fmt(self.store.now(), millis=True)
        signature = hmac.new(self.config.client_secret.encode(),
                             f"{grant.id}:{when}".encode(), hashlib.sha256).hexdigest()
        # Zoom's documented shape: no top-level event_ts (the dispatcher puts it in payload);
        # user_data_retention is the string "false" (the user did not consent to keep data).
        self.emit("app_deauthorized", {
            "user_data_retention": "false",
            "account_id": user.account_id,
            "user_id": user.id,
            "signature": signature,
            "deauthorization_time": when,
            "client_id": grant.client_id,
        })

    # -- meeting life -----------------------------------------------------------
    def user_of(self, m: Meeting) -> DemoUser:
        return USERS_BY_EMAIL[m.host_email]

    def start_url(self, m: Meeting) -> str:
        """A fresh start link whose zak expires after the configured TTL."""
        zak = new_token("zak.", 24)
        self.store.zaks[zak] = [m.id, self.store.now() + self.config.start_url_ttl]
        self.store.save()
        return f"{self.config.base_url}/s/{m.id}?zak={zak}"

    def check_zak(self, meeting_id: int, zak: str, *, ignore_expiry: bool = False) -> str:
        """'ok', 'expired' or 'invalid' for a start link."""
        entry = self.store.zaks.get(zak)
        if entry is None or int(entry[0]) != meeting_id:
            return "invalid"
        if not ignore_expiry and float(entry[1]) <= self.store.now():
            return "expired"
        return "ok"

    def start_meeting(self, m: Meeting) -> bool:
        """Host starts: status started, `meeting.started`. False if already running."""
        if m.status == "started" or m.status == "deleted":
            return False
        user = self.user_of(m)
        if not user.licensed:
            # A basic account runs one meeting at a time: starting a second ends the first.
            for other in self.store.live_meetings(m.host_email):
                self.end_meeting(other)
        m.status = "started"
        m.started_at = self.store.now()
        m.ended_at = None
        self.store.save()
        self.emit("meeting.started", {
            "account_id": user.account_id,
            "object": mt.event_object(m, user, id_as_string=True),
        })
        # The host is a participant too (Zoom reports them with their user id), and lets in whoever waits.
        self._arrive(m, f"{user.first_name} {user.last_name}", user.email, zoom_id=user.id)
        for person in [p for p in m.participants if p["state"] == "waiting"]:
            self._depart(m, person, "meeting.participant_left_waiting_room")
            self._enter(m, person)
        return True

    def end_meeting(self, m: Meeting) -> bool:
        """Host ends: `meeting.ended` with end_time; the next start is a new instance (uuid)."""
        if m.status != "started":
            return False
        user = self.user_of(m)
        for person in [p for p in m.participants if p["state"] in ("waiting", "joined")]:
            self._depart(m, person, "meeting.participant_left" if person["state"] == "joined"
                         else "meeting.participant_left_waiting_room", reason="Host ended the meeting.")
        m.status = "ended"
        m.ended_at = self.store.now()
        obj = mt.event_object(m, user, id_as_string=True)
        obj["end_time"] = mt.fmt(m.ended_at)
        self.emit("meeting.ended", {"account_id": user.account_id, "object": obj})
        m.uuid = mt.new_uuid()
        m.started_at = None
        m.participants = []
        self.store.save()
        return True

    def join_meeting(self, m: Meeting, name: str, email: str = "") -> str:
        """A participant arrives: 'waiting' before the host is there, else 'joined'. A guest who is
        not signed in to Zoom has no email (Zoom reports ""), and no user id of their own."""
        return self._arrive(m, name or "Guest", email)["state"]

    def _arrive(self, m: Meeting, name: str, email: str, zoom_id: str = "") -> dict[str, Any]:
        person: dict[str, Any] = {"name": name, "email": email, "id": zoom_id,
                                  "participant_uuid": mt.new_uuid(), "state": "", "at": ""}
        m.participants.append(person)
        if m.status == "started":
            self._enter(m, person)
        else:
            person["state"], person["at"] = "waiting", mt.fmt(self.store.now())
            self._emit_participant(m, person, "meeting.participant_joined_waiting_room", "date_time")
        return person

    def _enter(self, m: Meeting, person: dict[str, Any]) -> None:
        person["state"], person["at"] = "joined", mt.fmt(self.store.now())
        self._emit_participant(m, person, "meeting.participant_joined", "join_time")

    def _depart(self, m: Meeting, person: dict[str, Any], event: str, reason: str = "") -> None:
        person["state"], person["at"] = "left", mt.fmt(self.store.now())
        extra = {"leave_reason": f"{person['name']} left the meeting. Reason: {reason or 'left the meeting'}"} \
            if event == "meeting.participant_left" else {}
        self._emit_participant(m, person, event, "leave_time" if event == "meeting.participant_left" else "date_time",
                               extra)

    def _emit_participant(self, m: Meeting, person: dict[str, Any], event: str, time_field: str,
                          extra: dict[str, Any] | None = None) -> None:
        """One participant event, shaped as Zoom's webhook documents show it."""
        user = self.user_of(m)
        number = m.participants.index(person) + 1
        obj = mt.event_object(m, user, id_as_string=True)
        obj["participant"] = {"user_id": str(16778240 + number), "user_name": person["name"], "id": person["id"],
                              "participant_uuid": person["participant_uuid"], time_field: person["at"],
                              "email": person["email"], "participant_user_id": person["id"], **(extra or {})}
        self.store.save()
        self.emit(event, {"account_id": user.account_id, "object": obj})

    def leave_meeting(self, m: Meeting, participant_uuid: str) -> str:
        """A participant leaves the meeting or its waiting room; returns their new state ("" if unknown)."""
        person = next((p for p in m.participants if p.get("participant_uuid") == participant_uuid
                       and p["state"] in ("waiting", "joined")), None)
        if person is None:
            return ""
        self._depart(m, person, "meeting.participant_left" if person["state"] == "joined"
                     else "meeting.participant_left_waiting_room")
        return "left"

    def delete_meeting(self, m: Meeting, operator: DemoUser) -> None:
        m.status = "deleted"
        m.deleted_at = self.store.now()
        self.store.save()
        obj = mt.event_object(m, operator, id_as_string=False)
        self.emit("meeting.deleted", {
            "account_id": operator.account_id, "operator": operator.email,
            "operator_id": operator.id, "object": obj,
        })

    # -- housekeeping --------------------------------------------------------------
    def reset(self) -> None:
        self.store.reset()
        self.webhooks.reset()
        self.faults.clear()
        self._qps.clear()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
