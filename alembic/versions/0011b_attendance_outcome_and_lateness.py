"""attendance from Zoom's participant events, the recorded outcome, and "running late"

Revision ID: 0011b
Revises: 0011a
Create Date: 2026-12-06 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rxapp.models.types import UTCDateTime

revision: str = "0011b"
down_revision: str | None = "0011a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("who", sa.String(length=12), nullable=False),
        sa.Column("place", sa.String(length=12), nullable=False),
        sa.Column("participant_key", sa.String(length=64), nullable=False),
        sa.Column("joined_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attendance_appointment", "attendance", ["appointment_id", "participant_key", "place"])
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(sa.Column("outcome_recorded_at", UTCDateTime(timezone=True), nullable=True))
    # Outcomes recorded before this revision: a no-show was always recorded by someone; a completed
    # in-person visit too. An ended telehealth session stays "Ended" until someone records it.
    op.execute("UPDATE appointment SET outcome_recorded_at = updated_at WHERE status = 'no_show' "
               "OR (status = 'completed' AND telehealth = false)")
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(sa.Column("late_minutes", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("late_note", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("late_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("late_at")
        batch.drop_column("late_note")
        batch.drop_column("late_minutes")
    with op.batch_alter_table("appointment") as batch:
        batch.drop_column("outcome_recorded_at")
    op.drop_index("ix_attendance_appointment", table_name="attendance")
    op.drop_table("attendance")
