"""calendar feeds: private subscription URLs per practitioner (and the owner's whole practice)

Revision ID: 0010d
Revises: 0010c
Create Date: 2026-12-06 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rxapp.models.types import UTCDateTime

revision: str = "0010d"
down_revision: str | None = "0010c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("everyone", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_calendar_feed_practice_id", "calendar_feed", ["practice_id"])
    op.create_index("ix_calendar_feed_user_id", "calendar_feed", ["user_id"])
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("feed_full_names", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("feed_full_names")
    op.drop_index("ix_calendar_feed_user_id", table_name="calendar_feed")
    op.drop_index("ix_calendar_feed_practice_id", table_name="calendar_feed")
    op.drop_table("calendar_feed")
