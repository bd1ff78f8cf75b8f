"""Meetings that Zoom could not be brought in step with and only a person can fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import Client, Meeting, MeetingStatus, SyncState, User
from rxapp.services.permissions import Action, Principal, can, require


@dataclass(frozen=True)
class MeetingNeedingAttention:
    meeting_id: int
    topic: str
    practitioner_name: str
    patient_name: str
    start_at: datetime  # aware UTC: show it in the viewer's timezone
    status: MeetingStatus
    reason: str
    changed_by_name: str  # who last moved or re-assigned it ('' when nobody did)


def meetings_needing_attention(principal: Principal) -> list[MeetingNeedingAttention]:
    """Meetings in *needs attention*, soonest first, with the reason: the whole practice's for
    owners and managers, a practitioner's own for a practitioner. Raises `NotAllowed` for others."""
    require(principal, Action.VIEW_MEETINGS)
    query = (select(Meeting, User.full_name, Client.full_name)
             .join(User, col(User.id) == Meeting.practitioner_id)
             .join(Client, col(Client.id) == Meeting.client_id)
             .where(Meeting.practice_id == principal.practice_id, Meeting.sync_state == SyncState.NEEDS_ATTENTION)
             .order_by(col(Meeting.start_at), col(Meeting.id)))
    if not can(principal, Action.VIEW_PRACTICE_MEETINGS):
        query = query.where(Meeting.practitioner_id == principal.user_id)
    with unit_of_work() as session:
        rows = session.exec(query).all()
        asked = {m.changed_by_user_id for m, _, _ in rows if m.changed_by_user_id is not None}
        names = {u.id: u.full_name for u in session.exec(select(User).where(col(User.id).in_(asked)))} if asked else {}
    return [MeetingNeedingAttention(
        meeting_id=m.id or 0, topic=m.topic, practitioner_name=practitioner, patient_name=patient,
        start_at=m.start_at, status=MeetingStatus(m.status), reason=m.last_sync_error or "Zoom is not in step.",
        changed_by_name=names.get(m.changed_by_user_id, "") if m.changed_by_user_id else "")
        for m, practitioner, patient in rows]
