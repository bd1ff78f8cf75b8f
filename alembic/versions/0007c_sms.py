"""sms: the credit ledger, SMS fields on the outbox, client SMS consent

Creates `sms_credit_entry` (grants, charges, refunds; the balance is the sum) and moves each
practice's old `sms_credits` number into an opening grant before dropping the column; adds the
low-balance threshold and its warned flag to `practice`, `sms_opted_out` to `client`, and to
`notification` what an SMS needs (client, telehealth, segments, encoding, credits, the
provider's message id, delivery status and error code). Downgrade puts the balance back.

Revision ID: 0007c
Revises: 0006c
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007c"
down_revision: str | None = "0006c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_credit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "kind", name="uq_sms_credit_notification_kind"),
    )
    op.create_index("ix_sms_credit_practice_id", "sms_credit_entry", ["practice_id", "id"])
    op.execute("INSERT INTO sms_credit_entry (practice_id, kind, amount, note, created_at) "
               "SELECT id, 'grant', sms_credits, 'Opening balance', created_at FROM practice WHERE sms_credits <> 0")
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("sms_credits")
        batch_op.add_column(sa.Column("sms_low_balance_threshold", sa.Integer(), nullable=False, server_default="20"))
        batch_op.add_column(sa.Column("sms_low_balance_warned", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_opted_out", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("telehealth", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("sms_encoding", sa.String(length=8), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("credits", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("provider_message_id", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("error_code", sa.String(length=20), nullable=False, server_default=""))
        batch_op.create_foreign_key("fk_notification_client_id", "client", ["client_id"], ["id"])
        batch_op.create_index("ix_notification_provider_message_id", ["provider_message_id"])


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_provider_message_id")
        batch_op.drop_constraint("fk_notification_client_id", type_="foreignkey")
        for name in ("error_code", "delivery_status", "provider_message_id", "credits", "sms_encoding", "segments",
                     "telehealth", "client_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("sms_opted_out")
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("sms_low_balance_warned")
        batch_op.drop_column("sms_low_balance_threshold")
        batch_op.add_column(sa.Column("sms_credits", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE practice SET sms_credits = COALESCE((SELECT SUM(amount) FROM sms_credit_entry "
               "WHERE sms_credit_entry.practice_id = practice.id), 0)")
    op.drop_index("ix_sms_credit_practice_id", table_name="sms_credit_entry")
    op.drop_table("sms_credit_entry")
