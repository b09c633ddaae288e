"""The invoice builder: which invoices a billing date produces for one subscription.

Every plan invoices on its monthly anchor days (see domain/periods.py), starting with the
day it started:

- monthly plan, on each anchor day D: one MONTHLY invoice for [D, next anchor) with
  RECURRING (units for the coming month), PRORATA (units added in [previous D, D) beyond
  what that month already billed, to D) and MINUTES (the calls not billed yet that started
  before D: see domain/usage.py).
  The first one (D = start) holds recurring only.
- annual plan, on each monthly anchor day D after the start: a USAGE invoice for
  [previous D, D) with PRORATA (units added that month beyond what the annual term already
  billed, from the day added to the end of the annual term, at the annual price against the
  term's days) and MINUTES; skipped when it has no line. On each anniversary (the start
  included) an ANNUAL invoice for [D, D + 12 months) with RECURRING for the whole year.
  On an anniversary the USAGE invoice (the past month) comes first, then the ANNUAL one.

The builder recomputes from the subscription's history, so it is deterministic: the same
inputs always give the same drafts. The caller persists them (ids, numbers, previous amount
due via domain/balance_forward.py) keyed by `InvoiceDraft.key` for idempotency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from domain.invoices import InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money, sum_money
from domain.periods import is_anchor_date, nth_period, period_index
from domain.plans import Interval, Plan, UnitKind
from domain.proration import prorate
from domain.seats import SeatChange, billable, increments_in_term, units_at

_LABELS = {UnitKind.USERS: "Users", UnitKind.NUMBERS: "Numbers"}


class NotABillingDate(ValueError):
    """`build_invoices` was asked for a day that is not one of the subscription's anchors."""


@dataclass(frozen=True, slots=True)
class SubscriptionTerms:
    """What was subscribed: the plan, the start (anchor) date and the initial units."""

    plan: Plan
    started_on: date
    users: int
    numbers: int

    def __post_init__(self) -> None:
        if self.users < 0 or self.numbers < 0:
            raise ValueError("a subscription cannot start with negative units")

    def initial(self, kind: UnitKind) -> int:
        return self.users if kind is UnitKind.USERS else self.numbers


@dataclass(frozen=True, slots=True)
class InvoiceKey:
    """Identifies an invoice of a subscription: at most one per (kind, period start)."""

    kind: InvoiceKind
    period_start: date


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """An invoice before persistence: no id, number, previous amount due or status yet."""

    kind: InvoiceKind
    period: Period
    issued_on: date
    currency: str
    lines: tuple[InvoiceLine, ...]
    #: This invoice bills the subscription's unbilled calls started before `issued_on`
    #: (whether or not they cost anything): the caller marks them billed by it.
    bills_minutes: bool = False

    @property
    def key(self) -> InvoiceKey:
        return InvoiceKey(self.kind, self.period.start)

    @property
    def charges(self) -> Money:
        """The sum of the lines: what the `invoice_issued` ledger entry debits."""
        return sum_money([line.amount for line in self.lines], self.currency)

    def lines_in(self, section: Section) -> tuple[InvoiceLine, ...]:
        return tuple(line for line in self.lines if line.section is section)


def build_invoices(*, terms: SubscriptionTerms, changes: Sequence[SeatChange],
                   issued_on: date, minutes: Sequence[InvoiceLine] = ()
                   ) -> tuple[InvoiceDraft, ...]:
    """The invoice drafts dated `issued_on`, a monthly anchor day of the subscription.

    Parameters: `changes`: the subscription's history, at least everything dated before
    `issued_on` (later changes are ignored, so an invoice never changes once its date has
    passed); a change dated `issued_on` belongs to the new period. `minutes`: the MINUTES
    lines of the calls not billed yet that started before `issued_on` (domain/usage.py);
    they go on the draft with `bills_minutes` (none on a monthly plan's first invoice).
    Returns: MONTHLY (monthly plans), or USAGE and/or ANNUAL (annual plans), in issue order.
    Raises: NotABillingDate; ValueError for changes before the start or below zero units.
    """
    start = terms.started_on
    if not is_anchor_date(start, 1, issued_on):
        raise NotABillingDate(f"{issued_on} is not a billing date of a plan started {start}")
    if any(change.on < start for change in changes):
        raise ValueError(f"a seat change predates the subscription's start {start}")
    month = period_index(start, 1, issued_on)
    plan = terms.plan
    past_month = nth_period(start, 1, month - 1) if month > 0 else None
    if plan.interval is Interval.MONTHLY:
        lines = _recurring(terms, changes, issued_on, "upcoming month")
        if past_month is not None:
            lines += _prorata(terms, changes, term=past_month, window=past_month)
            lines += tuple(minutes)
        return (_draft(InvoiceKind.MONTHLY, nth_period(start, 1, month), issued_on, terms, lines,
                       bills_minutes=past_month is not None),)
    drafts: list[InvoiceDraft] = []
    if past_month is not None:
        term = nth_period(start, 12, (month - 1) // 12)
        lines = _prorata(terms, changes, term=term, window=past_month)
        lines += tuple(minutes)
        if lines:
            drafts.append(_draft(InvoiceKind.USAGE, past_month, issued_on, terms, lines,
                                 bills_minutes=True))
    if month % 12 == 0:
        lines = _recurring(terms, changes, issued_on, "coming year")
        drafts.append(_draft(InvoiceKind.ANNUAL, nth_period(start, 12, month // 12), issued_on,
                             terms, lines))
    return tuple(drafts)


def _draft(kind: InvoiceKind, period: Period, issued_on: date, terms: SubscriptionTerms,
           lines: Iterable[InvoiceLine], *, bills_minutes: bool = False) -> InvoiceDraft:
    return InvoiceDraft(kind, period, issued_on, terms.plan.currency, tuple(lines),
                        bills_minutes)


def _recurring(terms: SubscriptionTerms, changes: Sequence[SeatChange], day: date,
               label: str) -> tuple[InvoiceLine, ...]:
    lines = []
    for kind in UnitKind:
        in_use = units_at(initial=terms.initial(kind), changes=changes, kind=kind, day=day)
        quantity = billable(in_use, terms.plan.minimum(kind))
        if quantity:
            price = terms.plan.unit_price(kind)
            lines.append(InvoiceLine(
                section=Section.RECURRING, description=f"{_LABELS[kind]} — {label}",
                quantity=quantity, unit_amount=price, amount=price * quantity, item=kind.value))
    return tuple(lines)


def _prorata(terms: SubscriptionTerms, changes: Sequence[SeatChange], *, term: Period,
             window: Period, until: date | None = None) -> tuple[InvoiceLine, ...]:
    """Increments of `term` dated inside `window`, each prorated to the end of `term` (or to
    `until`, the day a subscription ends inside the term: domain/final_invoice.py).

    `unit_amount` is the full unit price for the term; `amount` the prorated line total.
    """
    end = term.end if until is None else until
    lines = []
    for kind in UnitKind:
        price = terms.plan.unit_price(kind)
        for increment in increments_in_term(initial=terms.initial(kind), changes=changes,
                                            kind=kind, minimum=terms.plan.minimum(kind),
                                            term=term):
            if increment.on not in window:
                continue
            amount = prorate(price=price, quantity=increment.quantity,
                             days=(end - increment.on).days, period_days=term.days)
            lines.append(InvoiceLine(
                section=Section.PRORATA,
                description=f"{_LABELS[kind]} added on {increment.on.isoformat()} (prorata)",
                quantity=increment.quantity, unit_amount=price, amount=amount,
                from_on=increment.on, to_on=end, item=kind.value))
    return tuple(lines)
