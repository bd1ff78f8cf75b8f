"""derived visit titles: a visit booked from the calendar has no topic of its own

Until now a telehealth visit was given the topic "Telehealth session with <practitioner>" when it
was booked, and kept it after a re-assign. Its title is now derived from its current practitioner
(rxapp.services.phrases), so those frozen topics are cleared; a topic a practitioner typed (New
meeting) stays. `search_text` was the folded "topic\\nnotes\\nclient" and topics hold no newline,
so the same text without the topic is what follows its first newline.

Revision ID: 0009b
Revises: 0009a
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009b"
down_revision: str | None = "0009a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
FROZEN = "Telehealth session with %"


def upgrade() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, search_text FROM appointment WHERE topic LIKE :frozen AND id > :last "
                                    "ORDER BY id LIMIT :batch"), {"frozen": FROZEN, "last": last, "batch": BATCH}).all()
        if not rows:
            return
        bind.execute(sa.text("UPDATE appointment SET topic = '', search_text = :text WHERE id = :id"),
                     [{"id": i, "text": text[text.find("\n"):] if "\n" in text else ""} for i, text in rows])
        last = rows[-1][0]


def downgrade() -> None:
    pass  # the derived title says the same (with the current practitioner); nothing to restore
