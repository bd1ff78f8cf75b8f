"""The three demo Zoom users and their accounts' passcode rules.

Ids are derived from the e-mail address so that they stay the same across
restarts (the app stores them to recognise the user on re-connection and in
webhooks).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from dataclasses import dataclass, field

DEMO_PASSWORD = "zoom-demo"
PASSCODE_CHARS = re.compile(r"^[A-Za-z0-9@\-_*]+$")


def _stable_id(seed: str, length: int = 22) -> str:
    """Zoom-like url-safe id (22 chars for users) derived from a seed."""
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def _stable_int(seed: str, digits: int) -> int:
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    low = 10 ** (digits - 1)
    return low + value % (9 * low)


@dataclass(frozen=True)
class PasscodeRules:
    """Mirror of settings.schedule_meeting.meeting_password_requirement."""

    length: int = 6
    have_letter: bool = False
    have_number: bool = False
    have_special_character: bool = False
    have_upper_and_lower_characters: bool = False
    only_allow_numeric: bool = False
    consecutive_characters_length: int = 0
    weak_enhance_detection: bool = False
    require_password: bool = True

    def as_setting(self) -> dict[str, object]:
        return {
            "consecutive_characters_length": self.consecutive_characters_length,
            "have_letter": self.have_letter,
            "have_number": self.have_number,
            "have_special_character": self.have_special_character,
            "have_upper_and_lower_characters": self.have_upper_and_lower_characters,
            "length": self.length,
            "only_allow_numeric": self.only_allow_numeric,
            "weak_enhance_detection": self.weak_enhance_detection,
        }

    def problems(self, passcode: str) -> list[str]:
        """Why `passcode` breaks the account rules (empty list = acceptable)."""
        out: list[str] = []
        if len(passcode) > 10:
            out.append("Passcode can have a maximum of 10 characters")
        if not PASSCODE_CHARS.match(passcode):
            out.append("Passcode can only contain the following characters: [a-z A-Z 0-9 @ - _ *]")
        if len(passcode) < self.length:
            out.append(f"Passcode must be at least {self.length} characters")
        if self.only_allow_numeric and not passcode.isdigit():
            out.append("Passcode can only contain numbers")
        if self.have_letter and not re.search(r"[A-Za-z]", passcode):
            out.append("Passcode must contain at least one letter")
        if self.have_number and not re.search(r"[0-9]", passcode):
            out.append("Passcode must contain at least one number")
        if self.have_special_character and not re.search(r"[@\-_*]", passcode):
            out.append("Passcode must contain at least one special character")
        if self.have_upper_and_lower_characters and not (
            re.search(r"[a-z]", passcode) and re.search(r"[A-Z]", passcode)
        ):
            out.append("Passcode must include both uppercase and lowercase characters")
        if self.consecutive_characters_length and _longest_run(passcode) >= self.consecutive_characters_length:
            out.append(
                "Passcode cannot contain more than "
                f"{self.consecutive_characters_length - 1} consecutive characters"
            )
        return out


def _longest_run(text: str) -> int:
    """Longest run of consecutive characters such as 'abc' or '123' or 'aaa'."""
    best = run = 1 if text else 0
    for a, b in itertools.pairwise(text):
        run = run + 1 if ord(b) - ord(a) in (0, 1) else 1
        best = max(best, run)
    return best


@dataclass(frozen=True)
class DemoUser:
    email: str
    first_name: str
    last_name: str
    type: int  # 1 basic, 2 licensed
    timezone: str
    rules: PasscodeRules = field(default_factory=PasscodeRules)

    @property
    def id(self) -> str:
        return _stable_id("user:" + self.email)

    @property
    def account_id(self) -> str:
        return _stable_id("account:" + self.email)

    @property
    def pmi(self) -> int:
        return _stable_int("pmi:" + self.email, 10)

    @property
    def licensed(self) -> bool:
        return self.type == 2

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def profile(self) -> dict[str, object]:
        """Body of GET /users/{userId}, limited to fields the spec defines."""
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": self.display_name,
            "email": self.email,
            "type": self.type,
            "role_name": "Owner",
            "pmi": self.pmi,
            "use_pmi": False,
            "personal_meeting_url": f"https://zoom.us/j/{self.pmi}",
            "timezone": self.timezone,
            "verified": 1,
            "dept": "",
            "created_at": "2024-01-08T09:00:00Z",
            "user_created_at": "2024-01-08T09:00:00Z",
            "last_login_time": "2025-01-06T08:00:00Z",
            "last_client_version": "6.3.0.52884(mac)",
            "language": "en-US",
            "phone_number": "",
            "status": "active",
            "role_id": "0",
            "account_id": self.account_id,
            "account_number": _stable_int("acct-no:" + self.email, 9),
            "cluster": "us05",
            "login_types": [100],
            "group_ids": [],
            "im_group_ids": [],
            "jid": f"{self.id.lower()}@xmpp.zoom.us",
            "pic_url": "",
        }


LICENSED_RULES = PasscodeRules(length=6)
BASIC_RULES = PasscodeRules(
    length=8, have_letter=True, have_number=True, consecutive_characters_length=4,
    weak_enhance_detection=True,
)

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("lee@zoom.demo", "Dana", "Lee", 2, "America/New_York", LICENSED_RULES),
    DemoUser("patel@zoom.demo", "Ravi", "Patel", 2, "Europe/London", LICENSED_RULES),
    DemoUser("basic@zoom.demo", "Sam", "Basic", 1, "UTC", BASIC_RULES),
)
USERS_BY_EMAIL: dict[str, DemoUser] = {u.email: u for u in DEMO_USERS}
USERS_BY_ID: dict[str, DemoUser] = {u.id: u for u in DEMO_USERS}


def find_user(email: str) -> DemoUser | None:
    return USERS_BY_EMAIL.get(email.strip().lower())


def check_password(email: str, password: str) -> DemoUser | None:
    user = find_user(email)
    return user if user is not None and password == DEMO_PASSWORD else None
