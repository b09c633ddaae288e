"""Call minutes: recorded per day, billed for the past period on the next invoice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.invoices import InvoiceLine, Period, Section
from domain.money import Money
from domain.plans import Plan


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Minutes used on `on`: outbound calls, and inbound calls to toll-free numbers."""

    on: date
    outbound_minutes: int = 0
    toll_free_minutes: int = 0

    def __post_init__(self) -> None:
        for minutes in (self.outbound_minutes, self.toll_free_minutes):
            if type(minutes) is not int or minutes < 0:
                raise ValueError(f"minutes must be a non-negative int, got {minutes!r}")


@dataclass(frozen=True, slots=True)
class UsageTotals:
    outbound_minutes: int = 0
    toll_free_minutes: int = 0


def usage_in(records: Iterable[UsageRecord], period: Period) -> UsageTotals:
    """The minutes recorded on days inside the half-open `period`."""
    outbound = toll_free = 0
    for record in records:
        if record.on in period:
            outbound += record.outbound_minutes
            toll_free += record.toll_free_minutes
    return UsageTotals(outbound, toll_free)


def minute_lines(*, plan: Plan, records: Iterable[UsageRecord],
                 period: Period) -> tuple[InvoiceLine, ...]:
    """The MINUTES section for `period`: minutes * the plan's per-minute rate.

    A line is left out when no minutes were used or the plan has no rate for them.
    """
    totals = usage_in(records, period)
    rated: tuple[tuple[str, str, int, Money | None], ...] = (
        ("outbound_minutes", "Outbound call minutes", totals.outbound_minutes,
         plan.outbound_per_minute),
        ("toll_free_minutes", "Inbound minutes on toll-free numbers", totals.toll_free_minutes,
         plan.toll_free_per_minute),
    )
    return tuple(
        InvoiceLine(section=Section.MINUTES, description=description, quantity=minutes,
                    unit_amount=rate, amount=rate * minutes, item=item)
        for item, description, minutes, rate in rated
        if minutes > 0 and rate is not None
    )
