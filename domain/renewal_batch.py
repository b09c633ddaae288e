"""Renewals in batches: the invoices of many subscriptions built at once, with no I/O.

Two steps, because the invoice numbers are taken from the counter between them:

1. `plan_renewal`, per subscription: the drafts still to issue (those whose (kind, period
   start) is not issued yet) and where its renewal dates move to.
2. `issue_batch`, over every plan of the batch in order: numbers, balance forward, the
   earlier invoices closed. The result is what issuing the drafts one by one in that order
   would give (`workers.handlers.renewals.renew_subscription`): each invoice's balance
   forward sees the invoices issued before it in the batch, so two subscriptions of one
   account, or a catch-up of several missed dates, come out the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.accounts import Account, MethodType
from domain.balance_forward import OpenBalance, apply_carry, bring_forward
from domain.billing import InvoiceDraft, build_invoices
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from domain.money import Money
from domain.numbering import invoice_number
from domain.renewals import billing_dates, due_invoice_keys
from domain.seats import SeatChange
from domain.subscriptions import Subscription
from domain.wire_reference import make_rf_reference

#: (subscription id, kind, period start): an invoice the database holds at most once.
PeriodKey = tuple[str, InvoiceKind, date]
#: How far ahead the next billing date is looked for (every plan bills monthly).
_LOOKAHEAD = timedelta(days=62)
#: The MINUTES lines of a subscription's unbilled calls started before `day`, less those
#: started before `since` (the day of the draft before it in this batch that billed calls;
#: None: no such draft).
MinuteLines = Callable[[date | None, date], Sequence[InvoiceLine]]


@dataclass(frozen=True, slots=True)
class RenewalPlan:
    """One subscription's part of a batch."""

    subscription: Subscription
    drafts: tuple[InvoiceDraft, ...]
    billed_through: date
    next_renewal_on: date


def candidate_keys(subscription: Subscription, *, until: date) -> list[PeriodKey]:
    """The invoices the subscription may owe up to `until`: what to look up as issued."""
    return [(subscription.id, key.kind, key.period_start)
            for _, key in due_invoice_keys(terms=subscription.terms,
                                           after=subscription.billed_through, until=until)]


def plan_renewal(subscription: Subscription, *, changes: Sequence[SeatChange],
                 minutes: MinuteLines, issued: Collection[PeriodKey],
                 until: date) -> RenewalPlan:
    """The drafts dated up to `until` not issued yet, and the subscription's next dates.

    Each draft that bills minutes takes the unbilled calls started before its day that no
    earlier draft of this plan took (as `domain.renewals.due_invoices` over call records).
    """
    terms, after = subscription.terms, subscription.billed_through
    days = billing_dates(terms=terms, after=after, until=until)
    drafts: list[InvoiceDraft] = []
    since: date | None = None
    for day in days:
        billed_calls = False
        for draft in build_invoices(terms=terms, changes=changes, minutes=minutes(since, day),
                                    issued_on=day):
            if (subscription.id, draft.kind, draft.period.start) in issued:
                continue
            drafts.append(draft)
            billed_calls = billed_calls or draft.bills_minutes
        if billed_calls:
            since = day
    billed_through, next_renewal_on = renewed_to(subscription, days=days, until=until)
    return RenewalPlan(subscription=subscription, drafts=tuple(drafts),
                       billed_through=billed_through, next_renewal_on=next_renewal_on)


def renewed_to(subscription: Subscription, *, days: Sequence[date],
               until: date) -> tuple[date, date]:
    """The subscription's `billed_through` and `next_renewal_on` once a renewal up to `until`
    has issued the invoices of `days` (its billing dates up to `until`)."""
    following = billing_dates(terms=subscription.terms, after=until,
                              until=until + _LOOKAHEAD)
    return days[-1] if days else (subscription.billed_through or until), following[0]


def numbers_needed(plans: Sequence[RenewalPlan]) -> dict[int, int]:
    """How many invoice numbers the batch takes, per year of issue."""
    return dict(Counter(draft.issued_on.year for plan in plans for draft in plan.drafts))


