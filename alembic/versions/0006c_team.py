"""team: practitioner profile fields

Adds to `practitioner_profile` what the practice's team page and the appointment editor need:
`default_length_minutes` (the length a new appointment starts with, 50 unless set),
`display_name` and `credentials` (how clients see the practitioner, e.g. "PhD, Licensed
Psychologist"). Existing profiles get the defaults.

Revision ID: 0006c
Revises: 0006b
Create Date: 2026-12-02 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006c"
down_revision: str | None = "0006b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practitioner_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_length_minutes", sa.Integer(), nullable=False,
                                      server_default="50"))
        batch_op.add_column(sa.Column("display_name", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("credentials", sa.String(length=120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("practitioner_profile", schema=None) as batch_op:
        batch_op.drop_column("credentials")
        batch_op.drop_column("display_name")
        batch_op.drop_column("default_length_minutes")
