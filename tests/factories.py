"""Test data written straight to the database, for states no user flow reaches quickly."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from rxapp.models import Appointment, Meeting

_ZOOM_SIDE = set(Meeting.model_fields) - {"id", "created_at", "updated_at"}


def telehealth_visit(session: Session, **fields: Any) -> Appointment:
    """A telehealth appointment and its Zoom meeting row from one set of fields (`description` is
    the appointment's notes); flushed, so its id is known."""
    if "description" in fields:
        fields["notes"] = fields.pop("description")
    zoom = {k: fields.pop(k) for k in list(fields) if k in _ZOOM_SIDE}
    appointment = Appointment(telehealth=True, pos_code=fields.pop("pos_code", "10"), **fields)
    session.add(appointment)
    session.flush()
    session.add(Meeting(id=appointment.id or 0, **zoom))
    session.flush()
    return appointment
