"""Renewals in batches: up to N due subscriptions claimed, invoiced and written in one
transaction, in a fixed number of statements whatever N is.

One batch: claim (one UPDATE … RETURNING, rows locked, SKIP LOCKED on PostgreSQL, leased);
read seat changes, usage, issued periods, accounts, open invoices (locked) and money in
flight, each in one query; build everything in the pure domain (`domain.renewal_batch`);
take the numbers with one UPDATE … RETURNING on the gapless counter (a rollback gives them
back); write invoices, lines and ledger debits in multi-row INSERTs, the balance forward,
the cancelled retries and wire instructions, and the subscriptions' next dates. Several
processes share a burst: each claims its own rows.

A batch that fails is rolled back (numbers included) and its subscriptions are renewed one
by one (`renew_subscription`), so one broken subscription costs only itself.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from domain.clock import Clock
from domain.event_payloads import invoice_object
from domain.invoices import Invoice, InvoiceLine
from domain.ledger import issued_entry
from domain.money import Money
from domain.outcomes import CancelRequested
from domain.outgoing_events import EventType
from domain.payments import AttemptStatus, apply_outcome
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.rate_cards import card_from_plan
from domain.renewal_batch import (
    IssuedBatch,
    MinuteLines,
    OpenState,
    RenewalPlan,
    candidate_keys,
    issue_batch,
    numbers_needed,
    plan_renewal,
)
from domain.renewals import billing_dates
from domain.retry_policy import RetryPolicy
from domain.subscriptions import Subscription
from domain.usage import ClassUsage, cutoff, minute_lines, usage_since
from workers.handlers.events import emit_many
from workers.handlers.renewals import (
    NUMBER_PREFIX,
    RenewalSettings,
    renew_subscription,
)

log = logging.getLogger("paycollect.renewals")

#: Subscriptions claimed per batch (RENEWAL_BATCH_SIZE).
DEFAULT_BATCH_SIZE = 500
#: How long a claim keeps other workers off a subscription (as `renew_subscription`).
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class BatchResult:
    #: Subscriptions this batch claimed (empty: nothing left to claim).
    claimed: tuple[str, ...] = ()
    #: Invoices issued, in number order.
    issued: tuple[str, ...] = ()
    #: Subscriptions whose renewal failed even alone, with the error.
    failed: Mapping[str, Exception] = field(default_factory=dict)
    #: The batch failed and its subscriptions were renewed one by one.
    one_by_one: bool = False
    #: (next_renewal_on, id) of the last subscription claimed: where the next batch of the
    #: same pass starts (everything before it is done, held by another worker, or failed).
    last: tuple[date, str] | None = None


def renew_batch(*, uow_factory: UnitOfWorkFactory, as_of: date, clock: Clock,
                settings: RenewalSettings, limit: int = DEFAULT_BATCH_SIZE,
                exclude: Collection[str] = (),
                after: tuple[date, str] | None = None) -> BatchResult:
    """Claim up to `limit` subscriptions due by `as_of` (not in `exclude`) and issue their
    invoices, catching up missed dates; idempotent like `renew_subscription`."""
    claimed: tuple[str, ...] = ()
    try:
        with uow_factory() as uow:
            now = clock.now()
            due = uow.subscriptions.claim_due(as_of=as_of, limit=limit, now=now,
                                              until=now + LEASE, exclude=exclude, after=after)
            claimed = tuple(s.id for s in due)
            if not due:
                return BatchResult()
            last = (due[-1].next_renewal_on, due[-1].id)
            issued = _issue(uow, due=due, as_of=as_of, now=now, settings=settings)
            uow.commit()
    except Exception:
        if not claimed:
            raise
        log.exception("renewal batch failed; renewing its %d subscriptions one by one",
                      len(claimed))
        return replace(_one_by_one(uow_factory=uow_factory, claimed=claimed, as_of=as_of,
                                   clock=clock, settings=settings), last=last)
    log.info("renewal batch: %d subscriptions, %d invoices issued", len(claimed), len(issued))
    return BatchResult(claimed=claimed, issued=issued, last=last)


def _issue(uow: UnitOfWork, *, due: Sequence[Subscription], as_of: date, now: datetime,
           settings: RenewalSettings) -> tuple[str, ...]:
    ids = [s.id for s in due]
    until = {s.id: s.renews_until(as_of) for s in due}
    changes = uow.seat_changes.list_for_many(subscription_ids=ids, end=as_of)
    minutes = usage_for(uow, due=due, until=until)
    issued = uow.invoices.issued_periods(
        keys=[key for s in due for key in candidate_keys(s, until=until[s.id])])
    plans = [plan_renewal(s, changes=changes.get(s.id, ()), minutes=minutes[s.id],
                          issued=issued, until=until[s.id]) for s in due]
    state = _open_state(uow, account_ids={s.account_id for s in due})
    # The counter is taken last, just before the writes: it serialises concurrent batches,
    # so it is held for as little of the transaction as possible.
    first_numbers = {year: uow.invoices.take_sequences(issuer=NUMBER_PREFIX, year=year,
                                                       count=count)
                     for year, count in sorted(numbers_needed(plans).items())}
    batch = issue_batch(plans, state=state, first_numbers=first_numbers,
                        new_id=lambda: str(uuid.uuid4()), prefix=NUMBER_PREFIX,
                        wire_due_days=settings.wire_due_days)
    _write(uow, batch=batch, plans=plans, now=now)
    return tuple(invoice.id for invoice in batch.invoices)


def usage_for(uow: UnitOfWork, *, due: Sequence[Subscription],
              until: Mapping[str, date]) -> dict[str, MinuteLines]:
    """Each subscription's minutes as the plan asks for them: the unbilled calls summed in
    SQL, one GROUP BY per distinct billing day of the batch (one, on a daily tick; more
    only for catch-ups), rated by the subscription's card (or its plan's rates)."""
    days = {s.id: billing_dates(terms=s.terms, after=s.billed_through, until=until[s.id])
            for s in due}
    by_day: dict[date, list[str]] = defaultdict(list)
    for subscription_id, its_days in days.items():
        for day in its_days:
            by_day[day].append(subscription_id)
    summed: dict[tuple[str, date], list[ClassUsage]] = {}
    for day, subscription_ids in sorted(by_day.items()):
        found = uow.call_records.minutes_for(subscription_ids=subscription_ids,
                                             before=cutoff(day))
        for subscription_id in subscription_ids:
            summed[(subscription_id, day)] = found.get(subscription_id, [])
    cards = uow.rate_cards.get_many(subscription_ids=[s.id for s in due])

    def lines_of(subscription: Subscription) -> MinuteLines:
        card = cards.get(subscription.id) or card_from_plan(subscription.plan)

        def lines(since: date | None, day: date) -> tuple[InvoiceLine, ...]:
            total = summed.get((subscription.id, day), [])
            earlier = summed.get((subscription.id, since), []) if since else []
            return minute_lines(card=card, usage=usage_since(total, earlier))
        return lines

    return {s.id: lines_of(s) for s in due}


def _mark_calls_billed(uow: UnitOfWork, *, batch: IssuedBatch,
                       plans: Sequence[RenewalPlan]) -> None:
    """Stamp the calls each minute-billing invoice took, one UPDATE per billing day (in day
    order, so a catch-up's earlier invoice takes the earlier calls)."""
    drafts = [(plan.subscription.id, draft) for plan in plans for draft in plan.drafts]
    by_day: dict[date, dict[str, str]] = defaultdict(dict)
    for (subscription_id, draft), invoice in zip(drafts, batch.invoices, strict=True):
        if draft.bills_minutes:
            by_day[draft.issued_on][subscription_id] = invoice.id
    for day, invoices in sorted(by_day.items()):
        uow.call_records.mark_billed(invoices=invoices, before=cutoff(day))


def _open_state(uow: UnitOfWork, *, account_ids: Collection[str]) -> OpenState:
    open_invoices = uow.invoices.open_for_accounts(account_ids=account_ids, for_update=True)
    in_flight = uow.attempts.in_flight_amounts(
        invoice_ids=[inv.id for invoices in open_invoices.values() for inv in invoices])
    return OpenState(accounts=uow.accounts.get_many(account_ids=account_ids),
                     open_invoices=open_invoices, in_flight=in_flight)


def _write(uow: UnitOfWork, *, batch: IssuedBatch, plans: Sequence[RenewalPlan],
           now: datetime) -> None:
    uow.invoices.add_many(invoices=batch.invoices)
    uow.invoices.update_settlements(invoices=batch.settled)
    if batch.closed:
        # Their pending retries and wire instructions stop: the money is now asked for on the
        # new invoice (a transfer quoting the old reference is still matched to it).
        by_reason: dict[str, list[str]] = defaultdict(list)
        for invoice_id, reason in batch.closed:
            by_reason[reason].append(invoice_id)
        for reason, invoice_ids in by_reason.items():
            uow.attempts.cancel_scheduled(invoice_ids=invoice_ids, now=now, reason=reason)
        _cancel_wire_instructions(uow, closed=batch.closed, now=now)
    uow.ledger.add_many(entries=[(issued_entry(invoice), f"issue:{invoice.id}")
                                 for invoice in batch.invoices])
    _mark_calls_billed(uow, batch=batch, plans=plans)
    uow.subscriptions.set_next_renewals(plans=plans)
    settled = {invoice.id: invoice for invoice in batch.settled}
    # "carried forward to <number>" -> the earlier invoices that invoice closed
    closed_by: dict[str, list[Invoice]] = defaultdict(list)
    for invoice_id, reason in batch.closed:
        closed_by[reason].append(settled[invoice_id])
    events: list[tuple[str, EventType, dict[str, Any]]] = []
    for invoice in batch.invoices:  # as the single path: issued, then what it carried forward
        events.append((invoice.account_id, EventType.INVOICE_ISSUED, invoice_object(invoice)))
        events += [(earlier.account_id, EventType.INVOICE_CARRIED_FORWARD,
                    invoice_object(earlier))
                   for earlier in closed_by.get(f"carried forward to {invoice.number}", [])]
    emit_many(uow, events=events, occurred_at=now)


def _cancel_wire_instructions(uow: UnitOfWork, *, closed: Sequence[tuple[str, str]],
                              now: datetime) -> None:
    reasons = dict(closed)
    active = uow.attempts.active_for_invoices(invoice_ids=list(reasons))
    for invoice_id, attempt in active.items():
        if attempt.status is not AttemptStatus.AWAITING_TRANSFER:
            continue
        decision = apply_outcome(attempt=attempt, outcome=CancelRequested(reasons[invoice_id]),
                                 invoice_due=Money.zero(attempt.amount.currency),
                                 policy=RetryPolicy(), now=now, attempts_so_far=())
        if decision.attempt is not None:
            uow.attempts.update(attempt=decision.attempt, expected_status=attempt.status)


def _one_by_one(*, uow_factory: UnitOfWorkFactory, claimed: Sequence[str], as_of: date,
                clock: Clock, settings: RenewalSettings) -> BatchResult:
    issued: list[str] = []
    failed: dict[str, Exception] = {}
    for subscription_id in claimed:
        try:
            issued.extend(renew_subscription(uow_factory=uow_factory,
                                             subscription_id=subscription_id, as_of=as_of,
                                             clock=clock, settings=settings))
        except Exception as error:
            # One broken subscription must not stop everybody else's renewal.
            log.exception("renewal failed", extra={"subscription_id": subscription_id})
            failed[subscription_id] = error
    return BatchResult(claimed=tuple(claimed), issued=tuple(issued), failed=failed,
                       one_by_one=True)


def renew_all_due(*, uow_factory: UnitOfWorkFactory, as_of: date, clock: Clock,
                  settings: RenewalSettings, batch_size: int = DEFAULT_BATCH_SIZE,
                  ) -> tuple[list[str], dict[str, Exception]]:
    """Batches until nothing due is left to claim: the invoices issued, and the
    subscriptions that failed (left due, skipped for the rest of this pass)."""
    issued: list[str] = []
    failed: dict[str, Exception] = {}
    last: tuple[date, str] | None = None
    while True:
        result = renew_batch(uow_factory=uow_factory, as_of=as_of, clock=clock,
                             settings=settings, limit=batch_size, exclude=failed.keys(),
                             after=last)
        if not result.claimed:
            return issued, failed
        issued.extend(result.issued)
        failed.update(result.failed)
        last = result.last
