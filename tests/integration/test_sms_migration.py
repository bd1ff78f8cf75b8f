"""Migration 0007c: each practice's old `sms_credits` number becomes an opening grant on the ledger."""

from datetime import datetime

from sqlalchemy import create_engine, inspect, text

from rxapp import migrate


def test_the_old_credit_number_becomes_an_opening_grant_and_comes_back_on_downgrade(database: str) -> None:
    migrate.downgrade(database, "0006c")
    engine = create_engine(database)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO practice (id, name, timezone, allow_zoom, standard_reminder_days, telehealth_reminder_minutes,"
            " telehealth_reminder_includes_link, telehealth_location_name, telehealth_location_address,"
            " default_pos_code, sms_credits, notify_client_when_started, created_at) VALUES"
            " (1, 'With credits', 'UTC', false, 1, 15, false, '', '', '10', 42, true, :at),"
            " (2, 'Without', 'UTC', false, 1, 15, false, '', '', '10', 0, true, :at)"), {"at": datetime(2026, 1, 1)})
    migrate.upgrade(database)
    with engine.begin() as conn:
        grants = conn.execute(text("SELECT practice_id, kind, amount, note FROM sms_credit_entry")).all()
        threshold = conn.execute(text("SELECT sms_low_balance_threshold FROM practice WHERE id = 1")).scalar()
    assert [tuple(g) for g in grants] == [(1, "grant", 42, "Opening balance")]
    assert threshold == 20
    assert "sms_credits" not in {c["name"] for c in inspect(engine).get_columns("practice")}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sms_credit_entry (practice_id, kind, amount, note, created_at)"
                          " VALUES (1, 'grant', 8, 'bought', :at)"), {"at": datetime(2026, 2, 1)})
    migrate.downgrade(database, "0006c")
    with engine.begin() as conn:
        assert dict(conn.execute(text("SELECT id, sms_credits FROM practice")).all()) == {1: 50, 2: 0}
    migrate.upgrade(database)
    engine.dispose()
