"""Stripe gateway: one method per Stripe call, each answering in domain outcomes.

Talks to Stripe (or the simulator, or localstripe) through the official SDK. Nothing the SDK
returns leaves this module: callers get `domain.outcomes` values, `Refunded`, or ids.

Transient faults (timeouts, connection errors, 5xx, 409, 429) are retried here with tenacity,
re-sending the same idempotency key, so Stripe executes a call at most once however often we
send it. When retries run out on a charge we cannot know whether money moved: the answer is
`Unknown`, and the caller must reconcile with `find_payment` before any new attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from adapters.stripe_http import CurlClient
from adapters.stripe_retry import TransientRetry
from adapters.stripe_setups import StripeSetups
from domain.declines import classify_stripe
from domain.money import Money
from domain.outcomes import Charged, Declined, DeclineKind, NotFound, Pending, Unknown

#: Stripe takes ISK as a two-decimal amount (5 ISK is 500) although ISO 4217 says zero.
_STRIPE_FACTOR = {"ISK": 100}
#: Stripe's three-decimal currencies accept only amounts ending in 0.
_THREE_DECIMAL = frozenset({"KWD", "BHD", "TND", "JOD", "OMR"})
#: Best PaymentIntent first when reconciliation finds several for one attempt.
_STATUS_RANK = {"succeeded": 0, "processing": 1, "requires_capture": 1, "requires_action": 2}

#: What TransientRetry retries; once retries run out, these mean "no answer".
SDK_TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)

__all__ = ["Refunded", "StripeGateway", "StripeGatewayError", "TransientRetry",
           "UnsupportedAmount", "from_stripe_amount", "outcome_of", "to_stripe_amount"]


class UnsupportedAmount(ValueError):
    """An amount Stripe cannot represent (a three-decimal amount not ending in 0)."""


class StripeGatewayError(RuntimeError):
    """Stripe refused a non-payment call (onboarding) or could not be reached."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Refunded:
    provider_ref: str
    amount: Money
    status: str


def to_stripe_amount(amount: Money) -> tuple[int, str]:
    """Money as Stripe's (`amount`, `currency`): minor units, JPY whole yen, ISK times 100."""
    if amount.currency in _THREE_DECIMAL and amount.minor % 10:
        raise UnsupportedAmount(f"Stripe needs {amount.currency} amounts ending in 0: {amount}")
    return amount.minor * _STRIPE_FACTOR.get(amount.currency, 1), amount.currency.lower()


