"""The examples, replayed through the real system, against invoices computed by hand.

Every expected amount below is worked out from shared/design.md §1 and the builder's
conventions, not read from the code's output:

- a monthly invoice on anchor day D holds RECURRING for [D, next D) (units in use at the start
  of D, at least the minimum), PRORATA for units added in [previous D, D) beyond what that
  month already billed, MINUTES used in [previous D, D);
- an annual plan gets an ANNUAL invoice on the anniversary and a USAGE invoice (prorata to the
  end of the annual term + minutes) on each monthly anchor day, skipped when empty;
- a change or usage dated on the issue day belongs to the new period;
- prorata = price * quantity * days_remaining / days_in_period, rounded half-up once per line;
  days_remaining runs from the day added to the period's (exclusive) end.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import bill, expected, invoices_of, open_amount_due, run_example

Document = dict[str, Any]


# --------------------------------------------------------------------------------------------
# examples/monthly_adds_removes.json — Acme (EUR, monthly, anchor the 15th, card that pays).
# Plan: user 3000, number 600 per month; minimum 2 users, 1 number; outbound 2/min,
# toll-free 3/min. Starts with 1 user (below the minimum) and 1 number.
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def monthly() -> Document:
    return run_example("monthly_adds_removes.json")


def test_the_monthly_account_gets_one_invoice_on_each_anchor_day(monthly: Document) -> None:
    # Given the scenario runs 2026-01-15 → 2026-04-15, anchored on the 15th
    # When it is replayed
    invoices = invoices_of(monthly, "acme")
    # Then there is one monthly invoice per anchor day, each for the month that follows
    assert [(inv["issued_on"], inv["kind"], inv["period"]["start"], inv["period"]["end"])
            for inv in invoices] == [
        ("2026-01-15", "monthly", "2026-01-15", "2026-02-15"),
        ("2026-02-15", "monthly", "2026-02-15", "2026-03-15"),
        ("2026-03-15", "monthly", "2026-03-15", "2026-04-15"),
        ("2026-04-15", "monthly", "2026-04-15", "2026-05-15"),
    ]


def test_the_first_monthly_invoice_bills_the_minimum_commitment_for_the_coming_month(
        monthly: Document) -> None:
    # Given 1 user in use and a minimum of 2 users
    # When the subscription starts on 2026-01-15
    first = invoices_of(monthly, "acme")[0]
    # Then the first invoice holds recurring only, for at least the minimum
    assert bill(first) == expected(
        issued_on="2026-01-15", kind="monthly", period=("2026-01-15", "2026-02-15"),
        recurring=[
            ("users", 2, 3000, 6000),   # max(1 in use, minimum 2) = 2 * 3000 = 6000
            ("numbers", 1, 600, 600),   # 1 * 600 = 600
        ],
        total=6600)                     # 6000 + 600


def test_the_second_invoice_prorates_only_units_beyond_what_the_month_billed(
        monthly: Document) -> None:
    # Given +2 users on 01-25 (1 → 3 in use; the month billed 2, so only 1 is new),
    # +1 number on 02-10, 120 outbound and 30 toll-free minutes on 02-03,
    # and +1 user on 02-15, the issue day (it belongs to the new period)
    # When the 2026-02-15 invoice is issued
    second = invoices_of(monthly, "acme")[1]
    # Then
    assert bill(second) == expected(
        issued_on="2026-02-15", kind="monthly", period=("2026-02-15", "2026-03-15"),
        recurring=[
            ("users", 3, 3000, 9000),   # 1 + 2 = 3 in use before 02-15 → 3 * 3000
            ("numbers", 2, 600, 1200),  # 1 + 1 = 2 → 2 * 600
        ],
        prorata=[
            # [01-15, 02-15) has 31 days; 01-25 → 02-15 is 21 days; 1 user beyond the 2 billed:
            # 3000 * 1 * 21 / 31 = 63000 / 31 = 2032.26 → 2032
            ("users", 1, 3000, 2032, "2026-01-25", "2026-02-15"),
            # 02-10 → 02-15 is 5 days: 600 * 1 * 5 / 31 = 3000 / 31 = 96.77 → 97
            ("numbers", 1, 600, 97, "2026-02-10", "2026-02-15"),
        ],
        minutes=[
            ("outbound_minutes", 120, 2, 240),   # 120 * 2
            ("toll_free_minutes", 30, 3, 90),    # 30 * 3
        ],
        total=12659)  # 9000 + 1200 + 2032 + 97 + 240 + 90


def test_a_user_added_on_the_issue_day_is_prorated_in_full_and_a_re_added_user_is_not_billed_twice(
        monthly: Document) -> None:
    # Given in [02-15, 03-15): +1 user on 02-15, -1 user on 02-20, +1 user on 02-25,
    # -1 number on 03-05, and 45 outbound minutes on 03-01
    # When the 2026-03-15 invoice is issued
    third = invoices_of(monthly, "acme")[2]
    # Then
    assert bill(third) == expected(
        issued_on="2026-03-15", kind="monthly", period=("2026-03-15", "2026-04-15"),
        recurring=[
            ("users", 4, 3000, 12000),  # 3 + 1 - 1 + 1 = 4 → 4 * 3000
            ("numbers", 1, 600, 600),   # 2 - 1 = 1 → 1 * 600
        ],
        prorata=[
            # the month billed 3 users; +1 on 02-15 → 4, the whole 28-day period:
            # 3000 * 1 * 28 / 28 = 3000. -1 on 02-20 then +1 on 02-25 is back to 4, not beyond
            # the 4 already billed this month → no second line.
            ("users", 1, 3000, 3000, "2026-02-15", "2026-03-15"),
        ],
        minutes=[("outbound_minutes", 45, 2, 90)],  # 45 * 2
        total=15690)  # 12000 + 600 + 3000 + 90


def test_removed_units_drop_off_and_minutes_on_the_issue_day_wait_for_the_next_invoice(
        monthly: Document) -> None:
    # Given in [03-15, 04-15): +2 numbers on 03-20, -1 user on 03-28, 10 toll-free minutes on
    # 04-14, and 500 outbound minutes on 04-15 (the issue day: next period)
    # When the 2026-04-15 invoice is issued
    fourth = invoices_of(monthly, "acme")[3]
    # Then
    assert bill(fourth) == expected(
        issued_on="2026-04-15", kind="monthly", period=("2026-04-15", "2026-05-15"),
        recurring=[
            ("users", 3, 3000, 9000),   # 4 - 1 = 3 → 3 * 3000
            ("numbers", 3, 600, 1800),  # 1 + 2 = 3 → 3 * 600
        ],
        prorata=[
            # [03-15, 04-15) has 31 days; 03-20 → 04-15 is 26 days; the month billed 1 number:
            # 600 * 2 * 26 / 31 = 31200 / 31 = 1006.45 → 1006
            ("numbers", 2, 600, 1006, "2026-03-20", "2026-04-15"),
        ],
        minutes=[("toll_free_minutes", 10, 3, 30)],  # 10 * 3; the 500 outbound come in May
        total=11836)  # 9000 + 1800 + 1006 + 30


def test_the_monthly_account_paid_by_card_never_owes_a_previous_amount(
        monthly: Document) -> None:
    # Given a card that succeeds
    invoices = invoices_of(monthly, "acme")
    # Then every invoice is paid on its issue day and the ledger is settled
    assert [(inv["status"], inv["amount_paid"]) for inv in invoices] == [
        ("paid", 6600), ("paid", 12659), ("paid", 15690), ("paid", 11836)]
    assert monthly["balances"] == {"acme": 0}


# --------------------------------------------------------------------------------------------
# examples/annual_usage.json — Yearly (EUR, annual, anchor 2026-01-10, SEPA that pays).
# Plan: user 30000, number 6000 per year; minimum 3 users, 1 number; outbound 2/min,
# toll-free 3/min. Starts with 2 users, 1 number. The annual term
# [2026-01-10, 2027-01-10) has 365 days.
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def annual() -> Document:
    return run_example("annual_usage.json")


def test_the_annual_account_gets_a_yearly_invoice_and_a_usage_invoice_only_for_months_with_lines(
        annual: Document) -> None:
    # Given usage or adds in [01-10, 02-10) and [03-10, 04-10), only a -1/+1 in [02-10, 03-10)
    # When the scenario runs 2026-01-10 → 2026-04-10
    invoices = invoices_of(annual, "yearly")
    # Then the 03-10 usage invoice is skipped: it would have no line
    assert [(inv["issued_on"], inv["kind"], inv["period"]["start"], inv["period"]["end"])
            for inv in invoices] == [
        ("2026-01-10", "annual", "2026-01-10", "2027-01-10"),
        ("2026-02-10", "usage", "2026-01-10", "2026-02-10"),
        ("2026-04-10", "usage", "2026-03-10", "2026-04-10"),
    ]


def test_the_annual_invoice_bills_every_unit_for_the_whole_year(annual: Document) -> None:
    # Given 2 users (minimum 3) and 1 number
    yearly = invoices_of(annual, "yearly")[0]
    # Then
    assert bill(yearly) == expected(
        issued_on="2026-01-10", kind="annual", period=("2026-01-10", "2027-01-10"),
        recurring=[
            ("users", 3, 30000, 90000),  # max(2, minimum 3) = 3 * 30000
            ("numbers", 1, 6000, 6000),  # 1 * 6000
        ],
        total=96000)  # 90000 + 6000


def test_a_user_added_in_the_first_month_is_prorated_to_the_end_of_the_annual_term(
        annual: Document) -> None:
    # Given +2 users on 01-20 (2 → 4; the year billed 3, so 1 is new), 100 outbound on 01-25
    usage = invoices_of(annual, "yearly")[1]
    # Then
    assert bill(usage) == expected(
        issued_on="2026-02-10", kind="usage", period=("2026-01-10", "2026-02-10"),
        prorata=[
            # 2026-01-20 → 2027-01-10 = 365 - 10 = 355 days of 365:
            # 30000 * 1 * 355 / 365 = 10650000 / 365 = 29178.08 → 29178
            ("users", 1, 30000, 29178, "2026-01-20", "2027-01-10"),
        ],
        minutes=[("outbound_minutes", 100, 2, 200)],  # 100 * 2
        total=29378)  # 29178 + 200


def test_a_re_added_user_is_free_but_a_new_peak_and_a_new_number_are_prorated_to_the_term_end(
        annual: Document) -> None:
    # Given -1 user on 02-20 and +1 on 03-01 (back to the peak of 4 already billed this term),
    # +1 number on 03-15, +1 user on 03-20 (5: a new peak), 50 toll-free minutes on 04-09,
    # 70 outbound minutes on 04-10 (the issue day: next month)
    usage = invoices_of(annual, "yearly")[2]
    # Then
    assert bill(usage) == expected(
        issued_on="2026-04-10", kind="usage", period=("2026-03-10", "2026-04-10"),
        prorata=[
            # 2026-03-20 → 2027-01-10: 2026-03-20 → 2027-03-20 is 365 days, minus
            # 2027-01-10 → 2027-03-20 (21 + 28 + 20 = 69) = 296 days:
            # 30000 * 1 * 296 / 365 = 8880000 / 365 = 24328.77 → 24329
            ("users", 1, 30000, 24329, "2026-03-20", "2027-01-10"),
            # 2026-03-15 → 2027-01-10 = 296 + 5 = 301 days:
            # 6000 * 1 * 301 / 365 = 1806000 / 365 = 4947.95 → 4948
            ("numbers", 1, 6000, 4948, "2026-03-15", "2027-01-10"),
        ],
        minutes=[("toll_free_minutes", 50, 3, 150)],  # 50 * 3; the 70 outbound come in May
        total=29427)  # 24329 + 4948 + 150


def test_the_annual_account_paid_by_direct_debit_owes_only_the_debit_still_in_flight(
        annual: Document) -> None:
    # Given SEPA that pays, a few days after each charge date
    invoices = invoices_of(annual, "yearly")
    # Then the first two are paid, the last is open with its debit pending, nothing is carried
    assert [(inv["status"], inv["previous_amount_due"]) for inv in invoices] == [
        ("paid", 0), ("paid", 0), ("open", 0)]
    assert annual["balances"] == {"yearly": 29427}
    assert open_amount_due(annual, "yearly") == 29427


# --------------------------------------------------------------------------------------------
# examples/anchor_31st.json — End of Month (GBP, monthly, anchor 2026-01-31, card that pays).
# Plan: user 2500, number 800 per month; no minimum; outbound 3/min. 2 users, 1 number.
# Anchors: 01-31 → 02-28 (February has no 31st) → 03-31 (back to the 31st) → 04-30 → 05-31.
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def anchor_31st() -> Document:
    return run_example("anchor_31st.json")


def test_an_anchor_on_the_31st_falls_on_the_last_day_of_short_months_and_returns_to_the_31st(
        anchor_31st: Document) -> None:
    invoices = invoices_of(anchor_31st, "endofmonth")
    assert [(inv["issued_on"], inv["kind"], inv["period"]["start"], inv["period"]["end"])
            for inv in invoices] == [
        ("2026-01-31", "monthly", "2026-01-31", "2026-02-28"),
        ("2026-02-28", "monthly", "2026-02-28", "2026-03-31"),
        ("2026-03-31", "monthly", "2026-03-31", "2026-04-30"),
        ("2026-04-30", "monthly", "2026-04-30", "2026-05-31"),
    ]


def test_the_31st_account_invoices_add_up_by_hand(anchor_31st: Document) -> None:
    # Given +1 number on 02-10, 10 outbound on 02-27, +1 user on 02-28 (issue day),
    # +1 user on 03-10, 20 outbound on 03-30, -1 user on 04-15
    invoices = invoices_of(anchor_31st, "endofmonth")
    # Then
    assert [bill(inv) for inv in invoices] == [
        expected(
            issued_on="2026-01-31", kind="monthly", period=("2026-01-31", "2026-02-28"),
            recurring=[("users", 2, 2500, 5000),    # 2 * 2500
                       ("numbers", 1, 800, 800)],   # 1 * 800
            total=5800),
        expected(
            issued_on="2026-02-28", kind="monthly", period=("2026-02-28", "2026-03-31"),
            recurring=[("users", 2, 2500, 5000),    # the user added on 02-28 is next period's
                       ("numbers", 2, 800, 1600)],  # 1 + 1 = 2 * 800
            # [01-31, 02-28) has 28 days; 02-10 → 02-28 is 18 days:
            # 800 * 1 * 18 / 28 = 14400 / 28 = 514.29 → 514
            prorata=[("numbers", 1, 800, 514, "2026-02-10", "2026-02-28")],
            minutes=[("outbound_minutes", 10, 3, 30)],  # 10 * 3 (02-27 is in [01-31, 02-28))
            total=7144),  # 5000 + 1600 + 514 + 30
        expected(
            issued_on="2026-03-31", kind="monthly", period=("2026-03-31", "2026-04-30"),
            recurring=[("users", 4, 2500, 10000),   # 2 + 1 + 1 = 4 * 2500
                       ("numbers", 2, 800, 1600)],  # 2 * 800
            prorata=[
                # [02-28, 03-31) has 31 days. +1 user on 02-28: all 31 days:
                # 2500 * 1 * 31 / 31 = 2500
                ("users", 1, 2500, 2500, "2026-02-28", "2026-03-31"),
                # +1 user on 03-10: 03-10 → 03-31 is 21 days:
                # 2500 * 1 * 21 / 31 = 52500 / 31 = 1693.55 → 1694
                ("users", 1, 2500, 1694, "2026-03-10", "2026-03-31"),
            ],
            minutes=[("outbound_minutes", 20, 3, 60)],  # 20 * 3
            total=15854),  # 10000 + 1600 + 2500 + 1694 + 60
        expected(
            issued_on="2026-04-30", kind="monthly", period=("2026-04-30", "2026-05-31"),
            recurring=[("users", 3, 2500, 7500),    # 4 - 1 = 3 * 2500
                       ("numbers", 2, 800, 1600)],  # 2 * 800
            total=9100),  # 7500 + 1600
    ]
    assert {inv["currency"] for inv in invoices} == {"GBP"}
    assert anchor_31st["balances"] == {"endofmonth": 0}


# --------------------------------------------------------------------------------------------
# examples/carried_forward.json — anchor the 5th, monthly, EUR.
# wiry: wire; 2 users * 2000 + 1 number * 500 = 4500 a month; pays nothing in January, then
#       wires 9000 on 02-20 against the February invoice.
# lost: card reported lost (hard decline); 1 user * 3000 + 1 number * 600 = 3600 a month;
#       terminated by the legal notice on 02-01, gives a working card on 02-10.
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def carried() -> Document:
    return run_example("carried_forward.json")


def _amounts(invoices: list[dict[str, Any]]) -> list[tuple[str, int, int, int, str]]:
    return [(inv["issued_on"], inv["charges"], inv["previous_amount_due"], inv["total"],
             inv["status"]) for inv in invoices]


def test_an_unpaid_wire_invoice_is_carried_forward_as_the_next_previous_amount_due(
        carried: Document) -> None:
    # Given a wire customer who does not pay the January invoice
    invoices = invoices_of(carried, "wiry")
    # Then February brings January's 4500 forward and January is closed as carried forward
    assert _amounts(invoices) == [
        ("2026-01-05", 4500, 0, 4500, "carried_forward"),     # 2 * 2000 + 500
        ("2026-02-05", 4500, 4500, 9000, "paid"),             # 4500 + previous 4500
        ("2026-03-05", 4500, 0, 4500, "open"),                # the 9000 wire settled it all
    ]
    january, february, _ = invoices
    assert january["amount_carried"] == 4500
    assert january["carried_to"] == february["id"]
    assert february["amount_paid"] == 9000
    assert bill(february) == expected(
        issued_on="2026-02-05", kind="monthly", period=("2026-02-05", "2026-03-05"),
        recurring=[("users", 2, 2000, 4000), ("numbers", 1, 500, 500)],
        previous_amount_due=4500, total=9000)
    # And the ledger still owes exactly the open March invoice
    assert carried["balances"]["wiry"] == 4500 == open_amount_due(carried, "wiry")


def test_a_hard_declined_card_is_terminated_and_a_new_card_after_it_pays_but_restarts_nothing(
        carried: Document) -> None:
    # Given a lost card on 01-05 (hard decline) and a new card only on 02-10, after the
    # legal notice of 01-05 + 27 days = 02-01
    invoices = invoices_of(carried, "lost")
    # Then the termination of 02-01 ends the subscription with a final invoice (no line:
    # nothing added, no minutes) that brings January's 3600 forward, and no renewal follows
    assert _amounts(invoices) == [
        ("2026-01-05", 3600, 0, 3600, "carried_forward"),     # 3000 + 600
        ("2026-02-01", 0, 3600, 3600, "paid"),                # final: previous 3600
    ]
    january, final = invoices
    assert (january["carried_to"], final["kind"]) == (final["id"], "final")
    # And the lost card was tried once, never retried; the new card paid the 3600 at once
    payments = [(p["invoice"], p["attempt"], p["created_on"], p["status"], p["amount"],
                 (p.get("failure") or {}).get("class"))
                for p in carried["payments"] if p["account"] == "lost"]
    assert payments == [
        (january["number"], 1, "2026-01-05", "failed", 3600, "hard"),
        (final["number"], 1, "2026-02-10", "succeeded", 3600, None),
    ]
    assert carried["balances"]["lost"] == 0
    # And paying everything reinstates the standing, but the subscription stays ended (an
    # operator reactivates: `paycollect accounts reactivate`)
    assert carried["standings"]["lost"] == "active"
    assert [(s["status"], s["ends_on"]) for s in carried["subscriptions"]
            if s["account"] == "lost"] == [("ended", "2026-02-01")]
