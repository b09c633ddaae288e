"""Payment attempts and their state machine.

An attempt row is written *before* the provider is called; its id is the provider's
idempotency key. At most one attempt per invoice is active (ACTIVE_STATUSES; the database
enforces it with a partial unique index).

The single transition function `apply_outcome` (below) maps (attempt, event, policy, now) to a
`Decision` that the handlers apply in one DB transaction. Synchronous provider responses,
webhooks, reconciliation, the sweeper and operator actions all go through it, so the rules
below hold whatever the order events arrive in:

- Statuses only move forward, by `RANK`: SCHEDULED < PROCESSING < UNKNOWN < PENDING =
  AWAITING_TRANSFER < REQUIRES_ACTION < FAILED = CANCELED < SUCCEEDED = REVERSED. A lifecycle
  outcome that would not raise the rank is stale: ignored, no effect (duplicates included).
  UNKNOWN ranks below PENDING so reconciliation can resolve it; money collected outranks every
  failure, because a payment the provider says it collected must reach the ledger even after
  we had given up on it (no cent disappears).
- Reversals (chargeback, late failure, refund) and their cancellations are not ranked: each is
  applied once per provider ref, and SUCCEEDED vs REVERSED follows the net amount taken back.
  A reversal (or its cancellation) seen before the charge implies the charge.
- Nothing schedules a new charge from UNKNOWN: only reconciliation moves it on.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.accounts import MethodType
from domain.events import (
    AdjustInvoicePaid,
    CancelScheduledRetries,
    CreditLedger,
    CustomerMessage,
    Effect,
    FlagMethodUnusable,
    NotifyCustomer,
    ReconcileWithProvider,
    RetryInAttempt,
)
from domain.money import Money
from domain.outcomes import (
    AwaitingTransfer,
    CancelRequested,
    Charged,
    Declined,
    DeclineKind,
    NotFound,
    Outcome,
    Pending,
    ProviderEvent,
    Reversal,
    ReversalCancelled,
    TransientFailure,
    Unknown,
)
from domain.retry_policy import RetryPolicy, plan_retry
from domain.reversals import apply_reversal


class AttemptStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # a retry waiting for its time (`scheduled_for`)
    PROCESSING = "processing"  # row written, provider being called
    PENDING = "pending"  # provider accepted; outcome later (direct debit)
    AWAITING_TRANSFER = "awaiting_transfer"  # wire instructions published
    UNKNOWN = "unknown"  # we cannot tell if money moved: reconcile before anything else
    REQUIRES_ACTION = "requires_action"  # customer must authenticate / update the card
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"  # superseded: invoice carried forward, paid otherwise, operator
    REVERSED = "reversed"  # succeeded, then late failure / chargeback / refund in full


#: An invoice has at most one attempt in one of these at a time.
ACTIVE_STATUSES = frozenset({AttemptStatus.SCHEDULED, AttemptStatus.PROCESSING,
                             AttemptStatus.PENDING, AttemptStatus.AWAITING_TRANSFER,
                             AttemptStatus.UNKNOWN})

#: Money may be moving: balance forward must not bring these amounts forward.
IN_FLIGHT_STATUSES = frozenset({AttemptStatus.PROCESSING, AttemptStatus.PENDING,
                                AttemptStatus.UNKNOWN})

TERMINAL_STATUSES = frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.FAILED,
                               AttemptStatus.CANCELED, AttemptStatus.REVERSED,
                               AttemptStatus.REQUIRES_ACTION})


@dataclass(frozen=True, slots=True)
class PaymentAttempt:
    id: str  # also the provider idempotency key
    invoice_id: str
    account_id: str
    method: MethodType
    number: int  # 1 for the first attempt on the invoice, 2 for the first retry…
    amount: Money
    status: AttemptStatus
    created_at: datetime
    updated_at: datetime
    scheduled_for: datetime | None = None
    provider_ref: str | None = None
    failure_code: str | None = None
    failure_class: DeclineKind | None = None
    failure_message: str | None = None
    #: The retry schedule in force when this attempt was scheduled, in days after the
    #: first failure; copied so configuration changes never reshuffle retries in flight.
    retry_schedule_days: tuple[int, ...] = ()
    #: Why an operator or the system created/cancelled it ("renewal", "retry", "requeue: …").
    reason: str = ""
    #: When the invoice's first attempt failed: anchors `retry_schedule_days`; copied onto
    #: retries with the schedule.
    first_failed_at: datetime | None = None
    #: Net amount taken back after success (reversals minus cancelled reversals).
    amount_reversed: Money | None = None
    #: provider refs of reversals applied (dispute / refund ids): a duplicate debits nothing.
    reversal_refs: tuple[str, ...] = ()
    #: provider refs of reversals cancelled (dispute won…), also when the cancel came first.
    cancelled_reversal_refs: tuple[str, ...] = ()

    @property
    def reversed(self) -> Money:
        return self.amount_reversed or Money.zero(self.amount.currency)


# --- The transition function ----------------------------------------------------------------

#: Everything `apply_outcome` accepts.
Event = Outcome | ProviderEvent | CancelRequested

#: Forward order of statuses; a lifecycle outcome must strictly raise it to apply.
RANK: dict[AttemptStatus, int] = {
    AttemptStatus.SCHEDULED: 0,
    AttemptStatus.PROCESSING: 1,
    AttemptStatus.UNKNOWN: 2,
    AttemptStatus.PENDING: 3,
    AttemptStatus.AWAITING_TRANSFER: 3,
    # The customer may act and the charge then fail for good: REQUIRES_ACTION -> FAILED.
    AttemptStatus.REQUIRES_ACTION: 4,
    AttemptStatus.FAILED: 5,
    AttemptStatus.CANCELED: 5,
    AttemptStatus.SUCCEEDED: 6,
    AttemptStatus.REVERSED: 6,
}

#: The money was collected (REVERSED: and then taken back in full).
SETTLED_STATUSES = frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.REVERSED})

#: Failure code of an attempt the provider has no record of (reconciliation said NotFound).
NOT_FOUND_CODE = "not_found_at_provider"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do about one event on one attempt.

    `attempt` is the attempt row as it must be saved (status, failure fields, provider ref,
    bookkeeping, `updated_at=now`), or None: do not write it. `status` is its new status (None
    when not written). `effects` are applied in the same DB transaction; `note` goes to the log.
    """

    status: AttemptStatus | None
    effects: tuple[Effect, ...] = ()
    note: str = ""
    attempt: PaymentAttempt | None = None

    @property
    def ignored(self) -> bool:
        return self.attempt is None and not self.effects


