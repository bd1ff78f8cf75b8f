"""webhook retries and failures

Zoom events whose processing fails are retried with backoff: `attempts`, `next_attempt_at`,
and `failed_at` once the last attempt failed (its reason stays in `error`). Notifications get
`failed_at`, the time of their last failed send, for the owner's Needs attention page.
Payloads stored before are cut down to what processing needs (no join_url, passcodes, tokens).

Revision ID: 0005b
Revises: 0005a
Create Date: 2026-12-01 22:40:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rxapp.models.types

revision: str = "0005b"
down_revision: str | None = "0005a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", rxapp.models.types.UTCDateTime(timezone=True), nullable=True))
    _minimise_stored_payloads()


# The allow-list of rxapp.services.telehealth.zoom.webhooks.minimal_event at the time of writing, copied so
# this migration never changes with the app.
_KEEP_PAYLOAD = ("account_id", "user_id", "deauthorization_time")
_KEEP_OBJECT = ("id", "uuid", "host_id", "topic", "type", "start_time", "end_time", "duration", "timezone")
_KEEP_PARTICIPANT = ("user_id", "participant_uuid", "id", "participant_user_id", "join_time", "date_time")


def _minimal(event: Any) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}
    payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    kept = {k: payload[k] for k in _KEEP_PAYLOAD if k in payload}
    if isinstance(payload.get("object"), dict):
        obj = payload["object"]
        kept["object"] = {k: obj[k] for k in _KEEP_OBJECT if k in obj}
        if isinstance(obj.get("participant"), dict):
            kept["object"]["participant"] = {k: obj["participant"][k] for k in _KEEP_PARTICIPANT
                                             if k in obj["participant"]}
    ts = event.get("event_ts", payload.get("event_ts"))
    return {"event": event.get("event"), "event_ts": ts, "payload": kept}


def _minimise_stored_payloads() -> None:
    bind = op.get_bind()
    table = sa.table("webhook_event", sa.column("id", sa.Integer), sa.column("payload", sa.Text))
    for row_id, payload in bind.execute(sa.select(table.c.id, table.c.payload)).all():
        try:
            event = json.loads(payload)
        except ValueError:
            event = {}
        bind.execute(table.update().where(table.c.id == row_id).values(payload=json.dumps(_minimal(event))))


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
