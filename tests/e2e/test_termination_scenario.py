"""A card that never pays (examples/termination.json), replayed through the real system: the
overdue sequence runs to the legal notice, the account is terminated, its subscription ends
that day with a final invoice, the final invoice is retried under the retry policy, and no
invoice follows it.

Both accounts are anchored on 2026-01-15, 1 user + 1 number, card
pm_card_chargeDeclinedInsufficientFunds (soft declines: retried 1, 3, 5, 7 days after the
first failure). Notices 3, 10, 17, 22, 27 days after the due date 01-15: the legal notice
(termination) is on 01-15 + 27 days = 02-11, before the monthly renewal of 02-15.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import attempts_on, bill, expected, invoices_of, run_example

Document = dict[str, Any]
SEQUENCE = [("2026-01-18", "first_notice"), ("2026-01-25", "second_notice"),
            ("2026-02-01", "third_notice"), ("2026-02-06", "last_notice"),
            ("2026-02-11", "legal_notice")]


@pytest.fixture(scope="module")
def doc() -> Document:
    return run_example("termination.json")


def test_a_card_that_never_pays_is_dunned_to_the_legal_notice_and_terminated(
        doc: Document) -> None:
    for account in ("never_monthly", "never_annual"):
        assert [(n["on"], n["kind"]) for n in doc["notices"] if n["account"] == account] \
            == SEQUENCE, account
        assert doc["standings"][account] == "terminated"
    # And the subscriptions ended that day, by termination
    assert [(s["account"], s["status"], s["ends_on"], s["end_reason"])
            for s in doc["subscriptions"]] == [
        ("never_monthly", "ended", "2026-02-11", "terminated"),
        ("never_annual", "ended", "2026-02-11", "terminated")]


def test_the_monthly_final_invoice_bills_up_to_the_termination_day(doc: Document) -> None:
    first, final = invoices_of(doc, "never_monthly")
    # Given 01-15: 1 user 2000 + 1 number 500 = 2500, never paid
    assert bill(first) == expected(
        issued_on="2026-01-15", kind="monthly", period=("2026-01-15", "2026-02-15"),
        recurring=[("users", 1, 2000, 2000), ("numbers", 1, 500, 500)], total=2500)
    # Then the final invoice of 02-11 covers [01-15, 02-11), with no recurring:
    # - the user added on 01-16 billed to 02-11: 26 of the period's 31 days,
    #   2000 * 26 / 31 = 1677.4… → 1677
    # - 100 outbound minutes * 2 = 200, 10 toll-free minutes * 3 = 30
    # - the unpaid 2500 brought forward: total 1677 + 200 + 30 + 2500 = 4407
    assert bill(final) == expected(
        issued_on="2026-02-11", kind="final", period=("2026-01-15", "2026-02-11"),
        prorata=[("users", 1, 2000, 1677, "2026-01-16", "2026-02-11")],
        minutes=[("outbound_minutes", 100, 2, 200), ("toll_free_minutes", 10, 3, 30)],
        previous_amount_due=2500, total=4407)
    # And the first invoice is closed as carried forward onto it
    assert (first["status"], first["carried_to"]) == ("carried_forward", final["id"])


def test_the_annual_final_invoice_prorates_against_the_annual_term(doc: Document) -> None:
    first, final = invoices_of(doc, "never_annual")
    # Given the annual invoice of 01-15: 24000 + 6000 = 30000 for the year, never paid
    assert (first["kind"], first["total"], first["status"]) == ("annual", 30000,
                                                                "carried_forward")
    # Then the final invoice of 02-11 covers the month so far, [01-15, 02-11):
    # - the user added on 01-16 billed 26 days of the 365-day term:
    #   24000 * 26 / 365 = 1709.58… → 1710 (nothing of the unpaid year is credited)
    # - 50 outbound minutes * 2 = 100
    # - the unpaid 30000 brought forward: total 1710 + 100 + 30000 = 31810
    assert bill(final) == expected(
        issued_on="2026-02-11", kind="final", period=("2026-01-15", "2026-02-11"),
        prorata=[("users", 1, 24000, 1710, "2026-01-16", "2026-02-11")],
        minutes=[("outbound_minutes", 50, 2, 100)], previous_amount_due=30000, total=31810)


def test_no_invoice_follows_the_final_invoice(doc: Document) -> None:
    # Given the scenario runs to 04-20, past three renewal dates (02-15, 03-15, 04-15)
    for account in ("never_monthly", "never_annual"):
        invoices = invoices_of(doc, account)
        # Then the final invoice is the last one
        assert [inv["kind"] for inv in invoices][-1] == "final"
        assert [inv["issued_on"] for inv in invoices] == ["2026-01-15", "2026-02-11"]
    # And the user the customer tried to add on 03-02 changed nothing, and the minutes of
    # 03-02 (after the end) are on no invoice
    assert all(inv["issued_on"] < "2026-03-02" for inv in doc["invoices"])


def test_the_final_invoice_is_retried_under_the_retry_policy_and_the_debt_stays(
        doc: Document) -> None:
    for account, total in (("never_monthly", 4407), ("never_annual", 31810)):
        final = invoices_of(doc, account)[-1]
        attempts = attempts_on(doc, final)
        # Then it is charged on 02-11 and retried 1, 3, 5 and 7 days after that failure
        assert [(p["attempt"], p["scheduled_for"], p["status"], p["amount"])
                for p in attempts] == [
            (1, "2026-02-11", "failed", total), (2, "2026-02-12", "failed", total),
            (3, "2026-02-14", "failed", total), (4, "2026-02-16", "failed", total),
            (5, "2026-02-18", "failed", total)]
        # And the whole debt stays on the ledger: everything charged, nothing received
        assert (final["status"], final["amount_due"]) == ("open", total)
        assert doc["balances"][account] == total
        assert total == sum(inv["charges"] for inv in invoices_of(doc, account))
