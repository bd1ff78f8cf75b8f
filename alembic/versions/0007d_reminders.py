"""reminders: the reminder table, confirmations, email opt-out, invite sequence

Adds `reminder` (one row per appointment and kind, unique; the reminder job claims due rows),
`appointment.confirmed_at` and `appointment.ics_sequence`, `practice.ask_clients_to_confirm`
and `client.email_reminders_opt_out`. Existing rows get the defaults; existing future
appointments get their reminders planned by the first change to them or to the practice's
reminder settings.

Revision ID: 0007d
Revises: 0007c
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rxapp.models.types

revision: str = "0007d"
down_revision: str | None = "0007c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("planned_start_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_until", rxapp.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_for_start_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_outcome", sa.Text(), server_default="", nullable=False),
        sa.Column("sms_outcome", sa.Text(), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", "kind", name="uq_reminder_appointment_kind"),
    )
    op.create_index("ix_reminder_due", "reminder", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_reminder_practice_id"), "reminder", ["practice_id"], unique=False)
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ics_sequence", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ask_clients_to_confirm", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_reminders_opt_out", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("email_reminders_opt_out")
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("ask_clients_to_confirm")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("ics_sequence")
        batch_op.drop_column("confirmed_at")
    op.drop_index(op.f("ix_reminder_practice_id"), table_name="reminder")
    op.drop_index("ix_reminder_due", table_name="reminder")
    op.drop_table("reminder")
