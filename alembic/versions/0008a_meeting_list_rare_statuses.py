"""indexes for the Meetings page's rare statuses

`ix_meeting_sync` (sync_state, next_sync_at) gains `id`, so the Needs attention and Syncing filters
read the few meetings in those states from the index alone (an index-only scan on PostgreSQL; SQLite
indexes carry the rowid already); the sync job's claims use the same leading columns as before.
`ix_appointment_telehealth_key` (PostgreSQL; empty on SQLite) finds each of those meetings'
practice, practitioner and start by id without reading the wide appointment rows.

Revision ID: 0008a
Revises: 0007e
Create Date: 2026-12-02 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008a"
down_revision: str | None = "0007e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_meeting_sync", table_name="meeting")
    op.create_index("ix_meeting_sync", "meeting", ["sync_state", "next_sync_at", "id"], unique=False)
    op.create_index("ix_appointment_telehealth_key", "appointment", ["id"], unique=False,
                    postgresql_include=["practice_id", "practitioner_id", "start_at"],
                    postgresql_where=sa.text("telehealth IS TRUE"), sqlite_where=sa.text("0"))


def downgrade() -> None:
    op.drop_index("ix_appointment_telehealth_key", table_name="appointment")
    op.drop_index("ix_meeting_sync", table_name="meeting")
    op.create_index("ix_meeting_sync", "meeting", ["sync_state", "next_sync_at"], unique=False)
