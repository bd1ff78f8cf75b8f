""""Running late": the practitioner tells a waiting client they will start a few minutes late.

A client whose waiting room is open sees it at once (pushed: `changes`); a client not there gets
it by SMS when they take SMS, else by email. The launch window (the client's Join, the host's
prompt) follows the new expected start. Saying it again replaces the earlier notice; each is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Meeting, User
from rxapp.services import changes
from rxapp.services.audit import trail
from rxapp.services.notify.outbox import OutgoingEmail, queue_email, queue_sms
from rxapp.services.permissions import Principal
from rxapp.services.telehealth.meetings import actions
from rxapp.services.telehealth.meetings.decisions import MeetingSnapshot, decide
from rxapp.services.timezones import format_local

CHOICES = (5, 10, 15)
MAX_MINUTES = 120
NOTE_MAX = 300


class LateRefused(Exception):
    """Not now, or not like this; the message says why, for the user."""


@dataclass(frozen=True)
class LateNotice:
    minutes: int
    note: str
    expected_start_text: str  # in the client's zone, e.g. "10:10"

    def sentence(self, practitioner_name: str) -> str:
        said = (f"{practitioner_name} is running {self.minutes} minutes late. "
                f"Expected start: {self.expected_start_text}.")
        return f"{said} {self.note}" if self.note else said


def _editable(session: Session, principal: Principal, appointment_id: int) -> tuple[Appointment, Meeting]:
    """The telehealth appointment the principal hosts (or manages, as every meeting action checks it),
    while the meeting's decisions allow running late (not started, not over)."""
    appointment, meeting = actions.meeting_to_act_on(session, principal, appointment_id)
    if not decide(MeetingSnapshot.of(appointment, meeting), principal, now()).can_run_late:
        started = appointment.status != AppointmentStatus.BOOKED
        raise LateRefused("This session has already started or is over." if started else "This session's time is over.")
    return appointment, meeting


def notice_of(appointment: Appointment, meeting: Meeting, timezone: str) -> LateNotice | None:
    """What the client is told (None when the practitioner is on time)."""
    if meeting.late_minutes <= 0:
        return None
    expected = appointment.start_at + timedelta(minutes=meeting.late_minutes)
    return LateNotice(meeting.late_minutes, meeting.late_note, format_local(expected, timezone, "%H:%M"))


def running_late(principal: Principal, appointment_id: int, minutes: int, note: str = "", *,
                 client_in_room: bool = False) -> str:
    """Tell the client the practitioner expects to start `minutes` late (with an optional note).
    `client_in_room`: their waiting room is open now, so the push tells them; otherwise an SMS (when
    they take SMS) or an email does. Returns what was done, for the practitioner. Raises `NotAllowed`
    or `LateRefused`."""
    note = " ".join(note.split())
    if not 1 <= minutes <= MAX_MINUTES:
        raise LateRefused(f"Choose between 1 and {MAX_MINUTES} minutes.")
    if len(note) > NOTE_MAX:
        raise LateRefused(f"Keep the message to {NOTE_MAX} characters ({len(note)} now).")
    with unit_of_work() as session:
        appointment, meeting = _editable(session, principal, appointment_id)
        client = session.get(Client, appointment.client_id)
        practitioner = session.get(User, appointment.practitioner_id)
        assert client is not None and practitioner is not None
        meeting.late_minutes, meeting.late_note, meeting.late_at = minutes, note, now()
        notice = notice_of(appointment, meeting, client.timezone)
        assert notice is not None
        told = "shown in their waiting room"
        if not client_in_room:
            told = _tell(session, appointment, client, practitioner.full_name, notice)
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action="meeting.running_late", subject_type="meeting", subject_id=appointment_id,
                     minutes=minutes, told=told)
    changes.appointment_changed(appointment_id, appointment.practice_id, appointment.practitioner_id,
                                appointment.client_id)
    return f"{client.full_name} was told you are running {minutes} minutes late ({told})."


def _tell(session: Session, appointment: Appointment, client: Client, practitioner_name: str,
          notice: LateNotice) -> str:
    """An SMS when the client takes them, else an email; says which ("" words when neither can go)."""
    key = f"running-late:{appointment.id}:{now().isoformat()}"
    text = notice.sentence(practitioner_name)
    if client.phone and not client.sms_opted_out:
        skipped = queue_sms(session, practice_id=appointment.practice_id, key=f"{key}:sms", to=client.phone,
                            body=f"{text} Please stay in your waiting room.", telehealth=True, client_id=client.id)
        if not skipped:
            return "by SMS"
    if client.email:
        queue_email(session, practice_id=appointment.practice_id, key=f"{key}:email", email=OutgoingEmail(
            to=client.email, subject=f"{practitioner_name} is running {notice.minutes} minutes late",
            text=f"Hello {client.full_name},\n\n{text}\n\nYou can wait in your client portal's waiting room: it "
                 "shows Join session the moment your provider starts.\n"))
        return "by email"
    return "not sent: the client has neither a mobile number that takes SMS nor an email"
