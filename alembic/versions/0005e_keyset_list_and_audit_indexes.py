"""keyset list and audit indexes

Indexes for keyset pages on (start_at, id) / (created_at, id): the practice-wide meeting list on
PostgreSQL (SQLite has its covering index since 0004), the patient filter on both, and the audit
page's person and action filters.

Revision ID: 0005e
Revises: 0005c
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005e"
down_revision: str | None = "0005c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_meeting_practice_list", "meeting", ["practice_id", "start_at", "id"], unique=False,
                    sqlite_where=sa.text("0"))
    op.create_index("ix_meeting_client_list", "meeting", ["client_id", "start_at", "id"], unique=False)
    op.create_index("ix_audit_practice_actor", "audit_event", ["practice_id", "actor_user_id", "created_at", "id"],
                    unique=False)
    op.create_index("ix_audit_practice_action", "audit_event", ["practice_id", "action", "created_at", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_practice_action", table_name="audit_event")
    op.drop_index("ix_audit_practice_actor", table_name="audit_event")
    op.drop_index("ix_meeting_client_list", table_name="meeting")
    op.drop_index("ix_meeting_practice_list", table_name="meeting")
