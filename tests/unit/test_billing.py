"""The invoice builder: what each billing date puts on the invoice, section by section."""

from __future__ import annotations

from datetime import date

import pytest

from domain.billing import (
    InvoiceDraft,
    InvoiceKey,
    NotABillingDate,
    SubscriptionTerms,
    build_invoices,
)
from domain.invoices import InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money
from domain.plans import Interval, Plan, UnitKind
from domain.rate_cards import card_from_plan
from domain.renewals import billing_dates, due_invoice_keys, due_invoices, renewal_dates
from domain.seats import SeatChange
from domain.usage import CallRecord, ClassUsage, Direction, cutoff, minute_lines

USERS, NUMBERS = UnitKind.USERS, UnitKind.NUMBERS


def plan(interval: Interval = Interval.MONTHLY, *, currency: str = "EUR", user: int = 3000,
         number: int = 600, minimum_users: int = 0, minimum_numbers: int = 0) -> Plan:
    return Plan(interval=interval, currency=currency, user_price=Money(user, currency),
                number_price=Money(number, currency), minimum_users=minimum_users,
                minimum_numbers=minimum_numbers, outbound_per_minute=Money(2, currency),
                toll_free_per_minute=Money(3, currency))


def amounts(draft: InvoiceDraft, section: Section) -> list[tuple[str, int, int]]:
    return [(line.item, line.quantity, line.amount.minor) for line in draft.lines_in(section)]


def only(drafts: tuple[InvoiceDraft, ...]) -> InvoiceDraft:
    assert len(drafts) == 1
    return drafts[0]


# The scenario's account: 3 users, 1 number, minimum 2 users and 1 number, started 2026-01-15.
ACME = SubscriptionTerms(plan(minimum_users=2, minimum_numbers=1), date(2026, 1, 15), 3, 1)
ACME_CHANGES = [SeatChange(USERS, 1, date(2026, 1, 25)), SeatChange(USERS, -1, date(2026, 2, 20))]
OUT, TOLL_FREE = Direction.OUTBOUND, Direction.INBOUND_TOLL_FREE


def minutes(terms: SubscriptionTerms, *, outbound: int = 0, toll_free: int = 0
            ) -> tuple[InvoiceLine, ...]:
    """The minutes lines of whole-minute calls rated by the plan's per-minute fields."""
    return minute_lines(card=card_from_plan(terms.plan), usage=[
        ClassUsage(OUT, "", outbound * 60, outbound),
        ClassUsage(TOLL_FREE, "", toll_free * 60, toll_free)])


def call(id: str, on: date, direction: Direction, minutes: int) -> CallRecord:
    return CallRecord(id, "sub", "+33100000000", direction, "+33199999999", cutoff(on),
                      minutes * 60)


# 120 outbound and 30 toll-free minutes on 2026-02-03
ACME_MINUTES = minutes(ACME, outbound=120, toll_free=30)
ACME_CALLS = [call("c1", date(2026, 2, 3), OUT, 120), call("c2", date(2026, 2, 3), TOLL_FREE, 30)]


def test_the_first_monthly_invoice_is_issued_on_the_start_day_with_recurring_only() -> None:
    # When
    draft = only(build_invoices(terms=ACME, changes=ACME_CHANGES,
                                issued_on=date(2026, 1, 15)))
    # Then: 3 users * 3000 + 1 number * 600 for [2026-01-15, 2026-02-15)
    assert draft.kind is InvoiceKind.MONTHLY
    assert draft.period == Period(date(2026, 1, 15), date(2026, 2, 15))
    assert amounts(draft, Section.RECURRING) == [("users", 3, 9000), ("numbers", 1, 600)]
    assert draft.lines_in(Section.PRORATA) == draft.lines_in(Section.MINUTES) == ()
    assert draft.charges == Money(9600, "EUR")


