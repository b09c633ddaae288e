"""Periods: anchors on the start day, short months fall on their last day and bounce back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.invoices import Period
from domain.periods import (
    anchor_in_month,
    is_anchor_date,
    nth_anchor,
    period_containing,
    renewal_dates_between,
)


def test_a_31st_anchor_falls_on_the_last_day_of_short_months_and_returns_to_the_31st() -> None:
    # Given a monthly subscription started on 31 January 2026
    anchor = date(2026, 1, 31)
    # When
    dates = [nth_anchor(anchor, n) for n in range(5)]
    # Then: February has 28 days in 2026, April 30; March and May are back on the 31st
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31),
                     date(2026, 4, 30), date(2026, 5, 31)]


def test_a_31st_anchor_falls_on_29_february_in_a_leap_year() -> None:
    assert anchor_in_month(date(2027, 12, 31), 2028, 2) == date(2028, 2, 29)


def test_a_29_february_annual_anchor_renews_on_28_february_until_the_next_leap_year() -> None:
    # Given an annual subscription started on 29 February 2024
    anchor = date(2024, 2, 29)
    # When
    anniversaries = [nth_anchor(anchor, 12 * n) for n in range(5)]
    # Then
    assert anniversaries == [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28),
                             date(2027, 2, 28), date(2028, 2, 29)]


def test_a_period_is_half_open_so_its_end_day_starts_the_next_one() -> None:
    # Given
    anchor = date(2026, 1, 15)
    # When
    before_end = period_containing(anchor, 1, date(2026, 2, 14))
    on_end = period_containing(anchor, 1, date(2026, 2, 15))
    # Then
    assert before_end == Period(date(2026, 1, 15), date(2026, 2, 15))
    assert on_end == Period(date(2026, 2, 15), date(2026, 3, 15))


def test_the_period_containing_a_day_after_a_short_month_starts_on_the_last_day() -> None:
    # 2026-03-15 lies in [2026-02-28, 2026-03-31) of a 31st anchor: 31 days.
    period = period_containing(date(2026, 1, 31), 1, date(2026, 3, 15))
    assert period == Period(date(2026, 2, 28), date(2026, 3, 31))
    assert period.days == 31


def test_an_annual_term_holds_366_days_when_it_spans_a_29_february() -> None:
    term = period_containing(date(2027, 6, 1), 12, date(2028, 3, 1))
    assert term == Period(date(2027, 6, 1), date(2028, 6, 1))
    assert term.days == 366


def test_renewal_dates_include_the_anchor_when_nothing_was_processed_yet() -> None:
    dates = renewal_dates_between(date(2026, 1, 31), 1, None, date(2026, 3, 31))
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_renewal_dates_catch_up_every_date_missed_after_the_last_processed_one() -> None:
    # Given the scheduler last ran on 2026-02-10 and comes back on 2026-04-20
    anchor = date(2026, 1, 15)
    # When
    dates = renewal_dates_between(anchor, 1, date(2026, 2, 10), date(2026, 4, 20))
    # Then each missed renewal keeps its own anchor day
    assert dates == [date(2026, 2, 15), date(2026, 3, 15), date(2026, 4, 15)]


def test_renewal_dates_exclude_the_last_processed_day_and_anything_before_the_anchor() -> None:
    anchor = date(2026, 1, 15)
    assert renewal_dates_between(anchor, 1, date(2026, 2, 15), date(2026, 3, 14)) == []
    assert renewal_dates_between(anchor, 12, date(2025, 1, 1), date(2026, 1, 14)) == []


def test_a_day_before_the_anchor_is_not_an_anchor_date() -> None:
    assert is_anchor_date(date(2026, 1, 15), 1, date(2026, 2, 15))
    assert not is_anchor_date(date(2026, 1, 15), 1, date(2025, 12, 15))
    assert not is_anchor_date(date(2026, 1, 15), 1, date(2026, 2, 16))


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        period_containing(date(2026, 1, 15), 0, date(2026, 1, 20))


@given(anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
       offset=st.integers(min_value=-400, max_value=4000),
       interval=st.sampled_from([1, 12]))
def test_consecutive_periods_tile_time_and_the_containing_one_holds_the_day(
        anchor: date, offset: int, interval: int) -> None:
    # Given any day near the anchor
    day = anchor + timedelta(days=offset)
    # When
    period = period_containing(anchor, interval, day)
    following = period_containing(anchor, interval, period.end)
    # Then
    assert day in period
    assert following.start == period.end
    month_end = (period.start.replace(day=28) + timedelta(days=4)).replace(day=1)
    assert period.start.day == anchor.day or period.start + timedelta(days=1) == month_end
    assert 28 <= period.days <= 31 if interval == 1 else 365 <= period.days <= 366
