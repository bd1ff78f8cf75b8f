"""The audit trail: who did what to which record."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from rxapp.models import AuditEvent


def record(session: Session, *, practice_id: int, actor_user_id: int | None, action: str,
           subject_type: str = "", subject_id: str | int = "", **detail: Any) -> None:
    """Add an audit entry to the caller's transaction. Never pass secrets in `detail`."""
    session.add(AuditEvent(practice_id=practice_id, actor_user_id=actor_user_id, action=action,
                           subject_type=subject_type, subject_id=str(subject_id),
                           detail=json.dumps(detail, default=str) if detail else ""))
