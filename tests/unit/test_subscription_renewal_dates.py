"""How far a renewal may go, and where it leaves the subscription, as both renewal paths
(one at a time, in batches) ask the domain: pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.renewal_batch import renewed_to
from domain.renewals import billing_dates
from domain.subscriptions import Subscription, SubscriptionTerms
from tests.builders import a_plan

MARCH_1, APRIL_1, MAY_1 = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)


def _monthly() -> Subscription:
    return Subscription.start(id="sub_1", account_id="acc_1", terms=SubscriptionTerms(
        plan=a_plan(), started_on=MARCH_1, users=3, numbers=1))


def test_a_subscription_that_does_not_end_renews_up_to_the_day_asked() -> None:
    assert _monthly().renews_until(MAY_1) == MAY_1


def test_one_that_ends_renews_up_to_the_day_before_its_end_at_most() -> None:
    ending = replace(_monthly(), ends_on=APRIL_1)
    assert ending.renews_until(MAY_1) == date(2026, 3, 31)
    assert ending.renews_until(date(2026, 3, 15)) == date(2026, 3, 15)


def test_a_renewal_leaves_it_billed_through_its_last_day_and_due_on_the_next_anchor() -> None:
    subscription = _monthly()
    days = billing_dates(terms=subscription.terms, after=None, until=date(2026, 4, 10))
    assert days == [MARCH_1, APRIL_1]
    assert renewed_to(subscription, days=days, until=date(2026, 4, 10)) == (APRIL_1, MAY_1)
    # Nothing issued: it stays billed through where it was (or the day renewed to)
    assert renewed_to(replace(subscription, billed_through=APRIL_1), days=[],
                      until=date(2026, 4, 10)) == (APRIL_1, MAY_1)
    assert renewed_to(subscription, days=[], until=date(2026, 2, 20)) == \
        (date(2026, 2, 20), MARCH_1)
