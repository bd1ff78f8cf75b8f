"""No cookie, token or password reaches a log line or a stored error reason.

Reflex logs whole events on some error paths: an event for an unknown handler is logged as
`Event(name=…, router_data={… 'headers': {'cookie': 'th_session=…'} …, 'token': …}, payload={…})`
(reflex_base/event/processor/event_processor.py `_process_queue`), and a malformed event as
"Event data: {…}" (reflex/app.py `on_event`). `install()` redacts every log record when it is
created, through the log record factory: a `logging.Filter` on a logger does not see records of
its child loggers, and Reflex attaches its own handlers after the app is imported, so a factory
is the one place every record passes through. Tracebacks are rendered and redacted at the same
moment, because handlers would otherwise format `exc_info` themselves.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

REDACTED = "[redacted]"

# Keys whose value is a secret wherever it appears: dict reprs, JSON, query strings, headers.
_SECRET_NAME = (r"[\w.-]*(?:password|passwd|passcode|secret|token|session|cookie|authorization|join_url|start_url"
                r"|pwd|zak|code_verifier|ticket|api_key)[\w.-]*")
_PAIR = re.compile(
    r"""(?P<key>(?P<q>['"]?)""" + _SECRET_NAME + r"""(?P=q))(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,;&)}\]'"]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# Whole structures that carry what a browser sent: an event's payload and router data (headers).
_STRUCTURE = re.compile(r"""(?:\b(?:payload|router_data|headers|form_data)=|['"](?:payload|router_data|headers|"""
                        r"""form_data)['"]\s*:\s*)(?=[{\[])""")
_CLOSING = {"{": "}", "[": "]"}


def _skip_structure(text: str, start: int) -> int:
    """The index just after the bracketed structure that opens at `start` (quotes respected)."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _redact_structures(text: str) -> str:
    out, pos = [], 0
    for match in _STRUCTURE.finditer(text):
        if match.start() < pos:
            continue
        opener = text[match.end()]
        out.append(text[pos:match.end()] + opener + REDACTED + _CLOSING[opener])
        pos = _skip_structure(text, match.end())
    out.append(text[pos:])
    return "".join(out)


def _redact_pair(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{match.group('sep')}{quote}{REDACTED}{quote}"


def redact(text: str) -> str:
    """`text` with secrets replaced by "[redacted]" (payloads, headers, tokens, passwords, cookies)."""
    if not text:
        return text
    text = _redact_structures(text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _PAIR.sub(_redact_pair, text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the record's message and traceback once, redacted; handlers then print only that."""
    if getattr(record, "_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the template, drop the arguments
        message = str(record.msg)
    if record.exc_info and record.exc_info[0] is not None:
        message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
    elif record.exc_text:
        message += "\n" + record.exc_text
    if record.stack_info:
        message += "\n" + record.stack_info
    record.msg, record.args = redact(message), ()
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    record._redacted = True
    return record


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for a handler configured outside the app."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_secrets", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
