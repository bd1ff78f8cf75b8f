"""a practitioner's meetings in one status, in list order (PostgreSQL)

`ix_appointment_practitioner_status_list` (practice_id, practitioner_id, status, start_at, id): the
Meetings page's status filter for one practitioner reads that status's meetings in start order
instead of walking all of the practitioner's meetings (and reading each row) to reach them, e.g.
Scheduled, which are all ahead of years of past sessions. At 1,000,000 meetings a practitioner's
"anxiety" among Scheduled took 10-20 ms (a trigram scan of the whole table, or ~9,000 rows read);
with it 0.2 ms. Empty on SQLite, whose covering `ix_appointment_sqlite_practitioner_list` already
holds the status.

Revision ID: 0012a
Revises: 0011d
Create Date: 2026-12-06 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012a"
down_revision: str | None = "0011d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_appointment_practitioner_status_list", "appointment",
                    ["practice_id", "practitioner_id", "status", "start_at", "id"], unique=False,
                    sqlite_where=sa.text("0"))


def downgrade() -> None:
    op.drop_index("ix_appointment_practitioner_status_list", table_name="appointment")