def test_a_monthly_renewal_bills_the_coming_month_and_the_past_months_prorata_and_minutes(
        ) -> None:
    # When the 2026-02-15 renewal runs
    draft = only(build_invoices(terms=ACME, changes=ACME_CHANGES, minutes=ACME_MINUTES,
                                issued_on=date(2026, 2, 15)))
    # Then
    assert draft.period == Period(date(2026, 2, 15), date(2026, 3, 15))
    # 4 users in use on the 15th (the removal on the 20th comes later): 4 * 3000
    assert amounts(draft, Section.RECURRING) == [("users", 4, 12000), ("numbers", 1, 600)]
    # user added 2026-01-25: 21 of 31 days, 3000 * 21 / 31 = 2032.26 -> 2032
    (prorata,) = draft.lines_in(Section.PRORATA)
    assert (prorata.quantity, prorata.amount.minor) == (1, 2032)
    assert (prorata.from_on, prorata.to_on) == (date(2026, 1, 25), date(2026, 2, 15))
    assert prorata.unit_amount == Money(3000, "EUR")
    # 120 outbound minutes * 2 = 240; 30 toll-free minutes * 3 = 90
    assert amounts(draft, Section.MINUTES) == [("outbound_minutes", 120, 240),
                                               ("toll_free_minutes", 30, 90)]
    # 12000 + 600 + 2032 + 240 + 90 = 14962, the scenario's total
    assert draft.charges == Money(14962, "EUR")
    assert [line.section for line in draft.lines] == [Section.RECURRING] * 2 + [
        Section.PRORATA] + [Section.MINUTES] * 2


def test_a_removed_unit_stays_billed_to_the_period_end_and_drops_off_the_next_invoice() -> None:
    # Given the user removed on 2026-02-20, inside the period billed on 2026-02-15 for 4 users
    # When
    draft = only(build_invoices(terms=ACME, changes=ACME_CHANGES, minutes=ACME_MINUTES,
                                issued_on=date(2026, 3, 15)))
    # Then: 3 users from 2026-03-15, no refund, no prorata
    assert amounts(draft, Section.RECURRING) == [("users", 3, 9000), ("numbers", 1, 600)]
    assert draft.lines_in(Section.PRORATA) == ()


def test_the_minimum_commitment_is_billed_even_with_fewer_units_and_absorbs_the_first_adds(
        ) -> None:
    # Given minimum 2 users and 1 number, 1 user and no number in use
    terms = SubscriptionTerms(plan(minimum_users=2, minimum_numbers=1), date(2026, 1, 15), 1, 0)
    changes = [SeatChange(USERS, 2, date(2026, 1, 25))]
    # When
    first = only(build_invoices(terms=terms, changes=changes,
                                issued_on=date(2026, 1, 15)))
    second = only(build_invoices(terms=terms, changes=changes,
                                 issued_on=date(2026, 2, 15)))
    # Then: 2 users and 1 number billed although 1 and 0 exist
    assert amounts(first, Section.RECURRING) == [("users", 2, 6000), ("numbers", 1, 600)]
    # adding 2 users (3 in use) prorates 1: 3000 * 21 / 31 -> 2032
    assert amounts(second, Section.PRORATA) == [("users", 1, 2032)]
    assert amounts(second, Section.RECURRING) == [("users", 3, 9000), ("numbers", 1, 600)]


def test_a_unit_added_on_the_renewal_day_is_prorated_over_the_whole_period_next_time() -> None:
    # Given a user added on the 2026-02-15 renewal day itself
    changes = [SeatChange(USERS, 1, date(2026, 2, 15))]
    # When
    on_the_day = only(build_invoices(terms=ACME, changes=changes,
                                     issued_on=date(2026, 2, 15)))
    next_time = only(build_invoices(terms=ACME, changes=changes,
                                    issued_on=date(2026, 3, 15)))
    # Then it belongs to [02-15, 03-15): not in that day's recurring, then 28/28 of its price
    assert amounts(on_the_day, Section.RECURRING)[0] == ("users", 3, 9000)
    assert amounts(next_time, Section.PRORATA) == [("users", 1, 3000)]


def test_a_31st_anchor_bills_february_from_the_28th_and_march_back_from_the_31st() -> None:
    # Given a monthly plan started 2026-01-31, a number (600) added on 2026-03-10
    terms = SubscriptionTerms(plan(), date(2026, 1, 31), 1, 1)
    changes = [SeatChange(NUMBERS, 1, date(2026, 3, 10))]
    # When
    dates = billing_dates(terms=terms, after=None, until=date(2026, 4, 30))
    march = only(build_invoices(terms=terms, changes=changes,
                                issued_on=date(2026, 3, 31)))
    # Then
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert march.period == Period(date(2026, 3, 31), date(2026, 4, 30))
    # added 03-10 in [02-28, 03-31) of 31 days: 21 days, 600 * 21 / 31 = 406.45 -> 406
    assert amounts(march, Section.PRORATA) == [("numbers", 1, 406)]


