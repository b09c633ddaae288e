"""Billing periods: anchor dates that renew monthly or yearly.

A subscription is anchored on the day it started. Monthly plans renew on that day each
month, annual plans on that day each year. An anchor the month lacks (the 31st, 29 February)
falls on that month's last day, and the *next* period returns to the anchor:

    anchor 2026-01-31: 2026-01-31 → 2026-02-28 → 2026-03-31 → 2026-04-30 → 2026-05-31
    anchor 2024-02-29 (annual): 2024-02-29 → 2025-02-28 → 2026-02-28 → 2028-02-29

Anchor dates are always computed from the original anchor, never from the previous date,
so a short month never shifts the dates after it. Periods are half-open [start, end).
"""

from __future__ import annotations

import calendar
from datetime import date

from domain.invoices import Period


def anchor_in_month(anchor: date, year: int, month: int) -> date:
    """The anchor's day in `year`-`month`, or that month's last day if the month is shorter."""
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor.day, last_day))


def nth_anchor(anchor: date, months_after: int) -> date:
    """The anchor date `months_after` months after `anchor` (negative: before it).

    >>> nth_anchor(date(2026, 1, 31), 1), nth_anchor(date(2026, 1, 31), 2)
    (datetime.date(2026, 2, 28), datetime.date(2026, 3, 31))
    """
    year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + months_after, 12)
    return anchor_in_month(anchor, year, month_index + 1)


def nth_period(anchor: date, interval_months: int, index: int) -> Period:
    """The `index`-th period (0 = the one starting on `anchor`) of `interval_months` months."""
    _check_interval(interval_months)
    return Period(nth_anchor(anchor, index * interval_months),
                  nth_anchor(anchor, (index + 1) * interval_months))


def period_index(anchor: date, interval_months: int, day: date) -> int:
    """The index of the period that contains `day` (negative before the anchor)."""
    _check_interval(interval_months)
    months = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = months // interval_months
    # The month arithmetic is off by at most one period: the day of month decides.
    while nth_anchor(anchor, index * interval_months) > day:
        index -= 1
    while nth_anchor(anchor, (index + 1) * interval_months) <= day:
        index += 1
    return index


def period_containing(anchor: date, interval_months: int, day: date) -> Period:
    """The half-open period [start, end) of `interval_months` months that contains `day`.

    >>> period_containing(date(2026, 1, 31), 1, date(2026, 3, 15))
    Period(start=datetime.date(2026, 2, 28), end=datetime.date(2026, 3, 31))
    """
    return nth_period(anchor, interval_months, period_index(anchor, interval_months, day))


def is_anchor_date(anchor: date, interval_months: int, day: date) -> bool:
    """Whether `day` starts a period (on or after the anchor itself)."""
    return day >= anchor and period_containing(anchor, interval_months, day).start == day


def renewal_dates_between(anchor: date, interval_months: int, after_exclusive: date | None,
                          until_inclusive: date) -> list[date]:
    """The period starts in (after_exclusive, until_inclusive], never before the anchor.

    Parameters: `after_exclusive` is the last day already processed (None: nothing yet, so
    the anchor itself is included).
    Returns: the dates in ascending order; a catch-up after downtime gets every missed date.
    """
    _check_interval(interval_months)
    index = 0 if after_exclusive is None else max(
        0, period_index(anchor, interval_months, after_exclusive))
    dates: list[date] = []
    while (day := nth_anchor(anchor, index * interval_months)) <= until_inclusive:
        if after_exclusive is None or day > after_exclusive:
            dates.append(day)
        index += 1
    return dates


def _check_interval(interval_months: int) -> None:
    if interval_months <= 0:
        raise ValueError(f"interval must be a positive number of months, got {interval_months}")