@dataclass(frozen=True)
class OpenState:
    """What the batch reads before it issues: accounts, their open invoices, money in flight."""

    accounts: Mapping[str, Account]
    #: Per account, its OPEN invoices (any order).
    open_invoices: Mapping[str, Sequence[Invoice]]
    #: Per invoice, the sum of its attempts in flight (absent: none).
    in_flight: Mapping[str, Money]


@dataclass(frozen=True)
class IssuedBatch:
    #: The new invoices, in issue (number) order.
    invoices: tuple[Invoice, ...]
    #: Earlier invoices after the balance forward (carried amount, status), each once.
    settled: tuple[Invoice, ...]
    #: (earlier invoice id, why): closed invoices whose retries and wire instructions stop.
    closed: tuple[tuple[str, str], ...]


def _order(invoice: Invoice) -> tuple[date, date, str]:
    return (invoice.issued_on, invoice.period.start, invoice.number)


def issue_batch(plans: Sequence[RenewalPlan], *, state: OpenState,
                first_numbers: Mapping[int, int], new_id: Callable[[], str], prefix: str,
                wire_due_days: int) -> IssuedBatch:
    """Number and issue every draft of `plans`, in order, with balance forward.

    Parameters: `first_numbers` is, per year, the first sequence of the range taken for the
    batch (`numbers_needed` long); `new_id` gives invoice ids.
    """
    following = dict(first_numbers)
    open_by_account = {account_id: {inv.id: inv for inv in invoices}
                       for account_id, invoices in state.open_invoices.items()}
    issued: list[Invoice] = []
    settled: dict[str, Invoice] = {}
    closed: list[tuple[str, str]] = []
    for plan in plans:
        account = state.accounts[plan.subscription.account_id]
        still_open = open_by_account.setdefault(account.id, {})
        for draft in plan.drafts:
            sequence = following[draft.issued_on.year]
            following[draft.issued_on.year] = sequence + 1
            number = invoice_number(prefix=prefix, year=draft.issued_on.year, sequence=sequence)
            invoice, carried = _issue_one(draft, account=account, subscription=plan.subscription,
                                          still_open=sorted(still_open.values(), key=_order),
                                          in_flight=state.in_flight, invoice_id=new_id(),
                                          number=number, wire_due_days=wire_due_days)
            for after in carried:
                settled[after.id] = after
                if after.status is InvoiceStatus.OPEN:
                    still_open[after.id] = after
                else:
                    del still_open[after.id]
                    closed.append((after.id, f"carried forward to {number}"))
            still_open[invoice.id] = invoice
            issued.append(invoice)
    return IssuedBatch(invoices=tuple(issued), settled=tuple(settled.values()),
                       closed=tuple(closed))


def _issue_one(draft: InvoiceDraft, *, account: Account, subscription: Subscription,
               still_open: Sequence[Invoice], in_flight: Mapping[str, Money], invoice_id: str,
               number: str, wire_due_days: int) -> tuple[Invoice, list[Invoice]]:
    """One new invoice and the earlier invoices it carries (as `renew_subscription` does)."""
    # Invoices issued the same day (an anniversary's usage and annual invoices) are collected
    # side by side; only what was owed before the day is brought forward.
    earlier = [inv for inv in still_open if inv.issued_on < draft.issued_on]
    zero = Money.zero(draft.currency)
    forward = bring_forward([OpenBalance(inv.id, inv.amount_due, in_flight.get(inv.id, zero))
                             for inv in earlier], draft.currency)
    method = account.payment_method.type
    wire = method is MethodType.WIRE
    invoice = Invoice(
        id=invoice_id, number=number, account_id=account.id, subscription_id=subscription.id,
        kind=draft.kind, period=draft.period, issued_on=draft.issued_on,
        due_on=draft.issued_on + timedelta(days=wire_due_days if wire else 0),
        currency=draft.currency, payment_method=method.value, lines=draft.lines,
        previous_amount_due=forward.previous_amount_due, status=InvoiceStatus.OPEN,
        amount_paid=zero, amount_carried=zero,
        payment_reference=make_rf_reference(number.replace("-", "")),
    )
    by_id = {inv.id: inv for inv in earlier}
    carried = [apply_carry(by_id[carry.invoice_id], carry, new_invoice_id=invoice_id)
               for carry in forward.carries]
    return invoice, carried
