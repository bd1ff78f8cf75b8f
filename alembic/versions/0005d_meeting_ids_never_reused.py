"""meeting ids are never reused

SQLite hands the highest rowid out again once that row is deleted, so a new meeting could take
a deleted meeting's id: a row action still carrying the old id would reach the new meeting, and
the new meeting's emails were dropped as duplicates of the old one's (their idempotency keys
name the meeting id). AUTOINCREMENT makes SQLite never reuse an id; PostgreSQL's sequences
never did, so nothing changes there.

Revision ID: 0005d
Revises: 0005b
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005d"
down_revision: str | None = "0005b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rebuild_meeting(autoincrement=True)


def downgrade() -> None:
    _rebuild_meeting(autoincrement=False)


def _rebuild_meeting(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite cannot add AUTOINCREMENT to a table: the batch rebuild copies it into a new one
    # (with its rows, ids and indexes, partial ones included), and SQLite's sequence starts
    # after the highest id copied.
    with op.batch_alter_table("meeting", recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
