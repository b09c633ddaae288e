"""Seats: how many users and numbers a subscription holds, and what is billable when.

Day granularity: a change dated D takes effect *on* D, so it belongs to the period that
contains D. A renewal on D bills the units in use at the start of D (changes dated before
D); a unit added on the renewal day itself is a change inside the new period and is
prorated on the next invoice (for the whole period, i.e. exactly its price). This keeps the
invoice independent of whether the renewal ran before or after that day's changes.

Within a term that is already billed (a month for monthly plans, a year for annual ones),
the term has paid for ``max(units at its start, minimum)`` units. Only units *above the
highest count already billed in the term* are prorated, so a unit removed and re-added
within the term is not billed twice, and the minimum commitment absorbs the first adds.
Removed units stay billed to the end of the term: recurring is billed in advance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.invoices import Period
from domain.plans import UnitKind


@dataclass(frozen=True, slots=True)
class SeatChange:
    """`delta` units of `kind` added (> 0) or removed (< 0) on `on`."""

    kind: UnitKind
    delta: int
    on: date


@dataclass(frozen=True, slots=True)
class SeatIncrement:
    """`quantity` units of `kind` to prorate from `on` (inclusive) to the term's end."""

    kind: UnitKind
    quantity: int
    on: date


def billable(units: int, minimum: int) -> int:
    """Units billed for a period: those in use, but at least the minimum commitment."""
    return max(units, minimum)


def _of_kind(changes: Iterable[SeatChange], kind: UnitKind) -> list[SeatChange]:
    # sorted() is stable: changes on the same day apply in the order they were recorded.
    return sorted((c for c in changes if c.kind is kind), key=lambda c: c.on)


def units_at(*, initial: int, changes: Iterable[SeatChange], kind: UnitKind,
             day: date) -> int:
    """Units of `kind` in use at the start of `day` (changes dated before `day`).

    Raises: ValueError if the changes would take the count below zero.
    """
    units = initial
    for change in _of_kind(changes, kind):
        if change.on >= day:
            break
        units += change.delta
        _check_non_negative(units, change)
    return units


def increments_in_term(*, initial: int, changes: Iterable[SeatChange], kind: UnitKind,
                       minimum: int, term: Period) -> list[SeatIncrement]:
    """The units of `kind` added during `term` beyond what the term already billed.

    Parameters:
        initial: units at the subscription's start (before any change).
        changes: every seat change of the subscription (any kind, any date).
        minimum: the plan's minimum commitment for `kind`.
        term: the already-billed term (monthly period, or annual term).
    Returns: one increment per day on which the running peak of units rose above
        everything billed so far in the term, in date order.

    Example: minimum 2 users, 1 in use at the term's start (2 billed); +2 on day 10 → 3 in
    use, 1 above the 2 billed → increment of 1; -1 on day 12, +1 on day 20 → back to 3,
    not above the peak of 3 → nothing more.
    """
    kind_changes = _of_kind(changes, kind)
    units = units_at(initial=initial, changes=kind_changes, kind=kind, day=term.start)
    covered = billable(units, minimum)
    by_day: dict[date, int] = {}
    for change in kind_changes:
        if change.on not in term:
            continue
        units += change.delta
        _check_non_negative(units, change)
        if units > covered:
            by_day[change.on] = by_day.get(change.on, 0) + units - covered
            covered = units
    return [SeatIncrement(kind, quantity, day) for day, quantity in sorted(by_day.items())]


def _check_non_negative(units: int, change: SeatChange) -> None:
    if units < 0:
        raise ValueError(f"{change.kind} would drop to {units} on {change.on}")
