"""login throttle per source address

Sign-in attempts are counted per (email, source address), so that failures typed by a stranger
lock out only the stranger's address. The table holds only short-lived counters, so it is
recreated rather than migrated.

Revision ID: 0005a
Revises: 0004
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rxapp.models.types

revision: str = "0005a"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(with_source: bool) -> None:
    columns = [sa.Column("email", sa.String(length=320), nullable=False)]
    if with_source:
        columns.append(sa.Column("source", sa.String(length=64), server_default="", nullable=False))
    op.create_table(
        "login_throttle",
        *columns,
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", rxapp.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email", "source") if with_source else sa.PrimaryKeyConstraint("email"),
    )


def upgrade() -> None:
    op.drop_table("login_throttle")
    _create(with_source=True)


def downgrade() -> None:
    op.drop_table("login_throttle")
    _create(with_source=False)
