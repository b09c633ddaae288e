"""Operator actions: re-queue failed payments, record a received wire, run renewals now.

Every action goes through the same handlers as the system itself (the transition function,
the renewal handler) and is written to the audit log with who, when and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.accounts import MethodType
from domain.errors import UnknownAttempt
from domain.money import Money
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus, PaymentAttempt
from domain.records import AuditEntry
from workers.handlers import operators
from workers.handlers.cancellation import end_due_subscriptions
from workers.handlers.deps import Deps
from workers.operations.errors import BadArgument, NotFoundError, UnmatchedWire
from workers.scheduler import renew_due


@dataclass(frozen=True)
class RequeueResult:
    attempt: str
    outcome: str  # requeued | refused | would_requeue | would_refuse
    message: str = ""
    new_attempt: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "outcome": self.outcome, "message": self.message,
                "new_attempt": self.new_attempt}


def requeue_targets(deps: Deps, *, attempt_ids: Sequence[str], all_failed: bool,
                    method: MethodType | None) -> list[PaymentAttempt]:
    """The attempts named, or every re-queueable one; raises NotFoundError for an unknown id."""
    if bool(attempt_ids) == all_failed:
        raise BadArgument("give attempt ids or --all-failed (one or the other)")
    if all_failed:
        return operators.requeueable(deps, method=method)
    found = []
    with deps.uow_factory() as uow:
        for attempt_id in attempt_ids:
            attempt = uow.attempts.get(attempt_id=attempt_id)
            if attempt is None:
                raise NotFoundError(f"no payment attempt {attempt_id!r}")
            found.append(attempt)
    return found


def requeue(deps: Deps, *, targets: Sequence[PaymentAttempt], reason: str, actor: str,
            force: bool = False, dry_run: bool = False,
            progress: Callable[[RequeueResult], None] | None = None) -> list[RequeueResult]:
    """Re-queue each target through `operators.requeue_failed`; refusals are results, not errors.

    A refusal is audited too: an operator asked, and the system said no (and why).
    """
    if not reason.strip():
        raise BadArgument("--reason is required: it is written to the audit log")
    results = []
    for attempt in targets:
        result = (_preview(attempt, force=force) if dry_run
                  else _requeue_one(deps, attempt=attempt, reason=reason, actor=actor,
                                    force=force))
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _preview(attempt: PaymentAttempt, *, force: bool) -> RequeueResult:
    if attempt.status not in (AttemptStatus.FAILED, AttemptStatus.REQUIRES_ACTION):
        return RequeueResult(attempt.id, "would_refuse", f"attempt is {attempt.status}")
    if attempt.failure_class is DeclineKind.HARD and not force:
        return RequeueResult(attempt.id, "would_refuse",
                             f"hard decline ({attempt.failure_code}): needs --force")
    return RequeueResult(attempt.id, "would_requeue")


def _requeue_one(deps: Deps, *, attempt: PaymentAttempt, reason: str, actor: str,
                 force: bool) -> RequeueResult:
    try:
        done = operators.requeue_failed(deps, attempt_id=attempt.id, actor=actor,
                                        reason=reason, force=force)
    except UnknownAttempt:
        raise NotFoundError(f"no payment attempt {attempt.id!r}") from None
    except operators.RequeueRefused as refused:
        with deps.uow_factory() as uow:
            uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                           action="payment.requeue_refused", target=attempt.id,
                                           reason=reason, details={"why": str(refused),
                                                                   "force": force}))
            uow.commit()
        return RequeueResult(attempt.id, "refused", str(refused))
    return RequeueResult(attempt.id, "requeued", new_attempt=done.new_attempt_id)


def receive_wire(deps: Deps, *, reference: str, amount: Money, received_on: date,
                 actor: str, bank_ref: str | None = None) -> dict[str, Any]:
    """Record a bank transfer; raises UnmatchedWire (after storing it) for an unknown reference.

    With `bank_ref`, a transfer recorded before is reported (`"duplicate": true`) and nothing
    is written.
    """
    duplicate = False
    try:
        invoice_id = operators.receive_wire(
            deps, reference=reference, amount=amount, received_on=received_on, actor=actor,
            bank_ref=bank_ref)
    except operators.AlreadyRecorded as recorded:
        earlier = recorded.earlier.invoice_id
        if earlier is None:
            raise UnmatchedWire(str(recorded)) from None
        invoice_id, duplicate = earlier, True
    except operators.UnknownReference as unknown:
        raise UnmatchedWire(str(unknown)) from None
    except ValueError as error:  # a transfer in another currency than the invoice
        raise BadArgument(str(error)) from None
    with deps.uow_factory() as uow:
        invoice = uow.invoices.get(invoice_id=invoice_id, lines=False)
    assert invoice is not None
    return {"invoice_id": invoice.id, "invoice": invoice.number, "status": invoice.status.value,
            "amount_due_minor": invoice.amount_due.minor, "received_minor": amount.minor,
            "bank_ref": bank_ref, "duplicate": duplicate}


def run_renewals(deps: Deps, *, as_of: date, actor: str) -> dict[str, Any]:
    """Issue every renewal due on or before `as_of` now (the scheduler's renewal step, after
    its endings pass: a subscription ending by then gets its final invoice, not a renewal)."""
    ended = end_due_subscriptions(deps, as_of=as_of)
    issued = sum(len(result.issued) for result in ended) + renew_due(deps, as_of=as_of)
    with deps.uow_factory() as uow:
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor, action="renewals.run",
                                       target=as_of.isoformat(), details={"issued": issued}))
        uow.commit()
    return {"as_of": as_of.isoformat(), "issued": issued}
