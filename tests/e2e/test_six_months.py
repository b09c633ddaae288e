"""Six months of every payment method and failure kind (examples/six_months.json), replayed
through the real system (workers.simulate.runner.run_scenario): invoice dates, previous
amounts due, dunning notices and account standings.

Every account: monthly plan, 1 user (20.00) + 1 number (5.00) = 25.00 a month, anchored on
2026-01-15, so seven invoices (01-15 … 07-15). Dunning runs with the default policy: notices
3, 10, 17, 22 and 27 days overdue; a notice sent late (a direct debit still in its processing
window) pushes the next ones back by the same gaps. One overdue sequence per account; a debt
carried forward keeps its place in the sequence. The legal notice terminates the account: its
subscription ends that day with a final invoice (no line here: nothing added, no minutes)
bringing the whole unpaid balance forward, and it is never renewed again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from domain.dunning import NOTICE_ORDER
from tests.e2e.support import invoices_of, run_example

pytestmark = pytest.mark.slow

Document = dict[str, Any]
MONTHLY = 2500
ANCHORS = [f"2026-{month:02}-15" for month in range(1, 8)]
SEQUENCE = ["first_notice", "second_notice", "third_notice", "last_notice", "legal_notice"]
#: Never paid: terminated (legal notice) before the second renewal, on these days.
NEVER_PAID = {"card_generic": "2026-02-11", "card_lost": "2026-02-11",
              "card_stolen": "2026-02-11", "card_processing": "2026-02-11",
              "dd_bacs_closed": "2026-02-14", "dd_ach_mandate": "2026-02-11"}
#: Terminated by the legal notice on this day (the never-paid ones, and the reversals).
TERMINATED = {**NEVER_PAID, "dd_ach_insufficient": "2026-02-20",
              "dd_sepa_late": "2026-02-23", "dd_sepa_chargeback": "2026-03-04",
              "card_dispute": "2026-02-11"}


@pytest.fixture(scope="module")
def six() -> Document:
    return run_example("six_months.json")


def notices_of(doc: Document, account: str) -> list[tuple[str, str]]:
    return [(n["on"], n["kind"]) for n in doc["notices"] if n["account"] == account]


def previous(doc: Document, account: str) -> list[int]:
    return [inv["previous_amount_due"] for inv in invoices_of(doc, account)]


def test_every_live_account_gets_one_monthly_invoice_on_each_anchor_day(six: Document) -> None:
    # Given 17 accounts anchored on the 15th, whatever their method and failures
    accounts = {inv["account"] for inv in six["invoices"]}
    assert len(accounts) == 17
    for account in accounts - set(TERMINATED):
        # Then each account never terminated has exactly seven invoices, on the anchor days
        assert [inv["issued_on"] for inv in invoices_of(six, account)] == ANCHORS, account
    keys = Counter((inv["account"], inv["period"]["start"], inv["kind"])
                   for inv in six["invoices"])
    assert set(keys.values()) == {1}


@pytest.mark.parametrize("account", sorted(TERMINATED))
def test_a_terminated_account_gets_a_final_invoice_on_its_legal_notice_and_nothing_after(
        six: Document, account: str) -> None:
    ends_on = TERMINATED[account]
    invoices = invoices_of(six, account)
    # Then its renewals stop at the legal notice: the anchors before it, then the final one
    assert [inv["issued_on"] for inv in invoices] == [
        *(day for day in ANCHORS if day < ends_on), ends_on]
    assert [inv["kind"] for inv in invoices][-1] == "final"
    assert (notices_of(six, account)[-1]) == (ends_on, "legal_notice")
    assert [(s["status"], s["ends_on"], s["end_reason"]) for s in six["subscriptions"]
            if s["account"] == account] == [("ended", ends_on, "terminated")]
    # And the final invoice (no line) brings forward everything unpaid: the whole balance
    final = invoices[-1]
    assert final["charges"] == 0
    assert final["previous_amount_due"] == final["total"] == six["balances"][account]
    # And every earlier invoice is closed as carried forward onto it
    assert {inv["status"] for inv in invoices[:-1]} == {"carried_forward"}


@pytest.mark.parametrize("account", sorted(NEVER_PAID))
def test_an_account_that_never_pays_has_its_whole_balance_brought_forward(
        six: Document, account: str) -> None:
    # Then January's 25.00 is brought forward onto the final invoice, and stays owed
    assert previous(six, account) == [0, 2500]
    assert six["balances"][account] == MONTHLY


@pytest.mark.parametrize("account", sorted(NEVER_PAID))
def test_an_account_that_never_pays_gets_the_five_notices_and_is_terminated(
        six: Document, account: str) -> None:
    kinds = [kind for _on, kind in notices_of(six, account)]
    assert kinds == SEQUENCE
    assert six["standings"][account] == "terminated"


def test_a_hard_declined_card_is_dunned_on_the_configured_days(six: Document) -> None:
    # Given the lost card declined on 01-15 (hard: no retry)
    # Then the notices go out 3, 10, 17, 22 and 27 days later
    assert notices_of(six, "card_lost") == [
        ("2026-01-18", "first_notice"), ("2026-01-25", "second_notice"),
        ("2026-02-01", "third_notice"), ("2026-02-06", "last_notice"),
        ("2026-02-11", "legal_notice")]


def test_no_notice_goes_out_while_a_direct_debit_is_in_its_processing_window(
        six: Document) -> None:
    # Given a Bacs debit of 01-15 that fails (account closed) only days later
    # Then the first notice waits for the failure, and the announced gaps are kept
    assert notices_of(six, "dd_bacs_closed") == [
        ("2026-01-21", "first_notice"), ("2026-01-28", "second_notice"),
        ("2026-02-04", "third_notice"), ("2026-02-09", "last_notice"),
        ("2026-02-14", "legal_notice")]
    # And a debit that pays never triggers a notice
    assert notices_of(six, "dd_sepa_pays") == []


def test_a_failing_debit_retried_in_flight_is_not_brought_forward_until_it_fails(
        six: Document) -> None:
    # Given ACH debits that keep failing for insufficient funds, each retry in flight for days
    # Then the 01-15 invoice, its retry still in flight on 02-15, is not brought forward
    # then (previous 0), and is once its debit has failed: onto the final invoice of the
    # termination on 02-20, with February's 25.00 (50.00)
    assert previous(six, "dd_ach_insufficient") == [0, 0, 5000]
    assert six["balances"]["dd_ach_insufficient"] == 2 * MONTHLY
    assert [k for _on, k in notices_of(six, "dd_ach_insufficient")] == SEQUENCE
    assert six["standings"]["dd_ach_insufficient"] == "terminated"


@pytest.mark.parametrize("account", ["dd_sepa_late", "dd_sepa_chargeback", "card_dispute"])
def test_money_taken_back_after_confirmation_is_owed_again_and_dunned(
        six: Document, account: str) -> None:
    # Given payments that succeed and are then reversed (late failure, chargeback, dispute)
    # Then the reversed amount is brought forward like any unpaid amount, invoice after
    # invoice, until the final one holds all of it
    invoices = invoices_of(six, account)
    assert previous(six, account) == [MONTHLY * n for n in range(len(invoices))]
    assert six["balances"][account] == MONTHLY * (len(invoices) - 1)
    # And the account goes through the overdue sequence once
    assert [k for _on, k in notices_of(six, account)] == SEQUENCE


def test_a_restricted_account_cannot_add_units_and_paying_reinstates_it(six: Document) -> None:
    # Given card_soft's card declined for insufficient funds on 01-15 (first notice 01-18)
    # Then adding a user on 01-20 was refused: the account was restricted
    assert [(r["account"], r["on"]) for r in six["refused"]] == [("card_soft", "2026-01-20")]
    # And after the new card on 02-02 paid the balance, no further notice went out
    assert notices_of(six, "card_soft") == [
        ("2026-01-18", "first_notice"), ("2026-01-25", "second_notice"),
        ("2026-02-01", "third_notice")]
    assert six["standings"]["card_soft"] == "active"
    # And the user added on 02-05, once reinstated, is billed: 2 users + prorata 02-05→02-15
    # (20.00 * 10 / 31 = 6.45) on the 02-15 invoice, and 2 users from then on
    totals = [inv["total"] for inv in invoices_of(six, "card_soft")]
    assert totals == [2500, 4000 + 500 + 645] + [4500] * 5
    assert previous(six, "card_soft") == [0] * 7


def test_updating_an_expired_card_stops_the_sequence_and_reinstates(six: Document) -> None:
    assert notices_of(six, "card_expired") == [
        ("2026-01-18", "first_notice"), ("2026-01-25", "second_notice")]
    assert six["standings"]["card_expired"] == "active"
    assert previous(six, "card_expired") == [0] * 7


def test_a_card_needing_authentication_is_reinstated_when_a_new_card_pays_before_termination(
        six: Document) -> None:
    # Given the 01-15 invoice unpaid (authentication required), the last notice on 02-06
    # (termination on 02-11)
    # When the customer adds a working card on 02-09, before the legal notice
    # Then the invoice is paid, no legal notice goes out, the account is active again and
    # its subscription renews every month
    assert [kind for _on, kind in notices_of(six, "card_3ds")] == SEQUENCE[:4]
    assert [inv["status"] for inv in invoices_of(six, "card_3ds")] == ["paid"] * 7
    assert previous(six, "card_3ds") == [0] * 7
    assert six["standings"]["card_3ds"] == "active"


def test_wires_are_never_dunned_and_partial_transfers_are_brought_forward(
        six: Document) -> None:
    # Given 10.00 received on the 25.00 invoice of 01-15, a transfer with an unknown
    # reference on 02-25 (kept for review), and 65.00 on 03-25
    assert previous(six, "wire_partial") == [0, 1500, 4000, 0, 2500, 5000, 7500]
    assert previous(six, "wire_ok") == [0] * 7
    assert notices_of(six, "wire_partial") == notices_of(six, "wire_ok") == []
    assert six["standings"]["wire_partial"] == "active"


def test_each_account_gets_at_most_one_sequence_of_notices_in_order(six: Document) -> None:
    for account in six["standings"]:
        kinds = [kind for _on, kind in notices_of(six, account)]
        assert kinds == [kind.value for kind in NOTICE_ORDER[:len(kinds)]], account


def test_the_ledger_equals_what_the_open_invoices_still_ask_for(six: Document) -> None:
    for account, balance in six["balances"].items():
        open_due = sum(inv["amount_due"] for inv in invoices_of(six, account)
                       if inv["status"] == "open")
        assert balance == open_due, account
