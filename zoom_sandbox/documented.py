"""What Zoom's own OpenAPI document says, read from the vendored copy in `spec/`.

The sandbox takes two things from the document instead of restating them: the
meeting `settings` schema (types, enums, bounds) that create and update requests
are checked against, and each operation's rate-limit label (Light, Medium, ...)
that a 429 answer reports in `X-RateLimit-Category`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

API_DOCUMENT = Path(__file__).resolve().parent / "spec" / "zoom-api.openapi.json"

# Sandbox operation -> (path template, method) in Zoom's document.
OPERATION_PATHS: dict[str, tuple[str, str]] = {
    "users.me": ("/users/{userId}", "get"),
    "users.get": ("/users/{userId}", "get"),
    "users.settings": ("/users/{userId}/settings", "get"),
    "meetings.create": ("/users/{userId}/meetings", "post"),
    "meetings.list": ("/users/{userId}/meetings", "get"),
    "meetings.get": ("/meetings/{meetingId}", "get"),
    "meetings.update": ("/meetings/{meetingId}", "patch"),
    "meetings.delete": ("/meetings/{meetingId}", "delete"),
    "meetings.status": ("/meetings/{meetingId}/status", "put"),
}
_LABEL = re.compile(r"Rate Limit Label\]\([^)]*\):\*\*\s*`([A-Za-z-]+)`")
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,), "integer": (int,), "number": (int, float), "string": (str,),
    "object": (dict,), "array": (list,),
}


@cache
def api_document() -> dict[str, Any]:
    return json.loads(API_DOCUMENT.read_text(encoding="utf-8"))


def _operation(name: str) -> dict[str, Any]:
    template, method = OPERATION_PATHS[name]
    return api_document()["paths"][template][method]


@cache
def rate_limit_category(operation: str) -> str:
    """'Light', 'Medium', ... as the document labels the operation (Light if it says nothing)."""
    found = _LABEL.search(_operation(operation).get("description", ""))
    return found.group(1).capitalize() if found else "Light"


@cache
def settings_schema(operation: str) -> dict[str, Any]:
    """The `settings` object schema of a create or update request body."""
    body = _operation(operation)["requestBody"]["content"]["application/json"]["schema"]
    return body["properties"]["settings"]


def problems(value: Any, schema: dict[str, Any], field: str) -> list[dict[str, str]]:
    """Zoom-style field errors for `value` against the documented `schema`.

    Covers what the document uses for settings: type, enum, minimum/maximum, maxLength,
    nested object properties and array items. Keys the document does not list are left
    to the caller (Zoom ignores them).
    """
    kind = schema.get("type")
    allowed = _JSON_TYPES.get(kind or "", (object,))
    if (kind in ("integer", "number") and isinstance(value, bool)) or not isinstance(value, allowed):
        return [{"field": field, "message": f"Invalid field: {field} must be of type {kind}."}]
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(choice) for choice in schema["enum"])
        return [{"field": field, "message": f"Invalid value for {field}: {json.dumps(value)} (one of {choices})."}]
    if isinstance(value, int | float) and not isinstance(value, bool) and (
            ("minimum" in schema and value < schema["minimum"])
            or ("maximum" in schema and value > schema["maximum"])):
        return [{"field": field, "message": f"Invalid value for {field}: {value} is out of range."}]
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        return [{"field": field, "message": f"{field} must be at most {schema['maxLength']} characters."}]
    found: list[dict[str, str]] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], f"{field}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{field}[{index}]")
    return found


def documented_only(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys of `value` the schema lists (Zoom ignores, and never returns, others)."""
    properties = schema.get("properties", {})
    return {k: v for k, v in value.items() if k in properties}
