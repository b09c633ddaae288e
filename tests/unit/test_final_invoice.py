"""The final invoice: prorata and minutes up to the day a subscription ends, no recurring."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.billing import InvoiceDraft, SubscriptionTerms, build_invoices
from domain.final_invoice import CannotEndThere, build_final_invoice, final_period, term_end
from domain.invoices import InvoiceKind, Period, Section
from domain.money import Money
from domain.plans import Interval, Plan, UnitKind
from domain.rate_cards import card_from_plan
from domain.seats import SeatChange
from domain.usage import CallRecord, Direction, minute_lines, usage_of

USERS, NUMBERS = UnitKind.USERS, UnitKind.NUMBERS


def plan(interval: Interval, *, user: int, number: int, minimum_users: int = 0) -> Plan:
    return Plan(interval=interval, currency="EUR", user_price=Money(user, "EUR"),
                number_price=Money(number, "EUR"), minimum_users=minimum_users,
                outbound_per_minute=Money(2, "EUR"), toll_free_per_minute=Money(3, "EUR"))


MONTHLY = SubscriptionTerms(plan(Interval.MONTHLY, user=2000, number=500), date(2026, 1, 15),
                            1, 1)
ANNUAL = SubscriptionTerms(plan(Interval.ANNUAL, user=24000, number=6000), date(2026, 1, 15),
                           1, 1)


def lines(draft: InvoiceDraft, section: Section) -> list[tuple[str, int, int]]:
    return [(line.item, line.quantity, line.amount.minor) for line in draft.lines_in(section)]


def test_a_monthly_subscription_ending_mid_period_bills_added_units_up_to_the_end_day() -> None:
    # Given a user added on 01-16 in the period [01-15, 02-15) of 31 days
    changes = [SeatChange(USERS, 1, date(2026, 1, 16))]
    # When the subscription ends on 02-11
    draft = build_final_invoice(terms=MONTHLY, changes=changes, minutes=(),
                                ends_on=date(2026, 2, 11))
    # Then the final invoice covers [01-15, 02-11), issued on the end day, with no recurring
    assert (draft.kind, draft.period, draft.issued_on) == (
        InvoiceKind.FINAL, Period(date(2026, 1, 15), date(2026, 2, 11)), date(2026, 2, 11))
    assert draft.lines_in(Section.RECURRING) == ()
    # And the user is billed 02-11 - 01-16 = 26 days: 2000 * 26 / 31 = 1677.4… → 1677
    assert lines(draft, Section.PRORATA) == [("users", 1, 1677)]
    [line] = draft.lines_in(Section.PRORATA)
    assert (line.from_on, line.to_on) == (date(2026, 1, 16), date(2026, 2, 11))


def test_an_annual_subscription_ending_mid_term_prorates_against_the_annual_term() -> None:
    # Given an annual term [2026-01-15, 2027-01-15) of 365 days, a user added on 03-20 and
    # a number on 04-01 (in the month [03-15, 04-15) in which it ends)
    changes = [SeatChange(USERS, 1, date(2026, 3, 20)), SeatChange(NUMBERS, 2, date(2026, 4, 1))]
    # When it ends on 04-10
    draft = build_final_invoice(terms=ANNUAL, changes=changes, minutes=(),
                                ends_on=date(2026, 4, 10))
    # Then the window is the month so far, [03-15, 04-10)
    assert draft.period == Period(date(2026, 3, 15), date(2026, 4, 10))
    # And the user is billed 04-10 - 03-20 = 21 days: 24000 * 21 / 365 = 1380.8… → 1381;
    # the 2 numbers 9 days: 2 * 6000 * 9 / 365 = 295.8… → 296
    assert lines(draft, Section.PRORATA) == [("users", 1, 1381), ("numbers", 2, 296)]
    assert draft.charges == Money(1381 + 296, "EUR")


def test_units_added_in_an_earlier_month_of_the_annual_term_are_not_billed_again() -> None:
    # Given a user added on 02-01, billed to the term's end on the usage invoice of 02-15
    changes = [SeatChange(USERS, 1, date(2026, 2, 1))]
    usage_invoice = build_invoices(terms=ANNUAL, changes=changes,
                                   issued_on=date(2026, 2, 15))
    assert [line.item for draft in usage_invoice for line in draft.lines] == ["users"]
    # When the subscription ends on 03-01 (window [02-15, 03-01))
    draft = build_final_invoice(terms=ANNUAL, changes=changes, minutes=(),
                                ends_on=date(2026, 3, 1))
    # Then nothing more is billed for it, and nothing of the paid year is credited
    assert draft.lines == ()


def calls(*spec: tuple[int, int, int, Direction]) -> list[CallRecord]:
    """Calls (month, day, minutes, direction) of one subscription, to a French number."""
    return [CallRecord(f"c{i}", "sub", "+33100000000", direction, "+33145000000",
                       datetime(2026, month, day, 10, tzinfo=UTC), minutes * 60)
            for i, (month, day, minutes, direction) in enumerate(spec)]


def minutes_of(records: list[CallRecord], terms: SubscriptionTerms) -> tuple:
    card = card_from_plan(terms.plan)
    return minute_lines(card=card, usage=usage_of(records, card))


OUT, TOLL_FREE = Direction.OUTBOUND, Direction.INBOUND_TOLL_FREE


def test_the_final_invoice_bills_the_unbilled_calls_it_is_given_and_marks_them() -> None:
    # Given the unbilled calls started before the end day 03-02 (the handler sums them in
    # SQL; calls from the end day on are never given: there is no service then)
    records = calls((2, 20, 100, OUT), (2, 20, 10, TOLL_FREE), (3, 1, 40, OUT))
    # When a monthly subscription ends on 03-02 (window [02-15, 03-02))
    draft = build_final_invoice(terms=MONTHLY, changes=[], ends_on=date(2026, 3, 2),
                                minutes=minutes_of(records, MONTHLY))
    # Then (100 + 40) * 2 = 280 outbound, 10 * 3 = 30 toll-free, and the draft bills them
    assert [(quantity, amount) for _, quantity, amount in lines(draft, Section.MINUTES)] == [
        (140, 280), (10, 30)]
    assert draft.bills_minutes


def test_ending_at_the_end_of_the_term_bills_what_the_renewal_would_have_less_recurring() -> None:
    # Given a user added on 01-25 and minutes on 02-03
    changes = [SeatChange(USERS, 1, date(2026, 1, 25))]
    minutes = minutes_of(calls((2, 3, 50, OUT)), MONTHLY)
    # When the subscription ends on its renewal date 02-15
    draft = build_final_invoice(terms=MONTHLY, changes=changes, minutes=minutes,
                                ends_on=date(2026, 2, 15))
    [renewal] = build_invoices(terms=MONTHLY, changes=changes, minutes=minutes,
                               issued_on=date(2026, 2, 15))
    # Then the prorata (2000 * 21 / 31 = 1354.8… → 1355) and the minutes (100) are the
    # renewal's, and there is no recurring for a month that will not come
    assert lines(draft, Section.PRORATA) == lines(renewal, Section.PRORATA) == [
        ("users", 1, 1355)]
    assert lines(draft, Section.MINUTES) == lines(renewal, Section.MINUTES)
    assert [amount for _, _, amount in lines(draft, Section.MINUTES)] == [100]
    assert draft.period == Period(date(2026, 1, 15), date(2026, 2, 15))
    assert draft.lines_in(Section.RECURRING) == ()


def test_a_minimum_commitment_absorbs_the_units_added_before_the_end() -> None:
    # Given a minimum of 2 users with 1 in use: adding 2 users prorates 1
    terms = SubscriptionTerms(plan(Interval.MONTHLY, user=3100, number=0, minimum_users=2),
                              date(2026, 1, 15), 1, 0)
    draft = build_final_invoice(terms=terms, changes=[SeatChange(USERS, 2, date(2026, 2, 5))],
                                minutes=(), ends_on=date(2026, 2, 10))
    # Then 1 user for 5 days: 3100 * 5 / 31 = 500
    assert lines(draft, Section.PRORATA) == [("users", 1, 500)]


def test_an_end_on_or_before_the_first_day_is_refused() -> None:
    with pytest.raises(CannotEndThere, match="must end after its first day"):
        final_period(terms=MONTHLY, ends_on=date(2026, 1, 15))


def test_the_end_of_the_term_is_the_next_renewal_date_of_the_plan() -> None:
    # Then monthly: the next monthly anchor; annual: the next anniversary
    assert term_end(terms=MONTHLY, today=date(2026, 3, 20)) == date(2026, 4, 15)
    assert term_end(terms=MONTHLY, today=date(2026, 3, 15)) == date(2026, 4, 15)
    assert term_end(terms=ANNUAL, today=date(2026, 3, 20)) == date(2027, 1, 15)