def _ignore(note: str) -> Decision:
    return Decision(status=None, note=note)


def _move(attempt: PaymentAttempt, *, to: AttemptStatus, now: datetime, note: str,
          effects: Sequence[Effect] = (), **changes: Any) -> Decision:
    saved = replace(attempt, status=to, updated_at=now, **changes)
    return Decision(status=to, effects=tuple(effects), note=note, attempt=saved)


def apply_outcome(*, attempt: PaymentAttempt, outcome: Event, invoice_due: Money,
                  policy: RetryPolicy, now: datetime,
                  attempts_so_far: Sequence[datetime]) -> Decision:
    """Decide what `outcome` means for `attempt`.

    Parameters:
        attempt: the attempt as loaded (the handler holds its row lock while applying).
        outcome: a gateway `Outcome`, a `Reversal` / `ReversalCancelled`, or `CancelRequested`.
        invoice_due: the invoice's `amount_due` before this outcome (tells paid from partly paid).
        policy: the retry policy in force (its schedule is used only if the attempt has none).
        now: timezone-aware.
        attempts_so_far: when each attempt on this payment method (every invoice, this one
            included) was or will be sent: `scheduled_for or created_at`. Only the last 30 days
            count against `policy.max_attempts_per_30_days`.
    Returns: a Decision; `Decision.ignored` for stale, duplicate and out-of-order events.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    match outcome:
        case Reversal() | ReversalCancelled():
            return _reversal(attempt, outcome, now)
        case CancelRequested():
            return _cancel(attempt, outcome, now)
        case TransientFailure():
            if attempt.status is not AttemptStatus.PROCESSING:
                return _ignore(f"stale: transient failure on a {attempt.status} attempt")
            return Decision(status=None, effects=(RetryInAttempt(outcome.retry_after_seconds),),
                            note=f"retry in attempt: {outcome.reason}")
    target = _target(attempt, outcome)
    if target is None or RANK[target] <= RANK[attempt.status]:
        return _repeat_provider_retry(attempt, outcome, now) or _ignore(
            f"stale: {type(outcome).__name__} on a {attempt.status} attempt")
    match outcome:
        case Charged():
            return _charged(attempt, outcome, invoice_due, now)
        case Declined():
            return _declined(attempt, outcome, target, policy, now, attempts_so_far)
        case Pending():
            when = f", expected on {outcome.expected_on}" if outcome.expected_on else ""
            return _move(attempt, to=target, now=now, provider_ref=outcome.provider_ref,
                         note=f"pending at provider{when}")
        case AwaitingTransfer():
            return _move(attempt, to=target, now=now, provider_ref=outcome.reference,
                         note=f"wire instructions published, due on {outcome.due_on}")
        case Unknown():
            return _move(attempt, to=target, now=now, effects=[ReconcileWithProvider()],
                         note=f"outcome unknown ({outcome.reason}): reconcile, never re-charge")
        case _:  # NotFound
            return _not_found(attempt, policy, now, attempts_so_far)


def _target(attempt: PaymentAttempt, outcome: Outcome) -> AttemptStatus | None:
    """The status a lifecycle outcome leads to (None: it never applies from here)."""
    match outcome:
        case Charged():
            return AttemptStatus.SUCCEEDED
        case Pending():
            return AttemptStatus.PENDING
        case AwaitingTransfer():
            return AttemptStatus.AWAITING_TRANSFER
        case Unknown():
            return AttemptStatus.UNKNOWN
        case Declined(kind=DeclineKind.CUSTOMER_ACTION):
            return AttemptStatus.REQUIRES_ACTION
        case Declined(kind=DeclineKind.SOFT, provider_will_retry=True):
            # GoCardless retries the same payment itself: money may still move, so the attempt
            # stays in flight (PENDING) and its confirmation or final failure comes later.
            return AttemptStatus.PENDING
        case Declined():
            return AttemptStatus.FAILED
        case NotFound():
            # Only an attempt we could not account for can be "not found"; after the provider
            # said pending, a miss is a lookup glitch, not proof.
            if attempt.status in (AttemptStatus.PROCESSING, AttemptStatus.UNKNOWN):
                return AttemptStatus.FAILED
            return None
        case _:
            return None


def _repeat_provider_retry(attempt: PaymentAttempt, outcome: Outcome,
                           now: datetime) -> Decision | None:
    """A provider-retried failure on an already PENDING attempt: record the latest failure."""
    if (attempt.status is AttemptStatus.PENDING and isinstance(outcome, Declined)
            and outcome.kind is DeclineKind.SOFT and outcome.provider_will_retry
            and attempt.failure_code != outcome.code):
        return _move(attempt, to=AttemptStatus.PENDING, now=now, failure_code=outcome.code,
                     failure_class=outcome.kind, failure_message=outcome.message,
                     note=f"failed ({outcome.code}); the provider retries it itself")
    return None


def _charged(attempt: PaymentAttempt, outcome: Charged, invoice_due: Money,
             now: datetime) -> Decision:
    effects: list[Effect] = [CreditLedger(outcome.amount, memo=f"payment {outcome.provider_ref}"),
                             AdjustInvoicePaid(outcome.amount)]
    paid_in_full = outcome.amount >= invoice_due
    if attempt.status not in ACTIVE_STATUSES and paid_in_full:
        # We had given up on this attempt, so a retry may be waiting: the money is here.
        effects.append(CancelScheduledRetries(reason=f"paid by attempt {attempt.id}"))
    effects.append(NotifyCustomer(CustomerMessage.PAYMENT_RECEIVED))
    rest = "invoice paid" if paid_in_full else f"{invoice_due - outcome.amount} still due"
    # The attempt records what was actually collected (a wire may pay part of the invoice).
    return _move(attempt, to=AttemptStatus.SUCCEEDED, now=now, effects=effects,
                 provider_ref=outcome.provider_ref, amount=outcome.amount,
                 note=f"charged {outcome.amount}: {rest}")


def _declined(attempt: PaymentAttempt, outcome: Declined, target: AttemptStatus,
              policy: RetryPolicy, now: datetime, attempts_so_far: Sequence[datetime]) -> Decision:
    failure: dict[str, Any] = {"failure_code": outcome.code, "failure_class": outcome.kind,
                               "failure_message": outcome.message,
                               "provider_ref": outcome.provider_ref or attempt.provider_ref}
    if target is AttemptStatus.PENDING:
        return _move(attempt, to=target, now=now, **failure,
                     note=f"failed ({outcome.code}); the provider retries it itself")
    if outcome.kind is DeclineKind.HARD:
        return _move(attempt, to=target, now=now, **failure,
                     effects=[FlagMethodUnusable(reason=outcome.code),
                              NotifyCustomer(CustomerMessage.NEW_METHOD_NEEDED)],
                     note=f"hard decline ({outcome.code}): new payment method needed, no retry")
    if outcome.kind is DeclineKind.CUSTOMER_ACTION:
        return _move(attempt, to=target, now=now, **failure,
                     effects=[NotifyCustomer(CustomerMessage.ACTION_REQUIRED)],
                     note=f"customer action needed ({outcome.code}), no blind retry")
    first_failed_at = attempt.first_failed_at or now
    retry, why = _plan_retry(attempt, policy, first_failed_at, now, attempts_so_far, soon=False)
    return _move(attempt, to=target, now=now, **failure, first_failed_at=first_failed_at,
                 effects=[*retry, NotifyCustomer(CustomerMessage.PAYMENT_FAILED)],
                 note=f"soft decline ({outcome.code}): {why}")


def _not_found(attempt: PaymentAttempt, policy: RetryPolicy, now: datetime,
               attempts_so_far: Sequence[datetime]) -> Decision:
    """The provider has no payment under this idempotency key: no money moved, safe to retry."""
    first_failed_at = attempt.first_failed_at or now
    retry, why = _plan_retry(attempt, policy, first_failed_at, now, attempts_so_far, soon=True)
    return _move(attempt, to=AttemptStatus.FAILED, now=now, effects=retry,
                 failure_code=NOT_FOUND_CODE, failure_class=DeclineKind.SOFT,
                 failure_message="reconciliation: the provider has no such payment",
                 first_failed_at=first_failed_at, note=f"not found at provider: {why}")


def _plan_retry(attempt: PaymentAttempt, policy: RetryPolicy, first_failed_at: datetime,
                now: datetime, attempts_so_far: Sequence[datetime],
                soon: bool) -> tuple[list[Effect], str]:
    # The schedule copied onto the attempt wins; the policy's only starts a new sequence.
    retry, why = plan_retry(policy=policy, failed_number=attempt.number,
                            schedule_days=attempt.retry_schedule_days or policy.schedule_days,
                            first_failed_at=first_failed_at, now=now,
                            attempts_at=attempts_so_far, soon=soon)
    return ([retry] if retry else []), why


def _reversal(attempt: PaymentAttempt, event: Reversal | ReversalCancelled,
              now: datetime) -> Decision:
    step = apply_reversal(attempt=attempt, event=event,
                          settled=attempt.status in SETTLED_STATUSES)
    if isinstance(step, str):
        return _ignore(step)
    full = step.amount_reversed >= attempt.amount
    return _move(attempt, to=AttemptStatus.REVERSED if full else AttemptStatus.SUCCEEDED,
                 now=now, effects=step.effects, note=step.note,
                 amount_reversed=step.amount_reversed, reversal_refs=step.reversal_refs,
                 cancelled_reversal_refs=step.cancelled_reversal_refs)


def _cancel(attempt: PaymentAttempt, command: CancelRequested, now: datetime) -> Decision:
    if attempt.status in (AttemptStatus.SCHEDULED, AttemptStatus.REQUIRES_ACTION,
                          AttemptStatus.AWAITING_TRANSFER):
        return _move(attempt, to=AttemptStatus.CANCELED, now=now, reason=command.reason,
                     note=f"canceled: {command.reason}")
    if attempt.status in IN_FLIGHT_STATUSES:
        return _ignore(f"not canceled: {attempt.status}, money may be moving; wait for it")
    return _ignore(f"not canceled: already {attempt.status}")
