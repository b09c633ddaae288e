"""Stripe event handlers: payments through the transition function, card changes retry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from adapters import stripe_events
from domain.accounts import MethodType
from domain.records import WebhookEvent
from workers.handlers.accounts import change_payment_method
from workers.handlers.apply import record_event
from workers.handlers.deps import Deps
from workers.handlers.webhook_results import Handled, Parked, Result, find_attempt


def on_payment(deps: Deps, stored: WebhookEvent) -> Result:
    """PaymentIntent lifecycle, refunds and disputes: one event on the attempt."""
    change = stripe_events.payment_change(stored.payload)
    if change is None:
        return Handled("nothing to apply")
    intent = change.intent_id
    if intent is None and change.attempt_id is None and change.charge_id is not None:
        # Older API versions name only the charge on a dispute: ask Stripe for its payment.
        intent = deps.card.intent_of_charge(charge_id=change.charge_id)
    with deps.uow_factory() as uow:
        attempt = find_attempt(uow, attempt_id=change.attempt_id, provider_ref=intent)
    if attempt is None:
        # The synchronous response may not be recorded yet, or Stripe could not say which
        # payment the charge belongs to: parked, and tried again.
        return Parked(f"no attempt for {intent or stored.resource_id} yet")
    return Handled(record_event(deps, attempt_id=attempt.id, event=change.event).note)


def on_method(deps: Deps, stored: WebhookEvent) -> Result:
    """A card attached / updated / set up: it becomes the account's card, and every open
    balance is retried at once, oldest first (by `change_payment_method`)."""
    change = stripe_events.method_change(stored.payload)
    if change is None:
        return Handled("no customer on the event")
    with deps.uow_factory() as uow:
        account = uow.accounts.by_provider_ref(provider_customer=change.customer)
    if account is None:
        return Handled(f"no account for customer {change.customer}")
    method = account.payment_method
    if method.type is not MethodType.CARD:
        return Handled(f"account {account.id} pays by {method.type}; card not switched")
    if method.provider_method == change.payment_method and method.usable:
        return Handled(f"card {change.payment_method} already on file")
    details = {k: v for k, v in method.details.items() if k != "unusable_reason"}
    change_payment_method(deps, account_id=account.id, actor=f"stripe:{stored.type}",
                          method=replace(method, provider_method=change.payment_method,
                                         usable=True, details=details, display=None))
    return Handled(f"card {change.payment_method} on file; open balances retried")


HANDLERS: dict[str, Callable[[Deps, WebhookEvent], Result]] = {
    **{kind: on_payment for kind in stripe_events.PAYMENT_INTENT_EVENTS},
    **{kind: on_payment for kind in stripe_events.REVERSAL_EVENTS},
    **{kind: on_method for kind in stripe_events.METHOD_EVENTS},
}
