"""Issue 3's collection scenario (examples/collection.json), replayed through the real system.

Six EUR/USD monthly accounts, anchored on 2026-01-05 unless told, replayed to 2026-02-05 (two
invoices each, except ach_fail; lost_card's second is the final invoice of its termination
on 02-01, the legal notice 27 days after 01-05). Monthly charges, by hand (user 2000, number 500):
    card_ok    1 user,  1 number: 2000 + 500     = 2500  card that pays
    card_nsf   2 users, 1 number: 4000 + 500     = 4500  insufficient funds; new card 01-12
    sepa_ok    3 users, 1 number: 6000 + 500     = 6500  SEPA Core that pays
    ach_fail   4 users, 1 number: 8000 + 500     = 8500  ACH failing for lack of funds (USD);
                                                         starts 01-12, so one invoice only
    lost_card  1 user,  2 numbers: 2000 + 1000   = 3000  card reported lost (hard decline),
                                                         never replaced: terminated 02-01
    wire_part  1 user,  3 numbers: 2000 + 1500   = 3500  wire; 2000 received on 01-20
The retry schedule is the default (1, 3, 5, 7) days after the first failure.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest

from tests.e2e.support import attempts_on, invoices_of, open_amount_due, run_example

Document = dict[str, Any]


@pytest.fixture(scope="module")
def collection() -> Document:
    return run_example("collection.json")


def _failure(payment: dict[str, Any]) -> tuple[str, str] | None:
    failure = payment.get("failure")
    return (failure["class"], failure["code"]) if failure else None


def test_a_card_that_pays_settles_each_invoice_on_its_issue_day(collection: Document) -> None:
    # Given pm_card_visa
    january, february = invoices_of(collection, "card_ok")
    # Then each invoice is paid in full by one attempt made on its issue day
    for invoice in (january, february):
        assert (invoice["total"], invoice["status"], invoice["amount_paid"]) == (2500, "paid", 2500)
        assert [(p["attempt"], p["created_on"], p["status"], p["amount"])
                for p in attempts_on(collection, invoice)] == [
            (1, invoice["issued_on"], "succeeded", 2500)]
    assert collection["balances"]["card_ok"] == 0


def test_a_soft_declined_card_is_retried_on_schedule_until_a_new_card_pays_it(
        collection: Document) -> None:
    # Given pm_card_chargeDeclinedInsufficientFunds, first declined on 01-05, and a new card
    # (pm_card_visa) given on 01-12
    january, february = invoices_of(collection, "card_nsf")
    attempts = attempts_on(collection, january)
    # Then the first attempt and the retries on 01-05 + 1, 3, 5 days fail softly
    failed = [(p["attempt"], p["scheduled_for"], p["status"], _failure(p))
              for p in attempts if p["status"] == "failed"]
    assert failed == [
        (1, "2026-01-05", "failed", ("soft", "insufficient_funds")),
        (2, "2026-01-06", "failed", ("soft", "insufficient_funds")),   # 01-05 + 1 day
        (3, "2026-01-08", "failed", ("soft", "insufficient_funds")),   # 01-05 + 3 days
        (4, "2026-01-10", "failed", ("soft", "insufficient_funds")),   # 01-05 + 5 days
    ]
    # And the new card is charged at once on 01-12, once, for the whole 4500
    succeeded = [p for p in attempts if p["status"] == "succeeded"]
    assert [(p["created_on"], p["amount"]) for p in succeeded] == [("2026-01-12", 4500)]
    assert attempts[-1] is succeeded[0]
    assert (january["status"], january["amount_paid"], january["amount_carried"]) == (
        "paid", 4500, 0)
    # And nothing is carried to February, paid by the new card on its issue day
    assert (february["previous_amount_due"], february["total"], february["status"]) == (
        0, 4500, "paid")
    assert collection["balances"]["card_nsf"] == 0


def test_a_sepa_debit_that_pays_settles_after_the_scheme_delay_and_the_next_is_in_flight(
        collection: Document) -> None:
    # Given SEPA Core, behaviour "pays"
    january, february = invoices_of(collection, "sepa_ok")
    # Then January is paid by its one debit; February's debit is still pending on 02-05
    assert [(p["attempt"], p["status"], p["amount"]) for p in attempts_on(collection, january)] \
        == [(1, "succeeded", 6500)]
    assert (january["status"], january["amount_paid"]) == ("paid", 6500)
    assert [(p["attempt"], p["status"], p["amount"])
            for p in attempts_on(collection, february)] == [(1, "pending", 6500)]
    assert (february["previous_amount_due"], february["total"], february["status"]) == (
        0, 6500, "open")
    assert collection["balances"]["sepa_ok"] == 6500


def test_a_failing_ach_debit_is_retried_softly_and_stays_owed(collection: Document) -> None:
    # Given ACH, behaviour fails_insufficient_funds (ACH reports it as R01 refer_to_payer),
    # an account that starts on 01-12 (so no renewal falls on the day a debit fails)
    [january] = invoices_of(collection, "ach_fail")
    attempts = attempts_on(collection, january)
    # Then the renewal debit fails softly and is retried: attempts 2 and 3 fail softly too,
    # attempt 4 is still being debited when the scenario ends
    assert [(p["attempt"], p["reason"], p["status"], _failure(p)) for p in attempts] == [
        (1, "renewal", "failed", ("soft", "refer_to_payer")),
        (2, "retry", "failed", ("soft", "refer_to_payer")),
        (3, "retry", "failed", ("soft", "refer_to_payer")),
        (4, "retry", "pending", None),
    ]
    assert {p["method"] for p in attempts} == {"direct_debit"}
    assert {p["amount"] for p in attempts} == {8500}
    # And the first retry waits one day after the first failure (schedule 1, 3, 5, 7); the
    # later ones are due by the time the previous debit has failed, so they go at once
    first_failed_on = date.fromisoformat(attempts[1]["created_on"])
    assert attempts[1]["scheduled_for"] == (first_failed_on + timedelta(days=1)).isoformat()
    for earlier, later in pairwise(attempts):
        assert later["scheduled_for"] >= earlier["scheduled_for"]
    # And the invoice (8000 + 500, in USD) is still owed in full, nothing carried
    assert (january["issued_on"], january["currency"], january["total"]) == (
        "2026-01-12", "USD", 8500)
    assert (january["status"], january["amount_due"], january["amount_carried"]) == (
        "open", 8500, 0)
    assert collection["balances"]["ach_fail"] == 8500


def test_a_hard_decline_is_never_retried_and_its_amount_is_carried_forward(
        collection: Document) -> None:
    # Given pm_card_chargeDeclinedLostCard, never replaced
    january, final = invoices_of(collection, "lost_card")
    # Then the one attempt fails hard and no retry is scheduled
    assert [(p["attempt"], p["status"], _failure(p)) for p in attempts_on(collection, january)] \
        == [(1, "failed", ("hard", "lost_card"))]
    # And the customer is asked for a new payment method
    assert ("lost_card", "new_method_needed") in {
        (m["account"], m["kind"]) for m in collection["messages"]}
    # And the legal notice of 01-05 + 27 days = 02-01 terminates the account: the
    # subscription ends that day with a final invoice (nothing added, no minutes: no line)
    # that brings January's 3000 forward, and there is no renewal on 02-05
    assert [(n["on"], n["kind"]) for n in collection["notices"]
            if n["account"] == "lost_card"][-1] == ("2026-02-01", "legal_notice")
    assert (final["issued_on"], final["kind"], final["charges"]) == ("2026-02-01", "final", 0)
    assert (january["status"], january["amount_carried"], january["carried_to"]) == (
        "carried_forward", 3000, final["id"])
    assert (final["previous_amount_due"], final["total"], final["status"]) == (
        3000, 3000, "open")
    # And the unusable card is not charged again for the final invoice
    assert attempts_on(collection, final) == []
    assert collection["standings"]["lost_card"] == "terminated"
    assert collection["balances"]["lost_card"] == 3000


def test_a_wire_paid_in_part_carries_the_rest_forward(collection: Document) -> None:
    # Given a wire customer who transfers 2000 of January's 3500 on 01-20
    january, february = invoices_of(collection, "wire_part")
    # Then January is closed with 2000 paid and 3500 - 2000 = 1500 carried forward
    assert (january["status"], january["amount_paid"], january["amount_carried"],
            january["carried_to"]) == ("carried_forward", 2000, 1500, february["id"])
    # And February asks for 3500 + previous 1500 = 5000, with wire instructions for 5000
    assert (february["previous_amount_due"], february["total"], february["status"]) == (
        1500, 5000, "open")
    assert [(p["attempt"], p["status"], p["amount"])
            for p in attempts_on(collection, february)] == [(1, "awaiting_transfer", 5000)]
    assert collection["balances"]["wire_part"] == 5000


def test_a_partly_paid_wire_reports_the_amount_actually_received(collection: Document) -> None:
    # Given a wire of 2000 against an invoice of 3500
    january = invoices_of(collection, "wire_part")[0]
    # Then the payment that succeeded is the 2000 received
    assert [(p["status"], p["amount"]) for p in attempts_on(collection, january)
            if p["status"] == "succeeded"] == [("succeeded", 2000)]


def test_every_ledger_equals_what_the_open_invoices_still_ask_for(collection: Document) -> None:
    # Given the whole scenario
    # Then the balances are as computed by hand
    assert collection["balances"] == {
        "card_ok": 0,          # both paid
        "card_nsf": 0,         # both paid (January by the new card)
        "sepa_ok": 6500,       # February's debit pending
        "ach_fail": 8500,      # January, its retry still being debited
        "lost_card": 3000,     # January, carried onto the final invoice of 02-01
        "wire_part": 5000,     # 3500 + 1500 carried
    }
    for account, balance in collection["balances"].items():
        invoices = invoices_of(collection, account)
        # And each ledger equals the sum of the open invoices' amount due
        assert balance == open_amount_due(collection, account), account
        # And no cent disappears: everything charged, less everything received, is owed
        charged = sum(inv["charges"] for inv in invoices)
        received = sum(inv["amount_paid"] for inv in invoices)
        assert balance == charged - received, account
