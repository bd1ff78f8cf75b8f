"""availability: weekly blocks, date overrides and booking rules per practitioner

`availability_block` (weekday + local start/end minutes + mode), `availability_override` (one
date's hours or a day off) and `booking_rule` (lengths offered, slot interval, buffers, minimum
notice, horizon, maximum per day, whether new clients may self-book). The slot engine
(services.scheduling.slots) reads them.

Revision ID: 0007a
Revises: 0006c
Create Date: 2026-12-02 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007a"
down_revision: str | None = "0006c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "availability_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_availability_block_practice_id", "availability_block", ["practice_id"])
    op.create_index("ix_availability_block_practitioner", "availability_block", ["practitioner_id", "weekday"])
    op.create_table(
        "availability_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("day_off", sa.Boolean(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), server_default="in_person", nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_availability_override_practice_id", "availability_override", ["practice_id"])
    op.create_index("ix_availability_override_practitioner", "availability_override",
                    ["practitioner_id", "on_date"])
    op.create_table(
        "booking_rule",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("lengths", sa.String(length=60), server_default="50", nullable=False),
        sa.Column("interval_minutes", sa.Integer(), server_default="30", nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("min_notice_hours", sa.Integer(), server_default="24", nullable=False),
        sa.Column("horizon_days", sa.Integer(), server_default="60", nullable=False),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("new_clients_may_self_book", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("practitioner_id"),
    )
    op.create_index("ix_booking_rule_practice_id", "booking_rule", ["practice_id"])


def downgrade() -> None:
    op.drop_index("ix_booking_rule_practice_id", table_name="booking_rule")
    op.drop_table("booking_rule")
    op.drop_index("ix_availability_override_practitioner", table_name="availability_override")
    op.drop_index("ix_availability_override_practice_id", table_name="availability_override")
    op.drop_table("availability_override")
    op.drop_index("ix_availability_block_practitioner", table_name="availability_block")
    op.drop_index("ix_availability_block_practice_id", table_name="availability_block")
    op.drop_table("availability_block")
