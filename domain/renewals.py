"""Which invoices are due by a date: what the scheduler asks, and how it catches up.

An invoice is always dated on its anchor day, even if the scheduler runs days later
(downtime): a renewal missed by 3 days is issued with `issued_on` = the anchor day, and its
contents only read changes and usage dated before that day.

Suggested use by the renewal handler, per subscription, in one transaction per date:

    for day in billing_dates(terms=terms, after=billed_through, until=today):
        for draft in build_invoices(terms=terms, changes=..., usage=..., issued_on=day):
            insert unless an invoice with (subscription, draft.key) exists
        billed_through = day
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from domain.billing import InvoiceDraft, InvoiceKey, SubscriptionTerms, build_invoices
from domain.invoices import InvoiceKind
from domain.periods import nth_anchor, period_index, renewal_dates_between
from domain.plans import Interval
from domain.seats import SeatChange
from domain.usage import UsageRecord


def renewal_dates(*, anchor: date, interval: Interval, after: date | None,
                  until: date) -> list[date]:
    """The plan's own renewal dates in (after, until]: monthly anchors, or anniversaries."""
    return renewal_dates_between(anchor, interval.months, after, until)


def billing_dates(*, terms: SubscriptionTerms, after: date | None, until: date) -> list[date]:
    """The days in (after, until] on which the subscription may be invoiced.

    Every plan invoices on its monthly anchor days: monthly plans renew then, annual plans
    get their usage invoice (and, on anniversaries, the annual one). `after` None includes
    the start date.
    """
    return renewal_dates_between(terms.started_on, 1, after, until)


def due_invoice_keys(*, terms: SubscriptionTerms, after: date | None,
                     until: date) -> list[tuple[date, InvoiceKey]]:
    """(issue date, key) of every invoice that may be due in (after, until], oldest first.

    Needs no history: USAGE keys are candidates, and `build_invoices` skips a USAGE
    invoice that would have no line. MONTHLY and ANNUAL invoices are always issued.
    """
    start = terms.started_on
    keys: list[tuple[date, InvoiceKey]] = []
    for day in billing_dates(terms=terms, after=after, until=until):
        month = period_index(start, 1, day)
        if terms.plan.interval is Interval.MONTHLY:
            keys.append((day, InvoiceKey(InvoiceKind.MONTHLY, day)))
            continue
        if month > 0:
            keys.append((day, InvoiceKey(InvoiceKind.USAGE, nth_anchor(start, month - 1))))
        if month % 12 == 0:
            keys.append((day, InvoiceKey(InvoiceKind.ANNUAL, day)))
    return keys


def due_invoices(*, terms: SubscriptionTerms, changes: Sequence[SeatChange],
                 usage: Iterable[UsageRecord], after: date | None,
                 until: date) -> tuple[InvoiceDraft, ...]:
    """Every invoice draft dated in (after, until], oldest first (catch-up after downtime)."""
    records = tuple(usage)
    return tuple(
        draft
        for day in billing_dates(terms=terms, after=after, until=until)
        for draft in build_invoices(terms=terms, changes=changes, usage=records, issued_on=day)
    )
