"""first run: the one-time setup code, and the practice's country (phone numbers without a code)

Revision ID: 0010c
Revises: 0010b
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rxapp.models.types import UTCDateTime

revision: str = "0010c"
down_revision: str | None = "0010b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "setup_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("country", sa.String(length=2), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("country")
    op.drop_table("setup_code")