def test_a_yen_plan_bills_whole_yen() -> None:
    # Given 1000 JPY per user per month, anchor 2026-04-01, a user added on 2026-04-21
    terms = SubscriptionTerms(plan(currency="JPY", user=1000, number=500), date(2026, 4, 1), 1, 1)
    changes = [SeatChange(USERS, 1, date(2026, 4, 21))]
    # When
    draft = only(build_invoices(terms=terms, changes=changes,
                                issued_on=date(2026, 5, 1)))
    # Then: 10 of 30 days, 1000 * 10 / 30 = 333.33 -> 333 yen
    assert amounts(draft, Section.PRORATA) == [("users", 1, 333)]
    assert draft.charges == Money(2 * 1000 + 500 + 333, "JPY")


# An annual plan: 360.00 EUR per user and 60.00 per number per year, started 2026-01-15.
ANNUAL = SubscriptionTerms(plan(Interval.ANNUAL, user=36000, number=6000), date(2026, 1, 15), 2, 1)


def test_an_annual_plan_starts_with_one_annual_invoice_for_the_whole_year() -> None:
    # When
    draft = only(build_invoices(terms=ANNUAL, changes=[], issued_on=date(2026, 1, 15)))
    # Then
    assert draft.kind is InvoiceKind.ANNUAL
    assert draft.period == Period(date(2026, 1, 15), date(2027, 1, 15))
    assert amounts(draft, Section.RECURRING) == [("users", 2, 72000), ("numbers", 1, 6000)]


def test_an_annual_plan_bills_prorata_to_the_term_end_and_minutes_monthly() -> None:
    # Given a user added on 2026-03-20 and minutes in March
    changes = [SeatChange(USERS, 1, date(2026, 3, 20))]
    usage = minutes(ANNUAL, outbound=50)
    # When the 2026-04-15 monthly anchor day comes
    draft = only(build_invoices(terms=ANNUAL, changes=changes, minutes=usage,
                                issued_on=date(2026, 4, 15)))
    # Then a usage invoice for [03-15, 04-15)
    assert draft.kind is InvoiceKind.USAGE
    assert draft.period == Period(date(2026, 3, 15), date(2026, 4, 15))
    # 2027-01-15 - 2026-03-20 = 301 of 365 days at 36000: 29687.67 -> 29688
    (prorata,) = draft.lines_in(Section.PRORATA)
    assert (prorata.quantity, prorata.amount.minor) == (1, 29688)
    assert (prorata.from_on, prorata.to_on) == (date(2026, 3, 20), date(2027, 1, 15))
    assert amounts(draft, Section.MINUTES) == [("outbound_minutes", 50, 100)]


def test_an_annual_unit_removed_and_re_added_within_the_term_is_not_billed_again() -> None:
    # Given a user added in March (prorated then), removed in May, re-added in June
    changes = [SeatChange(USERS, 1, date(2026, 3, 20)), SeatChange(USERS, -1, date(2026, 5, 2)),
               SeatChange(USERS, 1, date(2026, 6, 20))]
    # When the July anchor day comes
    drafts = build_invoices(terms=ANNUAL, changes=changes, issued_on=date(2026, 7, 15))
    # Then nothing: the term already paid for 3 users
    assert drafts == ()


def test_an_empty_usage_invoice_is_skipped() -> None:
    assert build_invoices(terms=ANNUAL, changes=[], issued_on=date(2026, 2, 15)) == ()


def test_on_an_anniversary_the_past_months_usage_comes_before_the_annual_invoice() -> None:
    # Given minutes in the last month of the first term, and a user removed during it
    usage = minutes(ANNUAL, toll_free=10)
    changes = [SeatChange(USERS, -1, date(2026, 9, 1))]
    # When
    drafts = build_invoices(terms=ANNUAL, changes=changes, minutes=usage,
                            issued_on=date(2027, 1, 15))
    # Then
    assert [draft.key for draft in drafts] == [
        InvoiceKey(InvoiceKind.USAGE, date(2026, 12, 15)),
        InvoiceKey(InvoiceKind.ANNUAL, date(2027, 1, 15))]
    assert amounts(drafts[0], Section.MINUTES) == [("toll_free_minutes", 10, 30)]
    # the removed user drops off the new year
    assert amounts(drafts[1], Section.RECURRING) == [("users", 1, 36000), ("numbers", 1, 6000)]


