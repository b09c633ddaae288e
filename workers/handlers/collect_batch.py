"""Collect a batch of attempts: claim them in one statement, call the provider for each
concurrently, record every outcome in one transaction.

One collect message carries the ids of up to COLLECT_BATCH_SIZE attempts of one method (a
single attempt — an operator's requeue, a retry the sweeper sends — is a batch of one).
Each attempt is still claimed once (SCHEDULED → PROCESSING, compare-and-set) before its
provider call and keeps its own idempotency key (the attempt id), so a redelivered or
partly done batch charges nothing twice: what is claimed or settled already is skipped. A
crash after the claim leaves the batch PROCESSING, which the sweeper reconciles.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta

from domain.accounts import Account, MethodType
from domain.errors import UnknownAttempt
from domain.invoices import Invoice, InvoiceStatus
from domain.outcomes import CancelRequested, Outcome, TransientFailure, Unknown
from domain.payments import AttemptStatus, Event, PaymentAttempt
from domain.ports import LockedAttempt
from workers.handlers.apply import AfterCommit, apply_event, record_event
from workers.handlers.deps import Deps
from workers.handlers.provider_pool import shared_pool

log = logging.getLogger("paycollect.collection")

#: A batch's pacing, given the methods of the calls it will make: the context each call
#: runs in, which waits for a slot of the provider's shared rate limit (workers/pacing.py).
Pace = Callable[[Iterable[MethodType]], Callable[[MethodType], AbstractContextManager[object]]]



@dataclass(frozen=True)
class BatchSettings:
    #: Provider calls in flight at once for one batch (BATCH_PROVIDER_CONCURRENCY); up to
    #: twice that on threads the process's other batches leave idle (provider_pool).
    concurrency: int = 8
    #: Threads of the process's provider pool, shared by its batches (WORKER_THREADS times
    #: BATCH_PROVIDER_CONCURRENCY: every worker thread's batch can have its calls in flight).
    pool_threads: int = 64
    #: No provider call of a batch starts later than this after the claim. The sweeper takes
    #: an attempt PROCESSING for STUCK_AFTER_SECONDS as lost and looks it up at the
    #: provider; a call started later than stuck_after minus the provider call budget could
    #: still be running then, and the lookup would miss it. An attempt not called in time is
    #: recorded as unknown: the lookup finds nothing, and its retry is scheduled.
    start_within: timedelta = timedelta(seconds=300 - 64)


def collect_attempts(deps: Deps, *, attempt_ids: Sequence[str], pace: Pace | None = None,
                     settings: BatchSettings = BatchSettings(),
                     ) -> dict[str, AttemptStatus | None]:
    """Claim the due SCHEDULED attempts among `attempt_ids`, call their providers outside
    any transaction, record the outcomes. Returns the new status of each attempt collected
    (the others were claimed, settled, cancelled or not due: nothing was done to them)."""
    claimed = _claim(deps, attempt_ids=attempt_ids)
    if not claimed:
        return {}
    deadline = time.monotonic() + settings.start_within.total_seconds()
    outcomes = _call_all(deps, claimed, pace=pace, settings=settings, deadline=deadline)
    return record_outcomes(deps, [(one.attempt.id, outcome) for one, outcome in outcomes],
                           claimed={one.attempt.id: one for one in claimed})


def collect_attempt(deps: Deps, *, attempt_id: str) -> AttemptStatus | None:
    """One attempt: a batch of one (None: nothing was done)."""
    return collect_attempts(deps, attempt_ids=[attempt_id]).get(attempt_id)


def _claim(deps: Deps, *, attempt_ids: Sequence[str]) -> list[LockedAttempt]:
    now = deps.clock.now()
    after = AfterCommit()
    wanted = list(dict.fromkeys(attempt_ids))
    with deps.uow_factory() as uow:
        # Invoices, then attempts, in the order renewals lock them (see lock_for_attempts).
        # Locking only the attempt let a renewal read it SCHEDULED, bring the whole amount
        # forward, and fail to cancel it once claimed: the customer was charged twice.
        locked = uow.invoices.lock_for_attempts(attempt_ids=wanted)
        _unknown(wanted, locked)
        due: list[LockedAttempt] = []
        for one in locked:
            attempt = one.attempt
            if attempt.status is not AttemptStatus.SCHEDULED:
                log.info("attempt already %s; nothing to do", attempt.status,
                         extra={"attempt_id": attempt.id})
                continue
            if attempt.scheduled_for is not None and attempt.scheduled_for > now:
                continue  # not due yet: the sweeper sends it when it is
            # Re-check just before charging: the invoice may have been paid, carried forward
            # or the method changed since the attempt was scheduled.
            why = why_not(one.invoice, one.account, attempt)
            if why is not None:
                apply_event(uow, deps, attempt_id=attempt.id, event=CancelRequested(why),
                            after=after)
                continue
            due.append(one)
        amounts = {one.attempt.id: one.invoice.amount_due for one in due}
        claimed = uow.attempts.claim_many(amounts=amounts, now=now)
        uow.commit()
    after.send(deps)
    return [replace(one, attempt=replace(one.attempt, status=AttemptStatus.PROCESSING,
                                         amount=amounts[one.attempt.id], updated_at=now))
            for one in due if one.attempt.id in claimed]


def _unknown(wanted: list[str], locked: list[LockedAttempt]) -> None:
    missing = set(wanted) - {one.attempt.id for one in locked}
    if missing and not locked:
        # Nothing of the batch exists (a batch of one: the message can never succeed).
        raise UnknownAttempt(wanted[0])
    for attempt_id in sorted(missing):
        log.warning("unknown attempt in a batch; skipped", extra={"attempt_id": attempt_id})


def why_not(invoice: Invoice, account: Account, attempt: PaymentAttempt) -> str | None:
    if invoice.status is not InvoiceStatus.OPEN:
        return f"invoice is {invoice.status}"
    if not invoice.amount_due.is_positive():
        return "nothing due on the invoice"
    if account.payment_method.type is not attempt.method:
        return f"payment method changed to {account.payment_method.type}"
    if not account.payment_method.usable:
        return "payment method unusable; a new one is needed"
    return None


def _call_all(deps: Deps, claimed: list[LockedAttempt], *, pace: Pace | None,
              settings: BatchSettings, deadline: float) -> list[tuple[LockedAttempt, Outcome]]:
    paced = pace([one.attempt.method for one in claimed]) if pace is not None else None

    def call(one: LockedAttempt) -> tuple[LockedAttempt, Outcome]:
        with paced(one.attempt.method) if paced is not None else nullcontext():
            if time.monotonic() > deadline:
                log.warning("batch out of time; attempt not called, recorded as unknown",
                            extra={"attempt_id": one.attempt.id})
                return one, Unknown("not called: its batch ran out of time")
            return one, _outcome_of(deps, one)

    log.info("calling the provider for %d claimed attempts", len(claimed),
             extra={"method": claimed[0].attempt.method.value})
    if len(claimed) == 1 or settings.concurrency <= 1:
        return [call(one) for one in claimed]
    return shared_pool(settings.pool_threads).run(call, claimed, window=settings.concurrency)


def _outcome_of(deps: Deps, one: LockedAttempt) -> Outcome:
    try:
        outcome = call_provider(deps, attempt=one.attempt, account=one.account,
                                invoice=one.invoice)
    except Exception as error:  # one call must not lose the batch's outcomes
        log.exception("provider call raised; recorded as unknown",
                      extra={"attempt_id": one.attempt.id})
        return Unknown(f"provider call raised {type(error).__name__}")
    if isinstance(outcome, TransientFailure):
        # Gateways retry transient faults inside the attempt; one that still reports one has
        # given up without knowing whether money moved.
        return Unknown(outcome.reason)
    return outcome


def call_provider(deps: Deps, *, attempt: PaymentAttempt, account: Account,
                  invoice: Invoice) -> Outcome:
    method = account.payment_method
    # DEBUG: its outcome's line ("payment event …") names the attempt at INFO; at thousands
    # of calls a second a second line each cost more than the call's own bookkeeping.
    log.debug("calling provider", extra={"attempt_id": attempt.id, "invoice_id": invoice.id,
                                        "method": attempt.method.value,
                                        "amount_minor": attempt.amount.minor})
    if attempt.method is MethodType.CARD:
        assert method.provider_customer and method.provider_method
        return deps.card.charge(attempt_id=attempt.id, customer=method.provider_customer,
                                payment_method=method.provider_method, amount=attempt.amount,
                                invoice_id=invoice.id, account_id=account.id)
    if attempt.method is MethodType.DIRECT_DEBIT:
        assert method.provider_method
        return deps.direct_debit.collect(attempt_id=attempt.id, mandate_id=method.provider_method,
                                         amount=attempt.amount, invoice_id=invoice.id,
                                         account_id=account.id)
    wire_invoice = replace(invoice, amount_paid=invoice.paid)
    return deps.wire.publish(invoice=wire_invoice, account=account,
                             due_days=deps.wire_due_days)


def record_outcomes(deps: Deps, outcomes: Sequence[tuple[str, Event]], *,
                    answer_unchanged: bool = False,
                    claimed: Mapping[str, LockedAttempt] | None = None,
                    ) -> dict[str, AttemptStatus | None]:
    """Every (attempt id, outcome) in one transaction, through apply_event (the one place an
    outcome is applied); if that transaction fails, each outcome in its own, so one bad
    attempt does not leave the others unrecorded. `answer_unchanged`: an outcome that
    changes nothing (a debit still pending) marks its attempt answered (polled again one
    poll interval from now). `claimed`: the attempts as their claim left them; those whose
    rows nothing else wrote since are not read again (lock_for_attempts' `known`)."""
    if len(outcomes) == 1:
        return _record_each(deps, outcomes, answer_unchanged=answer_unchanged)
    after = AfterCommit()
    statuses: dict[str, AttemptStatus | None] = {}
    by_id = dict(outcomes)
    try:
        with deps.uow_factory() as uow:
            # Lock the whole batch first, in one statement and one order (see _claim).
            seen: set[str] = set()
            for one in uow.invoices.lock_for_attempts(attempt_ids=list(by_id), known=claimed):
                # The row read with the locks serves apply_event unless an earlier outcome
                # of this batch may have changed its account (then apply_event reads again).
                fresh = one.account.id not in seen
                seen.add(one.account.id)
                decision = apply_event(uow, deps, attempt_id=one.attempt.id,
                                       event=by_id[one.attempt.id], after=after,
                                       locked=one if fresh else None, in_batch=True)
                if answer_unchanged and decision.attempt is None:
                    uow.attempts.answered(attempt_id=one.attempt.id, now=deps.clock.now())
                statuses[one.attempt.id] = decision.status
            uow.commit()
    except Exception:
        log.exception("recording a batch's outcomes failed; recording them one by one",
                      extra={"attempts": len(outcomes)})
        return _record_each(deps, outcomes, answer_unchanged=answer_unchanged)
    after.send(deps)
    counts = Counter(str(status) if status is not None else "unchanged"
                     for status in statuses.values())
    log.info("recorded %d outcomes: %s", len(statuses),
             ", ".join(f"{status} {count}" for status, count in sorted(counts.items())))
    return statuses


def mark_answered(deps: Deps, *, attempt_id: str) -> None:
    """An answer that changed nothing (a debit still pending): look again one poll interval
    from now, in a transaction of its own."""
    with deps.uow_factory() as uow:
        uow.attempts.answered(attempt_id=attempt_id, now=deps.clock.now())
        uow.commit()


def _record_each(deps: Deps, outcomes: Sequence[tuple[str, Event]], *,
                 answer_unchanged: bool) -> dict[str, AttemptStatus | None]:
    statuses: dict[str, AttemptStatus | None] = {}
    failure: Exception | None = None
    for attempt_id, outcome in outcomes:
        try:
            decision = record_event(deps, attempt_id=attempt_id, event=outcome)
            if answer_unchanged and decision.attempt is None:
                mark_answered(deps, attempt_id=attempt_id)
            statuses[attempt_id] = decision.status
        except Exception as error:  # the others are still recorded
            log.exception("recording an outcome failed", extra={"attempt_id": attempt_id})
            failure = failure or error
    if failure is not None:
        # The message is retried; its recorded attempts are settled and skipped, the
        # unrecorded one is PROCESSING and reconciled by the sweeper.
        raise failure
    return statuses
