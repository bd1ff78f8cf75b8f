"""appointment owns the visit; meeting keeps only the Zoom side

Issue 12: one domain model. Every existing meeting becomes a telehealth appointment with the
SAME id (bookmarks, join links, emails and audit entries keep pointing at it), and the `meeting`
row keeps only the Zoom side: its id is now the appointment's id (a 1:1 child). Rows of the old,
unused `appointment` table are kept too: merged into the meeting's appointment when a meeting
pointed at one, otherwise copied under fresh ids. Ids are never reused: the appointment id
counter continues from the meeting counter.

Revision ID: 0006a
Revises: 0005e
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rxapp.models.types

revision: str = "0006a"
down_revision: str | None = "0005e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = rxapp.models.types.UTCDateTime(timezone=True)
_TO_APPOINTMENT = {"scheduled": "booked", "in_progress": "in_progress", "ended": "completed",
                   "cancelled": "cancelled"}
_TO_MEETING = {"booked": "scheduled", "in_progress": "in_progress", "completed": "ended",
               "cancelled": "cancelled", "no_show": "ended"}
# Columns that move from `meeting` to `appointment` (same names unless mapped).
_MOVED = ("practice_id", "practitioner_id", "client_id", "topic", "start_at", "duration_minutes", "timezone",
          "status", "cancel_reason", "search_text", "changed_by_user_id", "created_at", "updated_at")
_OLD_MEETING_INDEXES = ("ix_meeting_practitioner_start", "ix_meeting_practice_start", "ix_meeting_search_trgm",
                        "ix_meeting_practitioner_list", "ix_meeting_practice_list", "ix_meeting_client_list",
                        "ix_meeting_sqlite_practitioner_list", "ix_meeting_sqlite_practice_list",
                        "ix_meeting_sqlite_practice_search", "ix_meeting_client_id", "ix_meeting_status",
                        "ix_meeting_appointment_id")


def _create_appointment_table() -> None:
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("start_at", _UTC, nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("pos_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("series_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("changed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["changed_by_user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    ix = op.create_index
    ix("ix_appointment_client_id", "appointment", ["client_id"])
    ix("ix_appointment_status", "appointment", ["status"])
    ix("ix_appointment_practitioner_start", "appointment", ["practitioner_id", "start_at"])
    ix("ix_appointment_practice_start", "appointment", ["practice_id", "start_at"])
    ix("ix_appointment_series", "appointment", ["series_id", "start_at"])
    ix("ix_appointment_search_trgm", "appointment", ["search_text"], postgresql_using="gin",
       postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=sa.text("0"))
    ix("ix_appointment_practitioner_list", "appointment", ["practice_id", "practitioner_id", "start_at", "id"],
       sqlite_where=sa.text("0"))
    ix("ix_appointment_practice_list", "appointment", ["practice_id", "start_at", "id"], sqlite_where=sa.text("0"))
    ix("ix_appointment_client_list", "appointment", ["client_id", "start_at", "id"])
    ix("ix_appointment_sqlite_practitioner_list", "appointment",
       ["practice_id", "practitioner_id", "start_at", "id", "status", "telehealth", "client_id", "search_text"],
       postgresql_where=sa.text("false"))
    ix("ix_appointment_sqlite_practice_list", "appointment",
       ["practice_id", "start_at", "id", "status", "telehealth", "client_id", "practitioner_id", "search_text"],
       postgresql_where=sa.text("false"))
    ix("ix_appointment_sqlite_practice_search", "appointment", ["practice_id", "search_text"],
       postgresql_where=sa.text("false"))


def _status_case(column: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items())
    return f"CASE {column} {whens} ELSE {column} END"


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    legacy = [dict(r._mapping) for r in bind.execute(sa.text(
        "SELECT a.*, (SELECT MIN(m.id) FROM meeting m WHERE m.appointment_id = a.id) AS meeting_id "
        "FROM appointment a"))]
    meeting_counter = bind.execute(sa.text(
        "SELECT last_value FROM meeting_id_seq" if postgres else
        "SELECT seq FROM sqlite_sequence WHERE name = 'meeting'")).scalar() or 0

    with op.batch_alter_table("meeting", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_index("ix_meeting_appointment_id")
        batch_op.drop_column("appointment_id")
    op.drop_table("appointment")
    _create_appointment_table()

    # Every meeting becomes a telehealth appointment with the same id, booked by its practitioner.
    op.execute(
        "INSERT INTO appointment (id, practice_id, practitioner_id, client_id, start_at, duration_minutes, timezone, "
        "telehealth, pos_code, status, cancel_reason, topic, notes, series_id, search_text, created_by_user_id, "
        "changed_by_user_id, created_at, updated_at) "
        "SELECT m.id, m.practice_id, m.practitioner_id, m.client_id, m.start_at, m.duration_minutes, m.timezone, "
        f"{'true' if postgres else '1'}, p.default_pos_code, {_status_case('m.status', _TO_APPOINTMENT)}, "
        "m.cancel_reason, m.topic, m.description, NULL, m.search_text, m.practitioner_id, m.changed_by_user_id, "
        "m.created_at, m.updated_at FROM meeting m JOIN practice p ON p.id = m.practice_id")
    top = max(meeting_counter, bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM appointment")).scalar() or 0)
    appointment = sa.table("appointment", *(sa.column(c) for c in (
        "id", "practice_id", "practitioner_id", "client_id", "start_at", "duration_minutes", "timezone", "telehealth",
        "pos_code", "status", "cancel_reason", "topic", "notes", "search_text", "created_at", "updated_at")))
    for row in legacy:
        if row["meeting_id"] is not None:  # the same visit as a meeting: keep what only it knew
            op.execute(appointment.update().where(appointment.c.id == row["meeting_id"])
                       .values(pos_code=row["pos_code"], notes=row["notes"] or ""))
            continue
        top += 1
        op.execute(appointment.insert().values(
            id=top, practice_id=row["practice_id"], practitioner_id=row["practitioner_id"],
            client_id=row["client_id"], start_at=row["start_at"], duration_minutes=row["duration_minutes"],
            timezone="UTC", telehealth=bool(row["telehealth"]), pos_code=row["pos_code"], status=row["status"],
            cancel_reason="", topic="", notes=row["notes"] or "", search_text=(row["notes"] or "").casefold(),
            created_at=row["created_at"], updated_at=row["updated_at"]))
    if postgres:
        op.execute(f"SELECT setval(pg_get_serial_sequence('appointment', 'id'), {max(top, 1)}, {top > 0})")
    elif top:
        op.execute(f"INSERT INTO sqlite_sequence (name, seq) SELECT 'appointment', {top} WHERE NOT EXISTS "
                   "(SELECT 1 FROM sqlite_sequence WHERE name = 'appointment')")
        op.execute(f"UPDATE sqlite_sequence SET seq = MAX(seq, {top}) WHERE name = 'appointment'")

    # The meeting keeps the Zoom side; its id is the appointment's (no counter of its own any more).
    if postgres:
        op.execute("ALTER TABLE meeting ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS meeting_id_seq")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        for name in _OLD_MEETING_INDEXES[:-1]:
            batch_op.drop_index(name)
        batch_op.drop_constraint("fk_meeting_changed_by_user_id_user", type_="foreignkey")
        for column in (*_MOVED[:-2], "description"):
            batch_op.drop_column(column)
        batch_op.create_foreign_key("fk_meeting_id_appointment", "appointment", ["id"], ["id"])


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_constraint("fk_meeting_id_appointment", type_="foreignkey")
        batch_op.add_column(sa.Column("practice_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("practitioner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("appointment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), server_default="", nullable=True))
        batch_op.add_column(sa.Column("start_at", _UTC, nullable=True))
        batch_op.add_column(sa.Column("duration_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), server_default="", nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=True))
        batch_op.add_column(sa.Column("changed_by_user_id", sa.Integer(), nullable=True))
    pairs = [(c, f"a.{c}") for c in _MOVED if c not in ("status", "created_at", "updated_at")]
    pairs += [("description", "a.notes"), ("status", _status_case("a.status", _TO_MEETING))]
    for column, source in pairs:
        op.execute(f"UPDATE meeting SET {column} = (SELECT {source} FROM appointment a WHERE a.id = meeting.id)")
    top = bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM appointment")).scalar() or 0
    with op.batch_alter_table("meeting", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        for column in ("practice_id", "practitioner_id", "client_id", "topic", "description", "start_at",
                       "duration_minutes", "timezone", "status", "cancel_reason", "search_text"):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_foreign_key("fk_meeting_practice_id_practice", "practice", ["practice_id"], ["id"])
        batch_op.create_foreign_key("fk_meeting_practitioner_id_user", "user", ["practitioner_id"], ["id"])
        batch_op.create_foreign_key("fk_meeting_client_id_client", "client", ["client_id"], ["id"])
        batch_op.create_foreign_key("fk_meeting_changed_by_user_id_user", "user", ["changed_by_user_id"], ["id"])
    if postgres:
        op.execute("CREATE SEQUENCE meeting_id_seq OWNED BY meeting.id")
        op.execute(f"SELECT setval('meeting_id_seq', {max(top, 1)}, {top > 0})")
        op.execute("ALTER TABLE meeting ALTER COLUMN id SET DEFAULT nextval('meeting_id_seq')")
    elif top:
        op.execute(f"UPDATE sqlite_sequence SET seq = MAX(seq, {top}) WHERE name = 'meeting'")
    ix = op.create_index
    ix("ix_meeting_client_id", "meeting", ["client_id"])
    ix("ix_meeting_status", "meeting", ["status"])
    ix("ix_meeting_practice_start", "meeting", ["practice_id", "start_at"])
    ix("ix_meeting_practitioner_start", "meeting", ["practitioner_id", "start_at"])
    ix("ix_meeting_search_trgm", "meeting", ["search_text"], postgresql_using="gin",
       postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=sa.text("0"))
    ix("ix_meeting_practitioner_list", "meeting", ["practice_id", "practitioner_id", "start_at", "id"],
       sqlite_where=sa.text("0"))
    ix("ix_meeting_practice_list", "meeting", ["practice_id", "start_at", "id"], sqlite_where=sa.text("0"))
    ix("ix_meeting_client_list", "meeting", ["client_id", "start_at", "id"])
    ix("ix_meeting_sqlite_practitioner_list", "meeting",
       ["practice_id", "practitioner_id", "start_at", "id", "status", "sync_state", "client_id", "search_text"],
       postgresql_where=sa.text("false"))
    ix("ix_meeting_sqlite_practice_list", "meeting",
       ["practice_id", "start_at", "id", "status", "sync_state", "client_id", "practitioner_id", "search_text"],
       postgresql_where=sa.text("false"))
    ix("ix_meeting_sqlite_practice_search", "meeting", ["practice_id", "search_text"],
       postgresql_where=sa.text("false"))
    # Back to the old, unused appointment table (in-person visits have no place in the old schema).
    op.drop_table("appointment")
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("start_at", _UTC, nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("pos_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointment_client_id", "appointment", ["client_id"])
    op.create_index("ix_appointment_practice_start", "appointment", ["practice_id", "start_at"])
    op.create_index("ix_appointment_practitioner_start", "appointment", ["practitioner_id", "start_at"])
    op.create_index("ix_appointment_status", "appointment", ["status"])
    with op.batch_alter_table("meeting", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.create_foreign_key("fk_meeting_appointment_id_appointment", "appointment", ["appointment_id"],
                                    ["id"])
        batch_op.create_index("ix_meeting_appointment_id", ["appointment_id"])
