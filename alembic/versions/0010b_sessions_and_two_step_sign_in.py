"""signed-in sessions people can see (browser, address) and two-step sign-in (TOTP, recovery codes)

Revision ID: 0010b
Revises: 0010a
Create Date: 2026-12-06 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rxapp.models.types import UTCDateTime

revision: str = "0010b"
down_revision: str | None = "0010a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_session") as batch:
        batch.add_column(sa.Column("user_agent", sa.String(length=300), server_default="", nullable=False))
        batch.add_column(sa.Column("source", sa.String(length=64), server_default="", nullable=False))
    with op.batch_alter_table("sign_in_ticket") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), server_default="session", nullable=False))
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("mfa_secret_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("mfa_enabled_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("mfa_last_step", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("require_staff_mfa", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "mfa_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_mfa_recovery_code_practice_id", "mfa_recovery_code", ["practice_id"])
    op.create_index("ix_mfa_recovery_code_user_id", "mfa_recovery_code", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_mfa_recovery_code_user_id", table_name="mfa_recovery_code")
    op.drop_index("ix_mfa_recovery_code_practice_id", table_name="mfa_recovery_code")
    op.drop_table("mfa_recovery_code")
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("require_staff_mfa")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("mfa_last_step")
        batch.drop_column("mfa_enabled_at")
        batch.drop_column("mfa_secret_encrypted")
    with op.batch_alter_table("sign_in_ticket") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("login_session") as batch:
        batch.drop_column("source")
        batch.drop_column("user_agent")
