"""Every action the app records has a readable label (and so a place in the audit page's Action
filter), and details read as sentences: "Role: practitioner → manager", "Overlaps …: no"."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from rxapp.models import AppointmentStatus
from rxapp.services.audit.entries import ACTION_GROUPS, ACTION_LABELS, readable_details
from rxapp.services.telehealth.meetings import events  # noqa: F401  (registers the meeting events)
from rxapp.services.telehealth.zoom import webhooks

PACKAGE = Path(__file__).resolve().parents[2] / "rxapp"
ACTION = re.compile(r"^[a-z_]+\.[a-z_.]+$")
# Actions made with an f-string: what they can become.
FORMATTED = {
    "appointment.{}": {f"appointment.{s.value}" for s in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)},
    "zoom.{}": {f"zoom.{name}" for name in webhooks.HANDLERS if name.startswith("meeting.")},
    "waitlist.{}": {"waitlist.booked", "waitlist.removed"},  # waitlist._retire(…, reason)
}
# Calls that pass an action on to `trail.record`.
RECORDERS = {"record", "_set_consent", "_forget_connection"}


def _recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if name not in RECORDERS:
                continue
            # `record(..., action=...)`; the helpers pass their action(s) on among their arguments.
            nodes = [k.value for k in call.keywords if k.arg == "action"] if name == "record" else \
                [*call.args, *(k.value for k in call.keywords)]
            for node in nodes:
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and ACTION.match(inner.value):
                        found.add(inner.value)
                    elif isinstance(inner, ast.JoinedStr):
                        shape = "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in inner.values)
                        assert shape in FORMATTED, f"{path}: an action made as {shape!r}: list what it can become"
                        found |= FORMATTED[shape]
    return found


def test_every_recorded_action_has_a_label_and_a_filter_entry() -> None:
    recorded = _recorded_actions()
    assert len(recorded) > 40  # the scan finds them (a scan that finds nothing proves nothing)
    assert sorted(recorded - ACTION_LABELS.keys()) == []
    assert all(label and not ACTION.match(label) for label in ACTION_LABELS.values())
    assert all(any(action.startswith(group) for action in ACTION_LABELS) for group in ACTION_GROUPS)


def test_details_read_as_sentences() -> None:
    assert readable_details({"before": "practitioner", "after": "manager"}) == "Role: practitioner \u2192 manager"
    assert readable_details({"overlaps": "False", "occurrences": "3"}) == \
        "Appointments: 3; Overlaps other appointments: no"
    assert readable_details({"practitioner_before": "7", "practitioner_after": "9"}, {7: "Dr. Lee", 9: "Dr. Patel"}) \
        == "Practitioner: Dr. Lee \u2192 Dr. Patel"
