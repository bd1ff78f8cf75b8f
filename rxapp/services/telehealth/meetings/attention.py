"""Meetings that Zoom could not be brought in step with and only a person can fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, SyncState, User
from rxapp.services import phrases
from rxapp.services.permissions import Action, Principal, can, require


@dataclass(frozen=True)
class MeetingNeedingAttention:
    meeting_id: int
    topic: str
    practitioner_name: str
    patient_name: str
    start_at: datetime  # aware UTC: show it in the viewer's timezone
    status: AppointmentStatus
    reason: str
    changed_by_name: str  # who last moved or re-assigned it ('' when nobody did)


def meetings_needing_attention(principal: Principal) -> list[MeetingNeedingAttention]:
    """Meetings in *needs attention*, soonest first, with the reason: the whole practice's for
    owners and managers, a practitioner's own for a practitioner. Raises `NotAllowed` for others."""
    require(principal, Action.VIEW_MEETINGS)
    query = (select(Appointment, Meeting, User.full_name, Client.full_name)
             .join(Meeting, col(Meeting.id) == Appointment.id)
             .join(User, col(User.id) == Appointment.practitioner_id)
             .join(Client, col(Client.id) == Appointment.client_id)
             .where(Appointment.practice_id == principal.practice_id,
                    Meeting.sync_state == SyncState.NEEDS_ATTENTION)
             .order_by(col(Appointment.start_at), col(Appointment.id)))
    if not can(principal, Action.VIEW_PRACTICE_MEETINGS):
        query = query.where(Appointment.practitioner_id == principal.user_id)
    with unit_of_work() as session:
        rows = session.exec(query).all()
        asked = {a.changed_by_user_id for a, _, _, _ in rows if a.changed_by_user_id is not None}
        names = {u.id: u.full_name for u in session.exec(select(User).where(col(User.id).in_(asked)))} if asked else {}
    return [MeetingNeedingAttention(
        meeting_id=m.id, topic=phrases.visit_title(a.topic, a.telehealth), practitioner_name=practitioner,
        patient_name=patient,
        start_at=a.start_at, status=AppointmentStatus(a.status), reason=m.last_sync_error or "Zoom is not in step.",
        changed_by_name=names.get(a.changed_by_user_id, "") if a.changed_by_user_id else "")
        for a, m, practitioner, patient in rows]
