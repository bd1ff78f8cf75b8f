"""practice phone (the SMS HELP answer) and self-booking limits per client

Revision ID: 0010a
Revises: 0009b
Create Date: 2026-12-06 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010a"
down_revision: str | None = "0009b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("self_booking_max_per_day", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("self_booking_max_upcoming", sa.Integer(), server_default="4", nullable=False))
        batch.add_column(sa.Column("phone", sa.String(length=32), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("phone")
        batch.drop_column("self_booking_max_upcoming")
        batch.drop_column("self_booking_max_per_day")
