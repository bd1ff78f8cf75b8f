"""meeting zoom holder and who changed it

Adds `meeting.zoom_holder_practitioner_id` (whose Zoom account holds the Zoom meeting: sync
updates and deletes through that practitioner's connection, also after a re-assignment),
backfilled with the assigned practitioner for meetings that have a Zoom meeting, and
`meeting.changed_by_user_id` (who last asked for a new time or practitioner).

Revision ID: 0005c
Revises: 0005d
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005c"
down_revision: str | None = "0005d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    # On SQLite the batch rebuilds the table: keep AUTOINCREMENT (0005d), so ids are never reused.
    with op.batch_alter_table("meeting", schema=None, table_kwargs=_KEEP) as batch_op:
        batch_op.add_column(sa.Column("zoom_holder_practitioner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("changed_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_meeting_zoom_holder_practitioner_id_user", "user",
                                    ["zoom_holder_practitioner_id"], ["id"])
        batch_op.create_foreign_key("fk_meeting_changed_by_user_id_user", "user", ["changed_by_user_id"], ["id"])
    meeting = sa.table("meeting", sa.column("zoom_meeting_id", sa.BigInteger),
                       sa.column("practitioner_id", sa.Integer), sa.column("zoom_holder_practitioner_id", sa.Integer))
    op.execute(meeting.update().where(meeting.c.zoom_meeting_id.is_not(None))
               .values(zoom_holder_practitioner_id=meeting.c.practitioner_id))


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None, table_kwargs=_KEEP) as batch_op:
        batch_op.drop_constraint("fk_meeting_changed_by_user_id_user", type_="foreignkey")
        batch_op.drop_constraint("fk_meeting_zoom_holder_practitioner_id_user", type_="foreignkey")
        batch_op.drop_column("changed_by_user_id")
        batch_op.drop_column("zoom_holder_practitioner_id")
