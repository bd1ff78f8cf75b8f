"""meeting list search

Adds `meeting.search_text` (case-folded topic, description and patient name, backfilled) and the
Meetings page's indexes: pg_trgm and a practitioner index for PostgreSQL, covering indexes for
SQLite; each is created on both databases and left empty (an always-false WHERE) on the other.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    _backfill_search_text()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # Each index is declared for both databases and kept empty where it does not help; see Meeting.
    op.create_index("ix_meeting_search_trgm", "meeting", ["search_text"], unique=False,
                    postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"},
                    sqlite_where=sa.text("0"))
    op.create_index("ix_meeting_practitioner_list", "meeting", ["practice_id", "practitioner_id", "start_at", "id"],
                    unique=False, sqlite_where=sa.text("0"))
    op.create_index("ix_meeting_sqlite_practitioner_list", "meeting",
                    ["practice_id", "practitioner_id", "start_at", "id", "status", "sync_state", "client_id",
                     "search_text"], unique=False, postgresql_where=sa.text("false"))
    op.create_index("ix_meeting_sqlite_practice_list", "meeting",
                    ["practice_id", "start_at", "id", "status", "sync_state", "client_id", "practitioner_id",
                     "search_text"], unique=False, postgresql_where=sa.text("false"))
    op.create_index("ix_meeting_sqlite_practice_search", "meeting", ["practice_id", "search_text"], unique=False,
                    postgresql_where=sa.text("false"))


def downgrade() -> None:
    for name in ("ix_meeting_sqlite_practice_search", "ix_meeting_sqlite_practice_list", "ix_meeting_sqlite_practitioner_list",
                 "ix_meeting_practitioner_list", "ix_meeting_search_trgm"):
        op.drop_index(name, table_name="meeting")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("search_text")


def _backfill_search_text() -> None:
    # The same value as rxapp.services.telehealth.meeting_list.meeting_search_text at the time of writing,
    # copied so this migration never changes with the app.
    bind = op.get_bind()
    meeting = sa.table("meeting", sa.column("id", sa.Integer), sa.column("topic", sa.String),
                       sa.column("description", sa.Text), sa.column("client_id", sa.Integer),
                       sa.column("search_text", sa.Text))
    client = sa.table("client", sa.column("id", sa.Integer), sa.column("full_name", sa.String))
    rows = bind.execute(sa.select(meeting.c.id, meeting.c.topic, meeting.c.description, client.c.full_name)
                        .join(client, client.c.id == meeting.c.client_id)).all()
    values = [{"meeting_id": m_id, "search_text": "\n".join((topic, description, name)).casefold()}
              for m_id, topic, description, name in rows]
    update = meeting.update().where(meeting.c.id == sa.bindparam("meeting_id")) \
        .values(search_text=sa.bindparam("search_text"))
    for start in range(0, len(values), _BACKFILL_BATCH):
        bind.execute(update, values[start:start + _BACKFILL_BATCH])
