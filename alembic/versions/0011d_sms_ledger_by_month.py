"""the SMS credit ledger indexed by practice and time, for the owner's dashboard

Revision ID: 0011d
Revises: 0011c
Create Date: 2026-12-06 10:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011d"
down_revision: str | None = "0011c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_sms_credit_practice_created", "sms_credit_entry", ["practice_id", "created_at", "kind", "amount"])


def downgrade() -> None:
    op.drop_index("ix_sms_credit_practice_created", table_name="sms_credit_entry")
