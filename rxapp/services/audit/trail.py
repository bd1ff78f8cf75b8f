"""The audit trail: who did what to which record."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from rxapp.models import AuditEvent, Practice


def record(session: Session, *, practice_id: int, actor_user_id: int | None, action: str,
           subject_type: str = "", subject_id: str | int = "", **detail: Any) -> None:
    """Add an audit entry to the caller's transaction. Never pass secrets in `detail`."""
    session.add(AuditEvent(practice_id=practice_id, actor_user_id=actor_user_id, action=action,
                           subject_type=subject_type, subject_id=str(subject_id),
                           detail=json.dumps(detail, default=str) if detail else ""))


def set_practice_setting(session: Session, practice: Practice, name: str, value: Any, *, actor_user_id: int | None,
                         action: str = "practice.settings_changed") -> bool:
    """Change one of the practice's settings in the caller's transaction and record it, only when it
    changes; returns whether it did. A generic action carries the setting and its new value."""
    if getattr(practice, name) == value:
        return False
    setattr(practice, name, value)
    detail = {name: value} if action == "practice.settings_changed" else {}
    record(session, practice_id=practice.id or 0, actor_user_id=actor_user_id, action=action,
           subject_type="practice", subject_id=practice.id or 0, **detail)
    return True
