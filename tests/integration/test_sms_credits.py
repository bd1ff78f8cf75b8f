"""SMS credits in practice settings (balance, history, add credits, threshold) and on Needs attention."""

from __future__ import annotations

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, Practice
from rxapp.services.audit import attention
from rxapp.services.notify import outbox
from rxapp.services.notify.sms import account, credits
from rxapp.services.permissions import NotAllowed
from rxapp.state.attention import AttentionState
from rxapp.state.sms_credits import SmsCreditsState
from tests.integration.page_states import page_state, run, toasts
from tests.integration.zoom_helpers import principal_of

OWNER, MANAGER = "owner@demo.clinic", "manager@demo.clinic"


def test_the_demo_practice_opens_with_a_grant_and_the_owner_adds_credits_with_a_note(demo) -> None:
    view = account.credits_view(principal_of(MANAGER))
    assert (view.balance, view.threshold, view.low, view.can_manage) == (100, 20, False, False)
    assert [(h.kind, h.amount, h.note) for h in view.history] == [("grant", 100, "Demo credits")]
    assert account.add_credits(principal_of(OWNER), "1,000", "  Invoice   42 ") == 1100
    view = account.credits_view(principal_of(OWNER))
    newest = view.history[0]
    assert view.can_manage and (newest.kind, newest.amount, newest.note) == ("grant", 1000, "Invoice 42")
    with unit_of_work() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "practice.sms_credits_added")).one()


@pytest.mark.parametrize("amount", ["", "0", "-5", "ten", "1.5", "100001"])
def test_a_bad_amount_adds_nothing_and_names_the_field(demo, amount: str) -> None:
    with pytest.raises(account.InvalidCredits) as refused:
        account.add_credits(principal_of(OWNER), amount, "")
    assert set(refused.value.errors) == {"amount"}
    assert account.credits_view(principal_of(OWNER)).balance == 100


def test_only_the_owner_adds_credits_or_sets_the_threshold(demo) -> None:
    for who in (MANAGER, "frontdesk@demo.clinic", "dr.lee@demo.clinic"):
        with pytest.raises(NotAllowed):
            account.add_credits(principal_of(who), "10", "")
        with pytest.raises(NotAllowed):
            account.set_threshold(principal_of(who), "5")
    with pytest.raises(NotAllowed):
        account.credits_view(principal_of("frontdesk@demo.clinic"))


def test_the_page_adds_credits_keeps_a_bad_entry_and_saves_the_threshold(demo) -> None:
    page = page_state(SmsCreditsState, "/settings", OWNER)
    run(page.load())
    assert page.balance == 100 and page.can_manage and page.history[0]["amount"] == "+100"
    page.set_field("amount", "lots")
    page.set_field("note", "March invoice")
    events = run(page.add_credits())
    assert "amount" in page.errors and page.amount == "lots" and page.note == "March invoice"
    assert toasts(events)[0][0] == "error"
    page.set_field("amount", "250")
    run(page.add_credits())
    assert page.balance == 350 and page.errors == {} and page.history[0]["note"] == "March invoice"
    page.set_field("threshold", "400")
    run(page.save_threshold())
    assert page.low and page.threshold == "400"


def test_a_manager_sees_the_balance_but_cannot_add(demo) -> None:
    page = page_state(SmsCreditsState, "/settings", MANAGER)
    run(page.load())
    assert page.balance == 100 and not page.can_manage
    page.set_field("amount", "50")
    events = run(page.add_credits())
    assert toasts(events) == [("error", "Only the practice owner can add SMS credits.")]
    assert account.credits_view(principal_of(OWNER)).balance == 100


def test_a_low_balance_and_unsent_sms_show_on_needs_attention(demo) -> None:
    owner = principal_of(OWNER)
    assert attention.sms_credit_warning(owner) is None
    account.set_threshold(owner, "150")
    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.first_name == "Alex")).one()
        credits.grant(s, practice_id=alex.practice_id, amount=-100, note="spent", user_id=None)
        outbox.queue_sms(s, practice_id=alex.practice_id, key="low-1", to=alex.phone or "", body="Hi",
                                telehealth=False, client_id=alex.id)
    outbox.deliver_due(lambda _: None)
    warning = attention.sms_credit_warning(owner)
    assert warning == attention.CreditWarning(balance=0, threshold=150, unsent=1)
    page = page_state(AttentionState, "/attention", OWNER)
    run(page.load())
    assert page.sms_credits[0]["title"] == "SMS credits are low: 0 credits left"
    assert "1 text message not sent" in page.sms_credits[0]["reason"]
    assert [m["title"] for m in page.messages] == ["Text message: Hi"]
    assert page.messages[0]["reason"] == "not enough SMS credits"


def test_adding_credits_above_the_threshold_rearms_the_low_balance_email(demo) -> None:
    owner = principal_of(OWNER)
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        practice.sms_low_balance_warned = True
    account.add_credits(owner, "5", "")
    with unit_of_work() as s:
        assert s.exec(select(Practice)).one().sms_low_balance_warned is False
