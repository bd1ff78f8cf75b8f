"""practice signup: the owner's email confirmation, and account mail that goes before it

Revision ID: 0011a
Revises: 0010d
Create Date: 2026-12-06 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rxapp.models.types import UTCDateTime

revision: str = "0011a"
down_revision: str | None = "0010d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("email_verified_at", UTCDateTime(timezone=True), nullable=True))
    # Practices made before signup existed were made by the installation's operator: confirmed.
    op.execute("UPDATE practice SET email_verified_at = created_at")
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("account", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("account")
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("email_verified_at")
