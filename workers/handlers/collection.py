"""Collection: route finalised invoices to their payment methods (in batches), and
reconcile attempts we lost track of. Running attempts is workers/handlers/collect_batch.py.

The attempt row is written (SCHEDULED) before any provider call, and claimed (SCHEDULED →
PROCESSING, compare-and-set) before the call: a redelivered or duplicated message finds it
already claimed and does nothing, so a charge is never sent twice for one attempt. A crash
after the claim leaves it PROCESSING, which the sweeper reconciles with the provider.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from domain.accounts import Account, MethodType
from domain.errors import UnknownAttempt, UnknownInvoice
from domain.invoices import Invoice, InvoiceStatus
from domain.outcomes import Outcome, ProviderEvent, TransientFailure, Unknown
from domain.payments import ACTIVE_STATUSES, AttemptStatus, PaymentAttempt
from workers.handlers.apply import record_event
from workers.handlers.collect_batch import collect_attempt, collect_attempts, mark_answered
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.collection")


def route_invoices(deps: Deps, *, invoice_ids: Sequence[str],
                   reason: str = "renewal") -> dict[str, str]:
    """Create each invoice's first attempt (if it has none active) and send the attempts to
    their workers, one collect message per method per batch.

    Three statements for the whole batch: the invoices with their accounts, their attempts,
    one multi-row insert. Returns the attempt id sent per invoice (an invoice left out has
    nothing to collect, or a concurrent router won and its message carries the attempt).
    """
    now = deps.clock.now()
    wanted = list(dict.fromkeys(invoice_ids))
    routed: dict[str, PaymentAttempt] = {}
    with deps.uow_factory() as uow:
        found = uow.invoices.get_many_with_accounts(invoice_ids=wanted)
        _unknown(wanted, found)
        # One read gives both the active attempt (if any) and the next attempt's number.
        earlier = uow.attempts.list_for_invoices(invoice_ids=list(found))
        new: list[PaymentAttempt] = []
        for invoice_id in (i for i in wanted if i in found):
            invoice, account = found[invoice_id]
            active = next((a for a in earlier[invoice_id] if a.status in ACTIVE_STATUSES), None)
            if active is not None:
                routed[invoice_id] = active
            elif _collectable(invoice, account):
                new.append(new_attempt(invoice=invoice, account=account,
                                       number=len(earlier[invoice_id]) + 1, now=now,
                                       retry_schedule=deps.retry_policy.schedule_days,
                                       reason=reason))
        if new:
            added = uow.attempts.add_many(attempts=new)
            routed.update((a.invoice_id, a) for a in new if a.id in added)
            uow.commit()
    send_collect(deps, [a for a in routed.values() if a.status is AttemptStatus.SCHEDULED])
    return {invoice_id: attempt.id for invoice_id, attempt in routed.items()}


def route_invoice(deps: Deps, *, invoice_id: str, reason: str = "renewal") -> str | None:
    """One invoice: a batch of one. Returns the attempt id sent, or None when there is
    nothing to collect."""
    return route_invoices(deps, invoice_ids=[invoice_id], reason=reason).get(invoice_id)


def send_collect(deps: Deps, attempts: Sequence[PaymentAttempt]) -> None:
    """One collect message per method (the dispatcher caps its size: COLLECT_BATCH_SIZE)."""
    by_method: dict[str, list[str]] = {}
    for attempt in attempts:
        by_method.setdefault(attempt.method.value, []).append(attempt.id)
    for method, attempt_ids in by_method.items():
        deps.dispatch.collect_many(attempt_ids, method)


def _unknown(wanted: list[str], found: Mapping[str, object]) -> None:
    missing = [invoice_id for invoice_id in wanted if invoice_id not in found]
    if missing and not found:
        raise UnknownInvoice(missing[0])  # a batch of one: the message can never succeed
    for invoice_id in missing:
        log.warning("unknown invoice in a batch; not routed", extra={"invoice_id": invoice_id})


def _collectable(invoice: Invoice, account: Account) -> bool:
    return (invoice.status is InvoiceStatus.OPEN and invoice.amount_due.is_positive()
            and account.payment_method.usable)


def new_attempt(*, invoice: Invoice, account: Account, number: int, now: datetime,
                retry_schedule: tuple[int, ...], reason: str) -> PaymentAttempt:
    return PaymentAttempt(
        id=str(uuid.uuid4()), invoice_id=invoice.id, account_id=account.id,
        method=account.payment_method.type, number=number, amount=invoice.amount_due,
        status=AttemptStatus.SCHEDULED, created_at=now, updated_at=now,
        scheduled_for=now, retry_schedule_days=retry_schedule, reason=reason)


def reconcile_attempt(deps: Deps, *, attempt_id: str) -> AttemptStatus | None:
    """Ask the provider what happened to an attempt we lost track of (never re-charge)."""
    with deps.uow_factory() as uow:
        attempt = uow.attempts.get(attempt_id=attempt_id)
    if attempt is None:
        raise UnknownAttempt(attempt_id)
    if attempt.status is AttemptStatus.PROCESSING:
        # Stuck mid-call (worker killed): first record that we do not know, then look.
        record_event(deps, attempt_id=attempt_id, event=Unknown("stuck while processing"))
        return None  # recording Unknown enqueues this reconciliation again
    if attempt.status is AttemptStatus.UNKNOWN:
        found = _lookup(deps, attempt)
    elif attempt.status is AttemptStatus.PENDING and attempt.provider_ref:
        found = poll(deps, attempt)
    else:
        return None
    if isinstance(found, TransientFailure | Unknown):
        return None  # provider unreachable: the sweeper asks again when it was due to
    decision = record_event(deps, attempt_id=attempt_id, event=found)
    if decision.attempt is None:
        mark_answered(deps, attempt_id=attempt_id)
    return decision.status


def _lookup(deps: Deps, attempt: PaymentAttempt) -> Outcome | ProviderEvent:
    if attempt.method is MethodType.CARD:
        return deps.card.find_payment(attempt_id=attempt.id)
    if attempt.method is MethodType.DIRECT_DEBIT:
        # The account's mandate narrows the search (GoCardless cannot filter by metadata).
        with deps.uow_factory() as uow:
            account = uow.accounts.get(account_id=attempt.account_id)
        method = account.payment_method if account is not None else None
        mandate = (method.provider_method if method is not None
                   and method.type is MethodType.DIRECT_DEBIT else None)
        return deps.direct_debit.find_payment(attempt_id=attempt.id, mandate_id=mandate)
    # Publishing wire instructions is idempotent per invoice (same stream event id, same
    # Message-ID), so "did it happen?" is answered by doing it again.
    with deps.uow_factory() as uow:
        invoice = uow.invoices.get(invoice_id=attempt.invoice_id)
        account = uow.accounts.get(account_id=attempt.account_id)
    assert invoice is not None and account is not None
    return deps.wire.publish(invoice=invoice, account=account, due_days=deps.wire_due_days)


def poll(deps: Deps, attempt: PaymentAttempt) -> Outcome | ProviderEvent:
    assert attempt.provider_ref is not None
    if attempt.method is MethodType.DIRECT_DEBIT:
        return deps.direct_debit.payment_status(provider_ref=attempt.provider_ref)
    return deps.card.find_payment(attempt_id=attempt.id)


__all__ = ["collect_attempt", "collect_attempts", "new_attempt", "poll", "reconcile_attempt",
           "route_invoice", "route_invoices", "send_collect"]
