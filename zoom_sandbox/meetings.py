"""Validation of meeting requests and the JSON shapes Zoom answers and sends.

Kept apart from the HTTP handlers so that the API, the pages and the control
API all describe a meeting the same way (and so the shapes are easy to check
against the OpenAPI documents).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zoom_sandbox import documented
from zoom_sandbox.state import Meeting
from zoom_sandbox.users import DemoUser, PasscodeRules

DEFAULT_SETTINGS: dict[str, Any] = {
    "host_video": False,
    "participant_video": False,
    "cn_meeting": False,
    "in_meeting": False,
    "join_before_host": False,
    "jbh_time": 0,
    "mute_upon_entry": False,
    "watermark": False,
    "use_pmi": False,
    "approval_type": 2,
    "audio": "voip",
    "auto_recording": "none",
    "enforce_login": False,
    "enforce_login_domains": "",
    "alternative_hosts": "",
    "alternative_hosts_email_notification": True,
    "close_registration": False,
    "waiting_room": False,
    "meeting_authentication": False,
    "registrants_email_notification": True,
    "email_notification": True,
    "private_meeting": False,
    "device_testing": False,
    "focus_mode": False,
    "show_share_button": False,
    "allow_multiple_devices": False,
    "internal_meeting": False,
    "participant_focused_meeting": False,
    "push_change_to_calendar": False,
    "request_permission_to_unmute_participants": False,
    "registration_type": 1,
}
# The latest start Zoom's four-digit UTC format can express; later instants are refused (code 300)
# instead of being stored and breaking every later answer that prints them.
LATEST_START = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
START_TIME_HELP = "Invalid start_time: use yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss with timezone."


def fmt(ts: float | None, *, millis: bool = False) -> str:
    """UTC time the way Zoom prints it: yyyy-MM-ddTHH:mm:ssZ (or .SSSZ), always four-digit years.

    strftime's %Y drops leading zeros (year 999 -> "999") on Linux, so the year is padded here.
    """
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts, UTC)
    text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S")
    return text + (f".{moment.microsecond // 1000:03d}Z" if millis else "Z")


def parse_start_time(value: str, timezone: str) -> float:
    """`...Z` is UTC; a time without offset is local time in `timezone`.

    Raises ValueError for anything else, and for instants whose UTC form has no
    four-digit year (a local 9999-12-31T23:00:00 in New York is already year 10000 in UTC).
    """
    text = value.strip()
    if not text or "T" not in text:
        raise ValueError("bad start_time")
    try:
        if text.endswith("Z") or text.endswith("z"):
            parsed = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
        stamp = parsed.timestamp()
        datetime.fromtimestamp(stamp, UTC)  # representable in UTC at all
    except (OverflowError, OSError) as exc:
        raise ValueError("start_time out of range") from exc
    if stamp > LATEST_START:
        raise ValueError("start_time out of range")
    return stamp


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def generate_passcode(rules: PasscodeRules) -> str:
    """A passcode that satisfies the account rules (what default_password does)."""
    alphabet = string.digits if rules.only_allow_numeric else string.ascii_letters + string.digits
    length = min(max(rules.length, 6), 10)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not rules.problems(candidate):
            return candidate


def encrypt_password(meeting_id: int, password: str) -> str:
    digest = hashlib.sha256(f"{meeting_id}:{password}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32] + ".1"


def numeric_password(meeting_id: int, password: str) -> str:
    digest = hashlib.sha256(f"n:{meeting_id}:{password}".encode()).hexdigest()
    return str(int(digest[:12], 16))[: max(6, min(len(password), 10))]


def new_uuid() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode()


def _field_error(errors: list[dict[str, str]], name: str, message: str) -> None:
    errors.append({"field": name, "message": message})


def validate(body: Any, user: DemoUser, current: Meeting | None,
             now: float) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Check a create (current None) or PATCH body; return (changes, errors).

    `changes` holds normalised values: start_time as epoch seconds (a past one becomes
    `now`, as Zoom documents), settings merged after checking them against Zoom's
    documented schema (unknown keys are ignored, as Zoom ignores them).
    """
    errors: list[dict[str, str]] = []
    changes: dict[str, Any] = {}
    if not isinstance(body, dict):
        return {}, [{"field": "body", "message": "Request Body should be a valid JSON object."}]
    if "topic" in body:
        topic = body["topic"]
        if not isinstance(topic, str) or len(topic) > 200:
            _field_error(errors, "topic", "Topic must be a string of at most 200 characters.")
        else:
            changes["topic"] = topic
    if "agenda" in body:
        agenda = body["agenda"]
        if not isinstance(agenda, str) or len(agenda) > 2000:
            _field_error(errors, "agenda", "Agenda must be a string of at most 2000 characters.")
        else:
            changes["agenda"] = agenda
    if "type" in body:
        if isinstance(body["type"], bool) or body["type"] not in (1, 2):
            _field_error(errors, "type", "The sandbox supports instant (1) and scheduled (2) meetings.")
        else:
            changes["type"] = body["type"]
    if "duration" in body:
        duration = body["duration"]
        if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 1440:
            _field_error(errors, "duration", "Duration must be an integer between 1 and 1440.")
        else:
            changes["duration"] = duration
    timezone = current.timezone if current else user.timezone
    if "timezone" in body:
        if not isinstance(body["timezone"], str) or not valid_timezone(body["timezone"]):
            _field_error(errors, "timezone", f"Invalid timezone: {body['timezone']}.")
        else:
            timezone = changes["timezone"] = body["timezone"]
    if "start_time" in body:
        try:
            start = parse_start_time(str(body["start_time"]), timezone)
        except ValueError:
            _field_error(errors, "start_time", START_TIME_HELP)
        else:
            # Zoom: "If start_time is not specified or is set to a past value, it defaults to
            # the current time." (create; the sandbox treats an update the same way).
            changes["start_time"] = max(start, now)
    settings = dict(current.settings if current else DEFAULT_SETTINGS)
    if "settings" in body:
        schema = documented.settings_schema("meetings.update" if current else "meetings.create")
        given = body["settings"]
        found = documented.problems(given, schema, "settings")
        if found:
            errors.extend(found)
        else:
            settings.update(documented.documented_only(given, schema))
            changes["settings"] = settings
    if "password" in body:
        password = body["password"]
        if not isinstance(password, str):
            _field_error(errors, "password", "Passcode must be a string.")
        elif password:
            problems = user.rules.problems(password)
            if problems:
                _field_error(errors, "password", "; ".join(problems) + ".")
            else:
                changes["password"] = password
        elif current is not None:
            changes["password"] = ""
    if "default_password" in body and not isinstance(body["default_password"], bool):
        _field_error(errors, "default_password", "default_password must be a boolean.")
    if current is None and "password" not in changes:
        secured = settings.get("waiting_room") or settings.get("meeting_authentication")
        if body.get("default_password", True) is not False or not secured or user.rules.require_password:
            changes["password"] = generate_passcode(user.rules)
    return changes, errors


