"""waitlist: clients' wishes for sooner times and the one-time offers of open slots

Revision ID: 0011c
Revises: 0011b
Create Date: 2026-12-06 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rxapp.models.types import UTCDateTime

revision: str = "0011c"
down_revision: str | None = "0011b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waitlist_wish",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("earliest_minute", sa.Integer(), nullable=False),
        sa.Column("latest_minute", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_waitlist_wish_client_id", "waitlist_wish", ["client_id"])
    op.create_index("ix_waitlist_wish_active", "waitlist_wish", ["practice_id", "removed_at", "created_at"])
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["wish_id"], ["waitlist_wish.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_waitlist_offer_practice_id", "waitlist_offer", ["practice_id"])
    op.create_index("ix_waitlist_offer_wish_id", "waitlist_offer", ["wish_id"])
    op.create_index("ix_waitlist_offer_slot", "waitlist_offer", ["practitioner_id", "start_at"])
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("waitlist_offer_hours", sa.Integer(), server_default="2", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("waitlist_offer_hours")
    op.drop_index("ix_waitlist_offer_slot", table_name="waitlist_offer")
    op.drop_index("ix_waitlist_offer_wish_id", table_name="waitlist_offer")
    op.drop_index("ix_waitlist_offer_practice_id", table_name="waitlist_offer")
    op.drop_table("waitlist_offer")
    op.drop_index("ix_waitlist_wish_active", table_name="waitlist_wish")
    op.drop_index("ix_waitlist_wish_client_id", table_name="waitlist_wish")
    op.drop_table("waitlist_wish")
