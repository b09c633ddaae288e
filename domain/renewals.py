"""Which invoices are due by a date: what the scheduler asks, and how it catches up.

An invoice is always dated on its anchor day, even if the scheduler runs days later
(downtime): a renewal missed by 3 days is issued with `issued_on` = the anchor day, and its
contents only read changes dated before that day, and calls not billed yet that started
before it (a late call goes on the next invoice).

Suggested use by the renewal handler, per subscription, in one transaction per date:

    for day in billing_dates(terms=terms, after=billed_through, until=today):
        minutes = minute_lines(card=..., usage=<unbilled calls started before day>)
        for draft in build_invoices(terms=terms, changes=..., minutes=minutes, issued_on=day):
            insert unless an invoice with (subscription, draft.key) exists
            if draft.bills_minutes: mark those calls billed by it
        billed_through = day
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from domain.billing import InvoiceDraft, InvoiceKey, SubscriptionTerms, build_invoices
from domain.invoices import InvoiceKind
from domain.periods import nth_anchor, period_index, renewal_dates_between
from domain.plans import Interval
from domain.rate_cards import RateCard, card_from_plan
from domain.seats import SeatChange
from domain.usage import CallRecord, cutoff, minute_lines, usage_of


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
                 calls: Iterable[CallRecord] = (), card: RateCard | None = None,
                 after: date | None, until: date) -> tuple[InvoiceDraft, ...]:
    """Every invoice draft dated in (after, until], oldest first (catch-up after downtime).

    Each draft that bills minutes takes the calls started before its date that no earlier
    draft billed: what the renewal handler does with the database (call records carry the
    invoice that billed them). `card` None: the plan's per-minute rates (`card_from_plan`).
    """
    rates = card or card_from_plan(terms.plan)
    pending = list(calls)
    drafts: list[InvoiceDraft] = []
    for day in billing_dates(terms=terms, after=after, until=until):
        due = [call for call in pending if call.started_at < cutoff(day)]
        lines = minute_lines(card=rates, usage=usage_of(due, rates))
        for draft in build_invoices(terms=terms, changes=changes, minutes=lines, issued_on=day):
            drafts.append(draft)
            if draft.bills_minutes:
                billed = {call.id for call in due}
                pending = [call for call in pending if call.id not in billed]
                due = []
    return tuple(drafts)
