"""Proration: price * quantity * days / period days, rounded half-up once per line."""

from __future__ import annotations

import pytest

from domain.money import Money
from domain.proration import prorate, round_half_up


def test_a_user_added_ten_days_into_a_31_day_month_is_billed_21_of_31_days() -> None:
    # Given a monthly plan at 30.00 EUR per user, anchored on the 15th; a user added on
    # 2026-01-25 in the period [2026-01-15, 2026-02-15) of 31 days
    # When: 2026-02-15 - 2026-01-25 = 21 days
    amount = prorate(price=Money(3000, "EUR"), quantity=1, days=21, period_days=31)
    # Then: 3000 * 21 / 31 = 2032.258... -> 2032
    assert amount == Money(2032, "EUR")


def test_a_unit_held_the_whole_period_prorates_to_exactly_its_price() -> None:
    # 3000 * 31 / 31 = 3000; 36000 * 366 / 366 = 36000
    assert prorate(price=Money(3000, "EUR"), quantity=1, days=31, period_days=31) == Money(
        3000, "EUR")
    assert prorate(price=Money(36000, "EUR"), quantity=2, days=366, period_days=366) == Money(
        72000, "EUR")


def test_a_line_is_rounded_once_not_unit_by_unit() -> None:
    # Given two numbers at 5.00 EUR added with 23 days left of a 28-day period
    # When: 2 * 500 * 23 / 28 = 821.428...
    amount = prorate(price=Money(500, "EUR"), quantity=2, days=23, period_days=28)
    # Then: 821, not 2 * round(410.71) = 822
    assert amount == Money(821, "EUR")


def test_half_a_minor_unit_rounds_up() -> None:
    # 1 * 1 * 1 / 2 = 0.5 -> 1;  3 * 1 * 1 / 2 = 1.5 -> 2;  1 * 1 * 1 / 3 = 0.33 -> 0
    assert prorate(price=Money(1, "EUR"), quantity=1, days=1, period_days=2) == Money(1, "EUR")
    assert prorate(price=Money(3, "EUR"), quantity=1, days=1, period_days=2) == Money(2, "EUR")
    assert prorate(price=Money(1, "EUR"), quantity=1, days=1, period_days=3) == Money(0, "EUR")


def test_yen_prorate_to_whole_yen() -> None:
    # JPY has exponent 0: 1000 * 10 / 30 = 333.33... -> 333 yen; 1000 * 15 / 30 = 500
    assert prorate(price=Money(1000, "JPY"), quantity=1, days=10, period_days=30) == Money(
        333, "JPY")
    assert prorate(price=Money(1000, "JPY"), quantity=1, days=15, period_days=30) == Money(
        500, "JPY")


def test_an_annual_unit_added_mid_term_is_prorated_against_the_terms_days() -> None:
    # Given an annual user at 360.00 EUR, term [2026-01-15, 2027-01-15) of 365 days, added
    # on 2026-03-20: 301 days to the term's end
    amount = prorate(price=Money(36000, "EUR"), quantity=1, days=301, period_days=365)
    # Then: 36000 * 301 / 365 = 29687.67... -> 29688
    assert amount == Money(29688, "EUR")


@pytest.mark.parametrize(("numerator", "denominator", "rounded"),
                         [(5, 2, 3), (7, 3, 2), (-5, 2, -3), (-7, 3, -2), (0, 7, 0)])
def test_rounding_half_up_rounds_halves_away_from_zero(numerator: int, denominator: int,
                                                        rounded: int) -> None:
    assert round_half_up(numerator, denominator) == rounded


@pytest.mark.parametrize("kwargs", [
    {"quantity": -1, "days": 1, "period_days": 30},
    {"quantity": 1, "days": 31, "period_days": 30},
    {"quantity": 1, "days": -1, "period_days": 30},
    {"quantity": 1, "days": 0, "period_days": 0},
])
def test_impossible_proration_inputs_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="cannot"):
        prorate(price=Money(3000, "EUR"), **kwargs)
