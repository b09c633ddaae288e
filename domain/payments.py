"""Payment attempts and their state machine.

An attempt row is written *before* the provider is called; its id is the provider's
idempotency key. At most one attempt per invoice is active (ACTIVE_STATUSES; the database
enforces it with a partial unique index).

The single transition function (`apply_outcome`, below, filled in by the payments work) maps
(attempt, outcome, policy, now) to a Decision that the handlers apply. Synchronous provider
responses, webhooks, the sweeper and operator actions all go through it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.accounts import MethodType
from domain.money import Money
from domain.outcomes import DeclineKind


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
