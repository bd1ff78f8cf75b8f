"""folded search keys: names found whatever their case and accents

`client.search_key` holds the client's names and email folded (casefolded, accents removed by NFKD;
kept by the model on every save), and `appointment.search_text` (the Meetings search) is folded the
same way. Both are back-filled here, in batches, on SQLite and PostgreSQL alike. The fold is copied
below as it was when this migration was written (rxapp/text.py), so the migration never changes.

Revision ID: 0009a
Revises: 0008a
Create Date: 2026-12-06 03:30:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009a"
down_revision: str | None = "0008a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLAIN = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "\u0131": "i"})
BATCH = 1000


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_PLAIN)


def _backfill(select_sql: str, update_sql: str, value: object) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(select_sql), {"last": last, "batch": BATCH}).all()
        if not rows:
            return
        bind.execute(sa.text(update_sql), [{"id": row[0], "value": value(row)} for row in rows])
        last = rows[-1][0]


def upgrade() -> None:
    op.add_column("client", sa.Column("search_key", sa.Text(), server_default="", nullable=False))
    _backfill("SELECT id, full_name, preferred_name, first_name, last_name, email FROM client WHERE id > :last "
              "ORDER BY id LIMIT :batch", "UPDATE client SET search_key = :value WHERE id = :id",
              lambda row: _fold(" ".join(p for p in row[1:] if p)))
    _backfill("SELECT a.id, a.topic, a.notes, c.full_name FROM appointment a JOIN client c ON c.id = a.client_id "
              "WHERE a.id > :last ORDER BY a.id LIMIT :batch", "UPDATE appointment SET search_text = :value WHERE id = :id",
              lambda row: _fold("\n".join(p or "" for p in row[1:])))


def downgrade() -> None:
    with op.batch_alter_table("client") as batch:
        batch.drop_column("search_key")
