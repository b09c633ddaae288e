"""The final invoice: what a subscription owes when it ends, and on which day it may end.

A subscription ends on `ends_on`, the first day without service (periods are half-open, so
`ends_on` is also the end of the final invoice's period and its issue date). The final
invoice is issued on `ends_on` *instead of* any renewal dated that day or later, and holds,
for the window [the last monthly anchor before `ends_on`, `ends_on`):

- PRORATA: units added in the window beyond what the current term already billed, from the
  day added to `ends_on` (not to the term's end: the service stops that day), at the unit
  price for the term against the term's days (a monthly period, or the annual term);
- MINUTES: the minutes used in the window;
- no RECURRING: nothing is billed in advance any more.

The article has no refund rule: recurring is billed in advance and a removed unit "stays
billed to the end of that period", so the unused part of a period already invoiced (paid or
not) is not credited. The balance brought forward (previous amount due) is added by the
caller exactly as for a renewal (domain/balance_forward.py).

Worked examples (EUR cents; more in tests/unit/test_final_invoice.py):
- Monthly, anchor 15th, user 2000: ends 2026-02-11, window [01-15, 02-11); a user added on
  01-16 is billed 26 of the period's 31 days: 2000 * 26 / 31 = 1677.4… → 1677.
- Annual, anchor 2026-01-15, user 24000 a year: ends 2026-02-11, window [01-15, 02-11) in the
  365-day term; a user added on 01-16: 24000 * 26 / 365 = 1709.58… → 1710.
- Canceled at the end of the term (ends on the next anchor, 2026-02-15): the prorata runs to
  02-15, exactly what the renewal of that day would have billed, and no recurring.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from domain.billing import InvoiceDraft, SubscriptionTerms, _prorata
from domain.invoices import InvoiceKind, InvoiceLine, Period
from domain.periods import nth_anchor, nth_period, period_index
from domain.plans import Interval
from domain.seats import SeatChange


class CannotEndThere(ValueError):
    """The requested end day is not possible (before or on the start, or already invoiced)."""


def final_period(*, terms: SubscriptionTerms, ends_on: date) -> Period:
    """The final invoice's window: [the last monthly anchor before `ends_on`, `ends_on`).

    Raises: CannotEndThere when `ends_on` is not after the start (no day of service).
    """
    if ends_on <= terms.started_on:
        raise CannotEndThere(f"a subscription started {terms.started_on} cannot end on "
                             f"{ends_on}: it must end after its first day")
    month = period_index(terms.started_on, 1, ends_on - timedelta(days=1))
    return Period(nth_anchor(terms.started_on, month), ends_on)


def term_end(*, terms: SubscriptionTerms, today: date) -> date:
    """The end of the term that contains `today` (the next monthly or annual renewal date):
    where a subscription canceled "at the end of the term" ends."""
    months = terms.plan.interval.months
    return nth_period(terms.started_on, months,
                      period_index(terms.started_on, months, today)).end


def build_final_invoice(*, terms: SubscriptionTerms, changes: Sequence[SeatChange],
                        minutes: Sequence[InvoiceLine], ends_on: date) -> InvoiceDraft:
    """The FINAL invoice draft of a subscription ending on `ends_on` (lines may be empty:
    it still brings the unpaid balance forward).

    Parameters: `changes`: the subscription's seat history; `minutes`: the MINUTES lines of
    the calls not billed yet that started before `ends_on` (domain/usage.py; calls after the
    end are never billed: there is no service then). The draft bills those calls.
    Raises: CannotEndThere (see `final_period`).
    """
    window = final_period(terms=terms, ends_on=ends_on)
    start = terms.started_on
    month = period_index(start, 1, window.start)
    term = (nth_period(start, 1, month) if terms.plan.interval is Interval.MONTHLY
            else nth_period(start, 12, month // 12))
    lines = _prorata(terms, changes, term=term, window=window, until=ends_on)
    lines += tuple(minutes)
    return InvoiceDraft(InvoiceKind.FINAL, window, ends_on, terms.plan.currency, lines,
                        bills_minutes=True)
