"""Webhook handlers that complete payment-method setups (see setup_completion.py).

An event names its setup by our id in the provider object's metadata (`setup_id`), else by the
provider object (Checkout Session, Billing Request) or customer recorded when it started.
What the customer set up is read back from the provider (the events do not carry the card's
or bank account's details); an unreachable provider raises, and the inbox row is parked and
re-driven.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.accounts import MethodType
from domain.ports_gateways import CardSetupGateway
from domain.records import WebhookEvent
from domain.setups import (
    CardOnFile,
    PaymentMethodSetup,
    ProviderUnavailable,
    SetupIncomplete,
    SetupStatus,
)
from workers.handlers import webhooks_stripe
from workers.handlers.deps import Deps
from workers.handlers.setup_completion import card_method, complete_setup, mandate_method
from workers.handlers.webhook_results import Handled, Parked, Result


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    obj = (payload.get("data") or {}).get("object")
    return obj if isinstance(obj, dict) else {}


def _setup(deps: Deps, *, setup_id: object, provider: str,
           provider_ref: str | None) -> PaymentMethodSetup | None:
    with deps.uow_factory() as uow:
        if isinstance(setup_id, str) and setup_id:
            found = uow.setups.get(setup_id=setup_id)
            if found is not None:
                return found
        if provider_ref:
            return uow.setups.by_provider_ref(provider=provider, provider_ref=provider_ref)
    return None


def _complete_card(deps: Deps, setup: PaymentMethodSetup, stored: WebhookEvent, *,
                   read: Callable[[CardSetupGateway], CardOnFile | SetupIncomplete]) -> Result:
    if setup.status is SetupStatus.COMPLETED:
        return Handled(f"setup {setup.id} already completed")
    if deps.card_setup is None:
        raise ProviderUnavailable("no card provider configured to read the setup")
    card = read(deps.card_setup)
    if isinstance(card, SetupIncomplete):
        return Parked(card.reason)
    return Handled(complete_setup(deps, setup=setup, method=card_method(card),
                                  actor=f"stripe:{stored.type}"))


def on_checkout_completed(deps: Deps, stored: WebhookEvent) -> Result:
    session = _object(stored.payload)
    if session.get("mode") != "setup":
        return Handled("not a setup-mode Checkout Session")
    metadata = session.get("metadata") or {}
    setup = _setup(deps, setup_id=metadata.get("setup_id") or session.get(
        "client_reference_id"), provider="stripe", provider_ref=session.get("id"))
    if setup is None:
        return Handled(f"no setup for checkout session {session.get('id')}")
    return _complete_card(deps, setup, stored, read=lambda gateway: gateway.card_of_session(
        session_id=str(session["id"])))


def on_setup_intent_succeeded(deps: Deps, stored: WebhookEvent) -> Result:
    intent = _object(stored.payload)
    setup = _setup(deps, setup_id=(intent.get("metadata") or {}).get("setup_id"),
                   provider="stripe", provider_ref=None)
    if setup is None:
        # A SetupIntent of a flow we did not start: the card-on-file path decides.
        return webhooks_stripe.on_method(deps, stored)
    return _complete_card(deps, setup, stored, read=lambda gateway: gateway.card_of_setup_intent(
        setup_intent_id=str(intent["id"])))


def _complete_mandate(deps: Deps, setup: PaymentMethodSetup, stored: WebhookEvent,
                      *, mandate_id: str | None = None) -> Result:
    if deps.direct_debit_setup is None:
        raise ProviderUnavailable("no direct-debit provider configured to read the setup")
    found = deps.direct_debit_setup.mandate_of_billing_request(
        billing_request_id=setup.provider_ref)
    if isinstance(found, SetupIncomplete):
        return Parked(found.reason)
    if mandate_id is not None and found.mandate != mandate_id:
        return Handled(f"mandate {mandate_id} is not the one of setup {setup.id}")
    return Handled(complete_setup(deps, setup=setup, method=mandate_method(found),
                                  actor=f"gocardless:{stored.type}"))


def on_billing_request_fulfilled(deps: Deps, stored: WebhookEvent) -> Result:
    metadata = stored.payload.get("resource_metadata") or {}
    setup = _setup(deps, setup_id=metadata.get("setup_id"), provider="gocardless",
                   provider_ref=stored.resource_id)
    if setup is None:
        return Handled(f"no setup for billing request {stored.resource_id}")
    if setup.status is SetupStatus.COMPLETED:
        return Handled(f"setup {setup.id} already completed")
    return _complete_mandate(deps, setup, stored)


def on_mandate_created(deps: Deps, stored: WebhookEvent) -> Result:
    links = stored.payload.get("links") or {}
    metadata = stored.payload.get("resource_metadata") or {}
    setup = _setup(deps, setup_id=metadata.get("setup_id"), provider="gocardless",
                   provider_ref=None)
    if setup is None and isinstance(links.get("customer"), str):
        with deps.uow_factory() as uow:
            open_setups = [s for s in uow.setups.open_for_customer(
                provider="gocardless", provider_customer=links["customer"])
                if s.method is MethodType.DIRECT_DEBIT]
        setup = open_setups[0] if open_setups else None
    if setup is None:
        return Handled(f"no setup waits for mandate {stored.resource_id}")
    if setup.status is SetupStatus.COMPLETED:
        return Handled(f"setup {setup.id} already completed")
    return _complete_mandate(deps, setup, stored, mandate_id=stored.resource_id)


STRIPE_HANDLERS: dict[str, Callable[[Deps, WebhookEvent], Result]] = {
    "checkout.session.completed": on_checkout_completed,
    "setup_intent.succeeded": on_setup_intent_succeeded,
}
GOCARDLESS_HANDLERS: dict[str, Callable[[Deps, WebhookEvent], Result]] = {
    "billing_requests.fulfilled": on_billing_request_fulfilled,
    "mandates.created": on_mandate_created,
}
