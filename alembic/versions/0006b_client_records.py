"""client records

Adds the client record's own fields: first, last and preferred name, date of birth, notes and
`archived_at` (archived clients are hidden from pickers, their history kept), and an index for the
Clients page's keyset pages by name. `full_name` stays the display name; existing clients get
their first and last name from it (split on the last space), so nobody loses their name.

Revision ID: 0006b
Revises: 0006a
Create Date: 2026-12-02 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006b"
down_revision: str | None = "0006a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def split_full_name(full_name: str) -> tuple[str, str]:
    """("Mary Ann", "Smith") from "Mary Ann Smith"; a single word is a first name."""
    first, _, last = full_name.strip().rpartition(" ")
    return (first.strip(), last) if first.strip() else (last, "")


def upgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_name", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("last_name", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("preferred_name", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("date_of_birth", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_client_practice_name", "client", ["practice_id", "full_name", "id"], unique=False)
    client = sa.table("client", sa.column("id", sa.Integer), sa.column("full_name", sa.String),
                      sa.column("first_name", sa.String), sa.column("last_name", sa.String))
    bind = op.get_bind()
    for client_id, full_name in bind.execute(sa.select(client.c.id, client.c.full_name)).all():
        first, last = split_full_name(full_name or "")
        bind.execute(client.update().where(client.c.id == client_id)
                     .values(first_name=first[:100], last_name=last[:100]))


def downgrade() -> None:
    op.drop_index("ix_client_practice_name", table_name="client")
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("notes")
        batch_op.drop_column("date_of_birth")
        batch_op.drop_column("preferred_name")
        batch_op.drop_column("last_name")
        batch_op.drop_column("first_name")
