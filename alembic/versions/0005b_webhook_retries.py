"""webhook retries and failures

Zoom events whose processing fails are retried with backoff: `attempts`, `next_attempt_at`,
and `failed_at` once the last attempt failed (its reason stays in `error`). Notifications get
`failed_at`, the time of their last failed send, for the owner's Needs attention page.

Revision ID: 0005b
Revises: 0004
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rxapp.models.types

revision: str = "0005b"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