def from_stripe_amount(amount: int, currency: str) -> Money:
    code = currency.upper()
    return Money(amount // _STRIPE_FACTOR.get(code, 1), code)


def _error_code(exc: stripe.StripeError) -> str | None:
    return exc.error.code if exc.error is not None else exc.code


def _misconfigured(exc: stripe.StripeError) -> StripeGatewayError:
    # Bad key, missing permission, malformed call: nothing a customer did, and no money moved.
    return StripeGatewayError(f"{type(exc).__name__}: {exc.user_message}", code=_error_code(exc))


def _unknown(exc: stripe.StripeError) -> Unknown:
    return Unknown(reason=f"{type(exc).__name__} after retries: {exc.user_message}")


def _declined(*, code: str | None, decline_code: str | None, advice_code: str | None,
              message: str | None, provider_ref: str | None) -> Declined:
    kind = classify_stripe(code=code, decline_code=decline_code, advice_code=advice_code)
    return Declined(kind=kind, code=decline_code or code or "card_declined",
                    message=message or "", provider_ref=provider_ref)


def _field(obj: object, name: str) -> str | None:
    # StripeObject raises AttributeError for keys the response left out (localstripe omits
    # decline_code, older API versions advice_code); absent means None here.
    value = getattr(obj, name, None)
    return value if isinstance(value, str) else None


class _Fields:
    """A JSON object from Stripe read by attribute, as a StripeObject is: a key the answer
    left out raises AttributeError, a nested object is read the same way."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._values[name]
        except KeyError:
            raise AttributeError(name) from None
        return _Fields(value) if isinstance(value, dict) else value


def _attempt_of(intent: stripe.PaymentIntent) -> str | None:
    return _field(getattr(intent, "metadata", None), "attempt_id")


def _from_card_error(exc: stripe.CardError) -> Declined:
    error = exc.error
    return _declined(code=exc.code, decline_code=_field(error, "decline_code"),
                     advice_code=_field(error, "advice_code"), message=exc.user_message,
                     provider_ref=_field(getattr(error, "payment_intent", None), "id"))


def outcome_of(intent: stripe.PaymentIntent | _Fields) -> Charged | Pending | Declined:
    """What a PaymentIntent's status means for our attempt."""
    amount = from_stripe_amount(intent.amount, intent.currency)
    if intent.status == "succeeded":
        # localstripe leaves out amount_received; Stripe always sets it (automatic capture).
        received = getattr(intent, "amount_received", None)
        return Charged(provider_ref=intent.id, amount=amount if not isinstance(received, int)
                       else from_stripe_amount(received, intent.currency))
    if intent.status in ("processing", "requires_capture"):
        return Pending(provider_ref=intent.id, amount=amount)
    if intent.status == "requires_action":
        return Declined(kind=DeclineKind.CUSTOMER_ACTION, code="authentication_required",
                        message="The customer must authenticate this payment.",
                        provider_ref=intent.id)
    error = getattr(intent, "last_payment_error", None)
    if error is not None:
        return _declined(code=_field(error, "code"), decline_code=_field(error, "decline_code"),
                         advice_code=_field(error, "advice_code"),
                         message=_field(error, "message"), provider_ref=intent.id)
    # Never confirmed or canceled: this attempt collected nothing and never will.
    return Declined(kind=DeclineKind.SOFT, code=intent.status, provider_ref=intent.id)


class StripeGateway(StripeSetups):
    """Card payments through Stripe's PaymentIntents API, off-session (and card setups:
    adapters/stripe_setups.py)."""

    def __init__(self, *, api_key: str, api_base: str, max_network_retries: int = 0,
                 timeout_seconds: float = 10.0, transient_retry: TransientRetry | None = None,
                 http_client: stripe.HTTPClient | None = None) -> None:
        self._retry = transient_retry or TransientRetry()
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=max_network_retries,
            http_client=http_client or CurlClient(api_base, timeout=timeout_seconds))

    def charge(self, *, attempt_id: str, customer: str, payment_method: str, amount: Money,
               invoice_id: str, account_id: str) -> Charged | Pending | Declined | Unknown:
        """Create and confirm an off-session PaymentIntent keyed (idempotency) by the attempt."""
        value, currency = to_stripe_amount(amount)
        params: Any = {
            "amount": value, "currency": currency, "customer": customer,
            "payment_method": payment_method, "confirm": True, "off_session": True,
            "metadata": {"attempt_id": attempt_id, "invoice_id": invoice_id,
                         "account_id": account_id}}
        try:
            # The SDK's request, errors and idempotency as `payment_intents.create`, without
            # building a StripeObject of the answer (a tenth of a charge's CPU): the answer
            # is read once, by outcome_of, as the JSON Stripe sent.
            intent = _Fields(self._retry.run(lambda: self._client.raw_request(
                "post", "/v1/payment_intents", **params, idempotency_key=attempt_id)).data)
        except stripe.CardError as exc:
            return _from_card_error(exc)
        except stripe.IdempotencyError as exc:
            # The key was used with other parameters: a bug, and the first use may have
            # charged. Reconcile rather than guess.
            return Unknown(reason=f"idempotency_error: {exc.user_message}")
        except stripe.InvalidRequestError as exc:
            # Stripe will refuse this again (missing customer, detached card…): needs a person.
            return Declined(kind=DeclineKind.HARD, code=_error_code(exc) or "invalid_request",
                            message=exc.user_message or "")
        except SDK_TRANSIENT as exc:
            return _unknown(exc)
        except stripe.StripeError as exc:
            raise _misconfigured(exc) from exc
        return outcome_of(intent)

    def find_payment(self, *, attempt_id: str, customer: str | None = None
                     ) -> Charged | Pending | Declined | NotFound | Unknown:
        """Reconcile an attempt: its PaymentIntent's outcome, NotFound, or Unknown if unreachable.

        Stripe's search can lag a minute behind writes; given `customer`, the (consistent)
        list endpoint is read as well before answering NotFound.
        """
        escaped = attempt_id.replace("\\", "\\\\").replace("'", "\\'")
        try:
            found = list(self._retry.run(lambda: self._client.v1.payment_intents.search(
                {"query": f"metadata['attempt_id']:'{escaped}'", "limit": 10})).data)
            if not found and customer is not None:
                found = self._retry.run(lambda: self._listed(customer, attempt_id))
        except SDK_TRANSIENT as exc:
            return _unknown(exc)
        except stripe.StripeError as exc:
            raise _misconfigured(exc) from exc
        found = [pi for pi in found if _attempt_of(pi) == attempt_id]
        if not found:
            return NotFound()
        return outcome_of(min(found, key=lambda pi: _STATUS_RANK.get(pi.status, 3)))

    def intent_of_charge(self, *, charge_id: str) -> str | None:
        """The PaymentIntent of `charge_id` (None: unknown charge, no intent, or unreachable:
        a webhook waiting for it is parked and tried again)."""
        try:
            charge = self._retry.run(lambda: self._client.v1.charges.retrieve(charge_id))
        except (*SDK_TRANSIENT, stripe.InvalidRequestError):
            return None
        except stripe.StripeError as exc:
            raise _misconfigured(exc) from exc
        return _field(charge, "payment_intent")

    def _listed(self, customer: str, attempt_id: str) -> list[stripe.PaymentIntent]:
        page = self._client.v1.payment_intents.list({"customer": customer, "limit": 100})
        return [pi for pi in page.auto_paging_iter() if _attempt_of(pi) == attempt_id]

    def retrieve(self, *, provider_ref: str) -> Charged | Pending | Declined | NotFound | Unknown:
        try:
            intent = self._retry.run(lambda: self._client.v1.payment_intents.retrieve(provider_ref))
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return NotFound()
            raise _misconfigured(exc) from exc
        except SDK_TRANSIENT as exc:
            return _unknown(exc)
        except stripe.StripeError as exc:
            raise _misconfigured(exc) from exc
        return outcome_of(intent)

    def refund(self, *, provider_ref: str, amount: Money | None, idempotency_key: str
               ) -> Refunded | Declined | Unknown:
        """Refund a PaymentIntent (all of it when `amount` is None)."""
        params: Any = {"payment_intent": provider_ref}
        if amount is not None:
            params["amount"] = to_stripe_amount(amount)[0]
        try:
            made = self._retry.run(lambda: self._client.v1.refunds.create(
                params, {"idempotency_key": idempotency_key}))
        except stripe.InvalidRequestError as exc:
            return Declined(kind=DeclineKind.HARD, code=_error_code(exc) or "invalid_request",
                            message=exc.user_message or "", provider_ref=provider_ref)
        except SDK_TRANSIENT as exc:
            return _unknown(exc)
        except stripe.StripeError as exc:
            raise _misconfigured(exc) from exc
        return Refunded(provider_ref=made.id, amount=from_stripe_amount(made.amount, made.currency),
                        status=made.status or "pending")

    def ensure_customer(self, *, account_id: str, name: str, email: str | None,
                        payment_method: str) -> tuple[str, str]:
        """Create the account's customer and attach its card; returns (customer id, card id).

        Idempotent through keys derived from the account (Stripe keeps keys 24 hours: store
        the ids). A magic test card such as `pm_card_visa` becomes a new `pm_…` on attach.
        """
        try:
            customer = self._retry.run(lambda: self._client.v1.customers.create(
                {"name": name, "email": email or "", "metadata": {"account_id": account_id}},
                {"idempotency_key": f"paycollect-customer-{account_id}"}))
            method = self._retry.run(lambda: self._client.v1.payment_methods.attach(
                payment_method, {"customer": customer.id},
                {"idempotency_key": f"paycollect-attach-{account_id}-{payment_method}"}))
            self._retry.run(lambda: self._client.v1.customers.update(
                customer.id, {"invoice_settings": {"default_payment_method": method.id}},
                {"idempotency_key": f"paycollect-default-{account_id}-{method.id}"}))
        except stripe.StripeError as exc:
            raise StripeGatewayError(f"onboarding {account_id} failed: {exc.user_message}",
                                     code=_error_code(exc)) from exc
        return customer.id, method.id
