"""In-memory store of the sandbox: clock, codes, grants, tokens and meetings.

Everything lives in one `Store` so that `reset` is trivial and so that the
optional JSON file (restart of `make run` keeps connections and meetings) is a
plain dump of it. All handlers run on one asyncio loop, so no locking is needed.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def new_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


@dataclass
class AuthCode:
    code: str
    email: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    code_challenge: str = ""
    code_challenge_method: str = ""
    used: bool = False


@dataclass
class Grant:
    """One authorization of the app by one Zoom user (a "connected app")."""

    id: str
    email: str
    client_id: str
    scopes: list[str]
    created_at: float
    status: str = "active"  # active | revoked
    revoked_reason: str = ""
    refresh_token: str = ""


@dataclass
class AccessToken:
    grant_id: str
    expires_at: float


@dataclass
class Meeting:
    id: int
    uuid: str
    host_email: str
    topic: str
    type: int
    duration: int
    timezone: str
    created_at: float
    start_time: float | None = None
    agenda: str = ""
    password: str = ""
    encrypted_password: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    status: str = "waiting"  # waiting | started | ended | deleted
    started_at: float | None = None
    ended_at: float | None = None
    deleted_at: float | None = None
    participants: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Store:
    """All mutable sandbox state, plus the offset of the sandbox clock."""

    state_file: str = ""
    clock_offset: float = 0.0
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    # refresh token -> [grant id, "active" | "rotated", expires_at] (no expires_at: state file of an
    # older sandbox, never expires)
    refresh_tokens: dict[str, list[str]] = field(default_factory=dict)
    meetings: dict[int, Meeting] = field(default_factory=dict)
    zaks: dict[str, list[Any]] = field(default_factory=dict)  # zak -> [meeting id, expires_at]
    daily: dict[str, list[Any]] = field(default_factory=dict)  # email -> [day, count]
    page_tokens: dict[str, list[Any]] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)

    # -- clock -----------------------------------------------------------------
    def now(self) -> float:
        """Sandbox time: wall clock plus the offset the control API advanced."""
        return time.time() + self.clock_offset

    # -- grants ----------------------------------------------------------------
    def active_grant(self, email: str, client_id: str) -> Grant | None:
        for grant in self.grants.values():
            if grant.email == email and grant.client_id == client_id and grant.status == "active":
                return grant
        return None

    def revoke_grant(self, grant: Grant, reason: str) -> None:
        """Kill every token of a grant; its refresh token answers 'revoked'."""
        grant.status = "revoked"
        grant.revoked_reason = reason
        for token in [t for t, a in self.access_tokens.items() if a.grant_id == grant.id]:
            del self.access_tokens[token]

    def issue_tokens(self, grant: Grant, ttl: int, refresh_ttl: int) -> tuple[str, str]:
        """New access + refresh token; the previous refresh token dies at once.

        Each refresh token lives `refresh_ttl` seconds of sandbox time from its issue."""
        if grant.refresh_token in self.refresh_tokens:
            self.refresh_tokens[grant.refresh_token][1] = "rotated"
        access = new_token("zsbx_at.", 48)
        refresh = new_token("zsbx_rt.", 48)
        self.access_tokens[access] = AccessToken(grant.id, self.now() + ttl)
        self.refresh_tokens[refresh] = [grant.id, "active", self.now() + refresh_ttl]
        grant.refresh_token = refresh
        return access, refresh

    def refresh_expired(self, token: str) -> bool:
        entry = self.refresh_tokens.get(token)
        return entry is not None and len(entry) > 2 and float(entry[2]) <= self.now()

    def grant_for_access(self, token: str) -> tuple[Grant | None, str]:
        """(grant, problem) where problem is '', 'expired' or 'invalid'."""
        entry = self.access_tokens.get(token)
        if entry is None:
            return None, "invalid"
        grant = self.grants.get(entry.grant_id)
        if grant is None or grant.status != "active":
            return None, "invalid"
        if entry.expires_at <= self.now():
            return None, "expired"
        return grant, ""

    # -- meetings -------------------------------------------------------------
    def new_meeting_id(self) -> int:
        while True:
            mid = secrets.randbelow(9 * 10**10) + 10**10  # 11 digits
            if mid not in self.meetings:
                return mid

    def live_meetings(self, email: str) -> list[Meeting]:
        return [m for m in self.meetings.values() if m.host_email == email and m.status == "started"]

    # -- persistence ----------------------------------------------------------
    def reset(self) -> None:
        fresh = Store(state_file=self.state_file)
        for name in fresh.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))
        self.save()

    def save(self) -> None:
        """Write the store atomically when a state file is configured."""
        if not self.state_file:
            return
        data = {
            "clock_offset": self.clock_offset,
            "codes": {k: asdict(v) for k, v in self.codes.items()},
            "grants": {k: asdict(v) for k, v in self.grants.items()},
            "access_tokens": {k: asdict(v) for k, v in self.access_tokens.items()},
            "refresh_tokens": self.refresh_tokens,
            "meetings": {str(k): asdict(v) for k, v in self.meetings.items()},
            "zaks": self.zaks,
            "daily": self.daily,
        }
        path = Path(self.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, state_file: str) -> Store:
        """Read a previously saved store; a missing or broken file starts empty."""
        store = cls(state_file=state_file)
        if not state_file or not Path(state_file).exists():
            return store
        try:
            data = json.loads(Path(state_file).read_text())
            store.clock_offset = float(data.get("clock_offset", 0.0))
            store.codes = {k: AuthCode(**v) for k, v in data.get("codes", {}).items()}
            store.grants = {k: Grant(**v) for k, v in data.get("grants", {}).items()}
            store.access_tokens = {k: AccessToken(**v) for k, v in data.get("access_tokens", {}).items()}
            store.refresh_tokens = data.get("refresh_tokens", {})
            store.meetings = {int(k): Meeting(**v) for k, v in data.get("meetings", {}).items()}
            store.zaks = data.get("zaks", {})
            store.daily = data.get("daily", {})
        except (ValueError, TypeError, KeyError):
            return cls(state_file=state_file)
        return store
