"""Stripe calls that put a card on file: a customer, a Checkout Session in setup mode, and
reading back what the customer set up (SetupIntent → PaymentMethod → card brand and last 4).

Mixed into `StripeGateway` (it provides `_client` and `_retry`); one method per Stripe call,
answers in domain values. A Stripe that cannot be reached (after the transient retries), or
that refuses the call, raises `ProviderUnavailable`: nothing of ours was written yet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe

from adapters.stripe_retry import TransientRetry
from domain.setups import CardOnFile, ProviderUnavailable, SetupIncomplete, SetupSession

T = TypeVar("T")


def _card(intent: stripe.SetupIntent) -> CardOnFile | SetupIncomplete:
    if intent.status != "succeeded":
        return SetupIncomplete(f"setup intent {intent.id} is {intent.status}")
    method = intent.payment_method
    card = getattr(method, "card", None)
    if method is None or isinstance(method, str) or card is None:
        return SetupIncomplete(f"setup intent {intent.id} has no card")
    customer = intent.customer if isinstance(intent.customer, str) else getattr(
        intent.customer, "id", None)
    return CardOnFile(payment_method=method.id, customer=str(customer or method.customer),
                      brand=str(card.brand), last4=str(card.last4),
                      exp_month=int(card.exp_month), exp_year=int(card.exp_year))


class StripeSetups:
    _client: stripe.StripeClient
    _retry: TransientRetry

    def _setup_call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return self._retry.run(call)
        except stripe.StripeError as exc:
            # user_message masks keys ("sk_test_****abcd"); the key itself is never shown.
            raise ProviderUnavailable(f"Stripe {what} failed: {type(exc).__name__}: "
                                      f"{exc.user_message}") from exc

    def create_customer(self, *, account_id: str, name: str, email: str | None) -> str:
        """The account's Stripe customer (the same key and parameters as onboarding: a
        second call within Stripe's 24 hours of key memory returns the same customer)."""
        params: Any = {"name": name, "email": email or "", "metadata": {"account_id": account_id}}
        customer = self._setup_call("customer create", lambda: self._client.v1.customers.create(
            params, {"idempotency_key": f"paycollect-customer-{account_id}"}))
        return str(customer.id)

    def start_card_setup(self, *, setup_id: str, account_id: str, customer: str,
                         currency: str, success_url: str, cancel_url: str) -> SetupSession:
        """A Checkout Session in setup mode; its `url` is the page the customer opens."""
        metadata = {"setup_id": setup_id, "account_id": account_id}
        params: Any = {"mode": "setup", "customer": customer, "currency": currency.lower(),
                       "success_url": success_url, "cancel_url": cancel_url,
                       "client_reference_id": setup_id, "metadata": metadata,
                       "setup_intent_data": {"metadata": metadata}}
        session = self._setup_call("checkout session create",
                                   lambda: self._client.v1.checkout.sessions.create(
                                       params, {"idempotency_key": f"paycollect-{setup_id}"}))
        expires = getattr(session, "expires_at", None)
        return SetupSession(provider_ref=session.id, url=str(session.url), customer=customer,
                            expires_at=datetime.fromtimestamp(expires, UTC)
                            if isinstance(expires, int) else None)

    def card_of_session(self, *, session_id: str) -> CardOnFile | SetupIncomplete:
        session = self._setup_call("checkout session read",
                                   lambda: self._client.v1.checkout.sessions.retrieve(
                                       session_id))
        if session.status != "complete" or not session.setup_intent:
            return SetupIncomplete(f"checkout session {session_id} is {session.status}")
        intent = session.setup_intent
        intent_id = intent if isinstance(intent, str) else intent.id
        return self.card_of_setup_intent(setup_intent_id=intent_id)

    def card_of_setup_intent(self, *, setup_intent_id: str) -> CardOnFile | SetupIncomplete:
        intent = self._setup_call("setup intent read",
                                  lambda: self._client.v1.setup_intents.retrieve(
                                      setup_intent_id, {"expand": ["payment_method"]}))
        return _card(intent)

    def create_setup_intent(self, *, setup_id: str, customer: str) -> tuple[str, str]:
        """A SetupIntent for an on-page (Stripe.js) flow: `(id, client_secret)`."""
        params: Any = {"customer": customer, "usage": "off_session",
                       "payment_method_types": ["card"], "metadata": {"setup_id": setup_id}}
        intent = self._setup_call("setup intent create",
                                  lambda: self._client.v1.setup_intents.create(
                                      params, {"idempotency_key": f"paycollect-{setup_id}"}))
        return str(intent.id), str(intent.client_secret)
