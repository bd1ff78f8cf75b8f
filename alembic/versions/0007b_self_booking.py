"""self booking: the per-practitioner booking lock and the practice's self-booking settings

`practitioner_profile.booking_seq` is bumped as the first statement of every booking
transaction (services.scheduling.booking_lock): on PostgreSQL the row lock, on SQLite the write
lock, serialise the overlap check and the insert per practitioner. `practice` gets the client
self-booking settings: on/off, any practitioner or trusted only, the cancellation window in
hours and the message clients see inside it.

Revision ID: 0007b
Revises: 0007a
Create Date: 2026-12-02 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007b"
down_revision: str | None = "0007a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practitioner_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_seq", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("self_booking_enabled", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column("self_booking_any_practitioner", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("cancellation_window_hours", sa.Integer(), nullable=False,
                                      server_default="24"))
        batch_op.add_column(sa.Column("cancellation_message", sa.Text(), nullable=False,
                                      server_default="Please contact the practice to change or cancel it."))


def downgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("cancellation_message")
        batch_op.drop_column("cancellation_window_hours")
        batch_op.drop_column("self_booking_any_practitioner")
        batch_op.drop_column("self_booking_enabled")
    with op.batch_alter_table("practitioner_profile", schema=None) as batch_op:
        batch_op.drop_column("booking_seq")
