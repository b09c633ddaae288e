"""Proration by days, in integer arithmetic, rounded half-up once per line.

The rule (design §1): ``amount = price * quantity * days_remaining / days_in_period``, where
`days_in_period` is the length of the billing period the units were added in (monthly plans:
that month's period; annual plans: the annual term) and `days_remaining` runs from the day
the units were added to the end of that period (exclusive end). The exact fraction is rounded
half-up to the currency's minor unit once, for the whole line: never per unit, never per day.

Worked examples:

- Monthly plan, user 30.00 EUR (3000), anchor 15th. A user added on 2026-01-25 in the period
  [2026-01-15, 2026-02-15) of 31 days is billed 21 days (2026-02-15 - 2026-01-25):
  3000 * 21 / 31 = 2032.258… → 2032 (20.32 EUR).
- The same user added on 2026-01-15 (the whole period): 3000 * 31 / 31 = 3000 exactly.
- Two numbers at 5.00 EUR (500) added on 2026-02-20 in [2026-02-15, 2026-03-15) of 28 days:
  2 * 500 * 23 / 28 = 821.428… → 821 (rounded once, not 2 * 411 = 822).
- Half a cent rounds up: 1 * 1 * 1 / 2 = 0.5 → 1.
- JPY has no minor digits: 1000 JPY * 10 / 30 = 333.33… → 333 JPY.
"""

from __future__ import annotations

from domain.money import Money


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves away from zero.

    Integer arithmetic only: for a non-negative fraction, ``(2n + d) // (2d)``.
    """
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def prorate(*, price: Money, quantity: int, days: int, period_days: int) -> Money:
    """What `quantity` units at `price` per period cost for `days` of a `period_days` period.

    Parameters:
        price: the unit price for the whole period (monthly or annual price).
        quantity: the number of units, >= 0.
        days: the days billed, 0 <= days <= period_days.
        period_days: the length of the billing period the units were added in.
    Returns: the line amount, rounded half-up once; `days == period_days` gives exactly
        ``price * quantity``.
    Raises: ValueError on a negative price or quantity, or days outside the period.
    """
    if price.minor < 0 or quantity < 0:
        raise ValueError("cannot prorate a negative price or quantity")
    if period_days <= 0 or not 0 <= days <= period_days:
        raise ValueError(f"cannot bill {days} days of a {period_days}-day period")
    return Money(round_half_up(price.minor * quantity * days, period_days), price.currency)
