"""sealed notifications and the practice address

Adds `notification.sealed` (false for every existing row: none of them was sealed): an outbox
message that carries a secret keeps its bodies encrypted. Adds `practice.address` (empty until the
owner sets it): where in-person visits take place.

Revision ID: 0007e
Revises: 0007d
Create Date: 2026-12-02 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007e"
down_revision: str | None = "0007d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("address")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("sealed")