def meeting_view(m: Meeting, user: DemoUser, start_url: str, base_url: str) -> dict[str, Any]:
    """Body of POST /users/{userId}/meetings (201) and GET /meetings/{id}."""
    body: dict[str, Any] = {
        "uuid": m.uuid,
        "id": m.id,
        "host_id": user.id,
        "host_email": user.email,
        "assistant_id": "",
        "topic": m.topic,
        "type": m.type,
        "status": "started" if m.status == "started" else "waiting",
        "start_time": fmt(m.start_time),
        "duration": m.duration,
        "timezone": m.timezone,
        "agenda": m.agenda,
        "created_at": fmt(m.created_at),
        "start_url": start_url,
        "join_url": join_url(m, base_url),
        "password": m.password,
        "h323_password": numeric_password(m.id, m.password) if m.password else "",
        "pstn_password": numeric_password(m.id, m.password) if m.password else "",
        "encrypted_password": m.encrypted_password,
        "settings": dict(m.settings),
        "pre_schedule": False,
        "creation_source": "open_api",
    }
    if not m.password:
        for key in ("password", "h323_password", "pstn_password", "encrypted_password"):
            body.pop(key)
    return _without_instant_start(m, body)


def _without_instant_start(m: Meeting, body: dict[str, Any]) -> dict[str, Any]:
    """Zoom: "Start time will not be returned if the meeting is an instant meeting." """
    if m.type == 1:
        body.pop("start_time", None)
    return body


def join_url(m: Meeting, base_url: str) -> str:
    url = f"{base_url}/j/{m.id}"
    return f"{url}?pwd={m.encrypted_password}" if m.encrypted_password else url


def list_item(m: Meeting, user: DemoUser, base_url: str) -> dict[str, Any]:
    """One entry of GET /users/{userId}/meetings."""
    item = {
        "uuid": m.uuid,
        "id": m.id,
        "host_id": user.id,
        "topic": m.topic,
        "type": m.type,
        "start_time": fmt(m.start_time),
        "duration": m.duration,
        "timezone": m.timezone,
        "agenda": m.agenda,
        "created_at": fmt(m.created_at),
        "join_url": join_url(m, base_url),
    }
    return _without_instant_start(m, item)


def event_object(m: Meeting, user: DemoUser, *, id_as_string: bool) -> dict[str, Any]:
    """The `payload.object` common to meeting events (id type differs per event).

    Events about a running meeting carry the time it really started, an instant one included.
    """
    obj: dict[str, Any] = {
        "id": str(m.id) if id_as_string else m.id,
        "uuid": m.uuid,
        "host_id": user.id,
        "topic": m.topic,
        "type": m.type,
        "start_time": fmt(m.started_at or m.start_time),
        "timezone": m.timezone,
        "duration": m.duration,
    }
    return obj if m.started_at else _without_instant_start(m, obj)


def webhook_fields(m: Meeting, names: list[str]) -> dict[str, Any]:
    """Selected fields as meeting.updated shows them (start_time formatted)."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(m, name)
        out[name] = fmt(value) if name == "start_time" else value
    return _without_instant_start(m, out)
