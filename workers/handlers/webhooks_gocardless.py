"""GoCardless event handlers: payments through the transition function, mandates → method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from adapters import gocardless_events
from adapters.gocardless_events import MANDATE_USABLE, Wait
from domain.accounts import Account, MethodType, PaymentMethod
from domain.event_payloads import payment_method_required
from domain.events import CustomerMessage
from domain.outgoing_events import EventType
from domain.payments import SETTLED_STATUSES
from domain.records import AuditEntry, WebhookEvent
from workers.handlers.accounts import change_payment_method
from workers.handlers.apply import AfterCommit, notify, record_event
from workers.handlers.deps import Deps
from workers.handlers.events import emit
from workers.handlers.webhook_results import Handled, Parked, Result, find_attempt

PROVIDER = "gocardless"


def _history(deps: Deps, resource: str | None) -> list[dict[str, Any]]:
    if resource is None:
        return []
    with deps.uow_factory() as uow:
        stored = uow.webhook_events.for_resource(provider=PROVIDER, resource_id=resource)
    return [event.payload for event in stored]


def _attempt_id(payload: dict[str, Any]) -> str | None:
    # Newer events carry the payment's metadata as `resource_metadata`.
    for key in ("resource_metadata", "metadata"):
        value = (payload.get(key) or {}).get("attempt_id")
        if isinstance(value, str) and value:
            return value
    return None


def on_payment(deps: Deps, stored: WebhookEvent) -> Result:
    payment = stored.resource_id
    with deps.uow_factory() as uow:
        attempt = find_attempt(uow, attempt_id=_attempt_id(stored.payload), provider_ref=payment)
    if attempt is None:
        return Parked(f"no attempt for payment {payment} yet")
    steps = gocardless_events.payment_events(
        stored.payload, amount=attempt.amount, settled=attempt.status in SETTLED_STATUSES,
        history=_history(deps, payment))
    if isinstance(steps, Wait):
        return Parked(steps.reason)
    notes = [record_event(deps, attempt_id=attempt.id, event=step).note for step in steps]
    return Handled("; ".join(notes) or f"{stored.type}: nothing to apply")


def on_mandate(deps: Deps, stored: WebhookEvent) -> Result:
    """A mandate's status is the account's direct-debit method's `usable` flag; a mandate
    usable again (or replaced by a new one) retries every open balance."""
    mandate, action = stored.resource_id, str(stored.payload.get("action"))
    if not gocardless_events.mandate_is_latest(stored.payload, _history(deps, mandate)):
        return Handled(f"mandates.{action} superseded by a later event of {mandate}")
    with deps.uow_factory() as uow:
        account = uow.accounts.by_provider_ref(provider_method=mandate)
    if account is None or account.payment_method.type is not MethodType.DIRECT_DEBIT:
        return Handled(f"no account collects on mandate {mandate}")
    method = account.payment_method
    details = {k: v for k, v in method.details.items() if k != "unusable_reason"}
    if action == "replaced":
        new = (stored.payload.get("links") or {}).get("new_mandate")
        if not isinstance(new, str):
            return Handled("replaced without a new mandate")
        change_payment_method(deps, account_id=account.id, actor="gocardless:mandates.replaced",
                              method=replace(method, provider_method=new, usable=True,
                                             details=details, display=None))
        return Handled(f"mandate {mandate} replaced by {new}; open balances retried")
    usable = MANDATE_USABLE[action]
    if usable:
        if method.usable:
            return Handled(f"mandate {mandate} already usable")
        change_payment_method(deps, account_id=account.id, actor=f"gocardless:{stored.type}",
                              method=replace(method, usable=True, details=details))
        return Handled(f"mandate {mandate} {action}: usable again; open balances retried")
    _disable(deps, account=account, reason=f"mandate {action}", mandate=str(mandate),
             method=replace(method, usable=False,
                            details={**details, "unusable_reason": f"mandate_{action}"}))
    return Handled(f"mandate {mandate} {action}: not usable; the customer is asked for a new "
                   "method")


def _disable(deps: Deps, *, account: Account, reason: str, mandate: str,
             method: PaymentMethod) -> None:
    """Mark the method unusable and tell the customer, once per mandate (no payment failed:
    without the notice, collection would just stop)."""
    after = AfterCommit()
    with deps.uow_factory() as uow:
        if account.payment_method.usable:  # reported once, when it stops being usable
            # Numbered at commit, after the account row is written: every emitter locks its
            # rows first and the event counter last.
            emit(uow, account_id=account.id, type=EventType.PAYMENT_METHOD_REQUIRED,
                 occurred_at=deps.clock.now(),
                 data=payment_method_required(account_id=account.id, method=method,
                                              reason=reason))
        uow.accounts.update_payment_method(account_id=account.id, method=method)
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor="gocardless",
                                       action="payment_method.unusable", target=account.id,
                                       reason=reason))
        notify(uow, deps, kind=CustomerMessage.MANDATE_ENDED.value, account=account,
               invoice=None, attempt=None, after=after, about=f"mandate:{mandate}")
        uow.commit()
    after.send(deps)


PAYMENT_ACTIONS = ("submitted", "confirmed", "paid_out", "failed", "late_failure_settled",
                   "charged_back", "chargeback_cancelled", "resubmission_requested",
                   "cancelled", "customer_approval_denied")

HANDLERS: dict[str, Callable[[Deps, WebhookEvent], Result]] = {
    **{f"payments.{action}": on_payment for action in PAYMENT_ACTIONS},
    **{f"mandates.{action}": on_mandate for action in gocardless_events.MANDATE_ACTIONS},
}