def test_a_29_february_annual_plan_renews_on_28_february_and_prorates_over_365_days() -> None:
    # Given an annual plan started on 29 February 2024, a number (6000) added on 2025-02-01
    terms = SubscriptionTerms(plan(Interval.ANNUAL, user=36000, number=6000),
                              date(2024, 2, 29), 1, 1)
    changes = [SeatChange(NUMBERS, 1, date(2025, 2, 1))]
    # When
    drafts = build_invoices(terms=terms, changes=changes, issued_on=date(2025, 2, 28))
    # Then: usage for [2025-01-29, 2025-02-28), then the year [2025-02-28, 2026-02-28)
    usage, annual = drafts
    assert usage.period == Period(date(2025, 1, 29), date(2025, 2, 28))
    # term [2024-02-29, 2025-02-28) has 365 days; 27 days left: 6000 * 27 / 365 = 443.8 -> 444
    assert amounts(usage, Section.PRORATA) == [("numbers", 1, 444)]
    assert annual.period == Period(date(2025, 2, 28), date(2026, 2, 28))
    assert amounts(annual, Section.RECURRING) == [("users", 1, 36000), ("numbers", 2, 12000)]


def test_a_day_that_is_not_an_anchor_is_refused() -> None:
    with pytest.raises(NotABillingDate):
        build_invoices(terms=ACME, changes=[], issued_on=date(2026, 2, 16))
    with pytest.raises(NotABillingDate):
        build_invoices(terms=ACME, changes=[], issued_on=date(2025, 12, 15))


def test_a_seat_change_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="predates"):
        build_invoices(terms=ACME, changes=[SeatChange(USERS, 1, date(2026, 1, 1))],
                       issued_on=date(2026, 1, 15))


def test_a_catch_up_after_downtime_dates_every_missed_invoice_on_its_anchor_day() -> None:
    # Given the scheduler last billed on 2026-01-15 and was down until 2026-03-18
    # When
    drafts = due_invoices(terms=ACME, changes=ACME_CHANGES, calls=ACME_CALLS,
                          after=date(2026, 1, 15), until=date(2026, 3, 18))
    # Then
    assert [(d.issued_on, d.charges.minor) for d in drafts] == [(date(2026, 2, 15), 14962),
                                                                (date(2026, 3, 15), 9600)]


def test_due_invoice_keys_list_every_candidate_and_usage_may_be_skipped_when_empty() -> None:
    # When
    keys = due_invoice_keys(terms=ANNUAL, after=date(2026, 11, 30), until=date(2027, 1, 15))
    # Then
    assert keys == [
        (date(2026, 12, 15), InvoiceKey(InvoiceKind.USAGE, date(2026, 11, 15))),
        (date(2027, 1, 15), InvoiceKey(InvoiceKind.USAGE, date(2026, 12, 15))),
        (date(2027, 1, 15), InvoiceKey(InvoiceKind.ANNUAL, date(2027, 1, 15))),
    ]
    monthly = due_invoice_keys(terms=ACME, after=None, until=date(2026, 2, 15))
    assert [key for _, key in monthly] == [InvoiceKey(InvoiceKind.MONTHLY, date(2026, 1, 15)),
                                           InvoiceKey(InvoiceKind.MONTHLY, date(2026, 2, 15))]


def test_renewal_dates_follow_the_plans_interval() -> None:
    assert renewal_dates(anchor=date(2024, 2, 29), interval=Interval.ANNUAL, after=None,
                         until=date(2026, 3, 1)) == [date(2024, 2, 29), date(2025, 2, 28),
                                                     date(2026, 2, 28)]
    assert renewal_dates(anchor=date(2026, 1, 31), interval=Interval.MONTHLY,
                         after=date(2026, 1, 31), until=date(2026, 3, 1)) == [date(2026, 2, 28)]
