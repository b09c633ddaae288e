"""StripeGateway through the real SDK over HTTP: the simulator (faults included) and localstripe."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from adapters.simulators.stripe import SimulatorConfig, WebhookConfig
from adapters.stripe_gateway import (
    Refunded,
    StripeGateway,
    StripeGatewayError,
    UnsupportedAmount,
    from_stripe_amount,
    to_stripe_amount,
)
from domain.money import Money
from domain.outcomes import Charged, Declined, DeclineKind, NotFound, Pending, Unknown
from tests.integration import stripe_fixtures
from tests.integration.stripe_fixtures import (
    API_KEY,
    WEBHOOK_SECRET,
    Receiver,
    StripeSim,
    make_gateway,
)

# The fixtures these tests use: pytest finds fixtures among a module's attributes.
localstripe_url = stripe_fixtures.localstripe_url
start_stripe_sim = stripe_fixtures.start_stripe_sim
stripe_sim = stripe_fixtures.stripe_sim
webhook_receiver = stripe_fixtures.webhook_receiver

EUR_149 = Money(14962, "EUR")


def charge(gateway: StripeGateway, customer: str, method: str, *, attempt: str = "att_1",
           amount: Money = EUR_149) -> Charged | Pending | Declined | Unknown:
    return gateway.charge(attempt_id=attempt, customer=customer, payment_method=method,
                          amount=amount, invoice_id="inv_1", account_id="acme")


def onboard(gateway: StripeGateway, card: str = "pm_card_visa") -> tuple[str, str]:
    return gateway.ensure_customer(account_id=f"acme-{card}", name="Acme SAS",
                                   email="billing@acme.test", payment_method=card)


def test_a_visa_charge_is_charged_for_the_exact_amount(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    customer, method = onboard(gateway)
    outcome = charge(gateway, customer, method)
    assert isinstance(outcome, Charged)
    assert outcome.amount == EUR_149
    assert outcome.provider_ref.startswith("pi_")


@pytest.mark.parametrize(("card", "kind", "code"), [
    ("pm_card_chargeDeclined", DeclineKind.SOFT, "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", DeclineKind.SOFT, "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", DeclineKind.HARD, "lost_card"),
    ("pm_card_chargeDeclinedStolenCard", DeclineKind.HARD, "stolen_card"),
    ("pm_card_chargeDeclinedExpiredCard", DeclineKind.CUSTOMER_ACTION, "expired_card"),
    ("pm_card_chargeDeclinedProcessingError", DeclineKind.SOFT, "processing_error"),
    ("pm_card_authenticationRequired", DeclineKind.CUSTOMER_ACTION, "authentication_required"),
])
def test_each_declining_test_card_is_declined_with_its_kind(
        stripe_sim: StripeSim, card: str, kind: DeclineKind, code: str) -> None:
    gateway = make_gateway(stripe_sim.url)
    customer, method = onboard(gateway, card)
    outcome = charge(gateway, customer, method)
    assert isinstance(outcome, Declined)
    assert (outcome.kind, outcome.code) == (kind, code)
    assert outcome.provider_ref is not None
    assert outcome.provider_ref.startswith("pi_")


def test_a_disputing_card_is_charged(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    assert isinstance(charge(gateway, *onboard(gateway, "pm_card_createDispute")), Charged)


def test_an_intent_waiting_for_authentication_reads_as_customer_action(
        stripe_sim: StripeSim) -> None:
    # Given an on-session intent left in requires_action (made directly with the SDK)
    gateway = make_gateway(stripe_sim.url)
    customer, method = onboard(gateway, "pm_card_authenticationRequired")
    intent = stripe_sim.client().v1.payment_intents.create({
        "amount": 1000, "currency": "eur", "customer": customer, "payment_method": method,
        "confirm": True})
    # When the gateway reads it
    outcome = gateway.retrieve(provider_ref=intent.id)
    # Then the customer must act
    assert outcome == Declined(kind=DeclineKind.CUSTOMER_ACTION, code="authentication_required",
                               message="The customer must authenticate this payment.",
                               provider_ref=intent.id)


def test_a_processing_charge_is_pending_until_it_settles(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    outcome = charge(gateway, *onboard(gateway, "pm_sim_processing"))
    assert isinstance(outcome, Pending)
    assert outcome.amount == EUR_149
    stripe_sim.advance()
    assert isinstance(gateway.retrieve(provider_ref=outcome.provider_ref), Charged)


def test_charging_the_same_attempt_twice_makes_one_payment(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    customer, method = onboard(gateway)
    first, second = charge(gateway, customer, method), charge(gateway, customer, method)
    assert first == second
    assert stripe_sim.stats()["payment_intents"]["total"] == 1


def test_reusing_an_attempt_id_for_another_amount_is_unknown_not_a_second_charge(
        stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    customer, method = onboard(gateway)
    charge(gateway, customer, method)
    outcome = charge(gateway, customer, method, amount=Money(1, "EUR") + EUR_149)
    assert isinstance(outcome, Unknown)
    assert "idempotency_error" in outcome.reason


@pytest.mark.parametrize("fault", ["error", "rate_limit", "timeout", "drop"])
def test_a_transient_fault_is_retried_with_the_same_key_and_charges_once(
        stripe_sim: StripeSim, fault: str) -> None:
    # Given the next two charge requests meet the fault
    gateway = make_gateway(stripe_sim.url, timeout_seconds=0.5)
    customer, method = onboard(gateway)
    stripe_sim.set_faults(script=[fault, fault], timeout_stall_seconds=5)
    # When the gateway charges
    outcome = charge(gateway, customer, method)
    # Then the third try got through (or replayed the stored payment): one charge
    stats = stripe_sim.stats()
    assert isinstance(outcome, Charged)
    assert stats["faults"] == {fault: 2}
    assert stats["succeeded_by_attempt"] == {"att_1": 1}
    assert stats["payment_intents"]["total"] == 1


def test_a_429_is_retried_no_sooner_than_retry_after(stripe_sim: StripeSim) -> None:
    sleeps: list[float] = []
    gateway = make_gateway(stripe_sim.url, sleeps=sleeps)
    customer, method = onboard(gateway)
    stripe_sim.set_faults(script=["rate_limit"], retry_after_seconds=2)
    assert isinstance(charge(gateway, customer, method), Charged)
    assert sleeps == [2.0]


def test_exhausted_retries_are_unknown_and_reconciliation_finds_the_charge(
        stripe_sim: StripeSim) -> None:
    # Given every charge request commits and then loses its connection
    gateway = make_gateway(stripe_sim.url, attempts=3)
    customer, method = onboard(gateway)
    stripe_sim.set_faults(drop_rate=1.0, methods=["POST"])
    # When the gateway charges, it cannot tell what happened
    outcome = charge(gateway, customer, method)
    assert isinstance(outcome, Unknown)
    # Then reconciliation (reads are clean) finds the one payment
    found = gateway.find_payment(attempt_id="att_1")
    assert isinstance(found, Charged)
    assert found.amount == EUR_149
    assert stripe_sim.stats()["succeeded_by_attempt"] == {"att_1": 1}


def test_reconciliation_reports_declines_and_absences(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    customer, method = onboard(gateway, "pm_card_chargeDeclinedInsufficientFunds")
    charge(gateway, customer, method, attempt="att_declined")
    found = gateway.find_payment(attempt_id="att_declined", customer=customer)
    assert isinstance(found, Declined)
    assert found.code == "insufficient_funds"
    assert gateway.find_payment(attempt_id="att_never", customer=customer) == NotFound()
    assert gateway.retrieve(provider_ref="pi_missing") == NotFound()


def test_reconciliation_while_stripe_is_down_is_unknown_never_not_found(
        stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url, attempts=2)
    stripe_sim.set_faults(error_rate=1.0)
    assert isinstance(gateway.find_payment(attempt_id="att_1"), Unknown)


def test_a_refund_is_made_once_per_key(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    paid = charge(gateway, *onboard(gateway))
    assert isinstance(paid, Charged)
    part = Money(5000, "EUR")
    first = gateway.refund(provider_ref=paid.provider_ref, amount=part, idempotency_key="rf_1")
    again = gateway.refund(provider_ref=paid.provider_ref, amount=part, idempotency_key="rf_1")
    assert isinstance(first, Refunded)
    assert first == again
    assert first.amount == part
    rest = gateway.refund(provider_ref=paid.provider_ref, amount=None, idempotency_key="rf_2")
    assert isinstance(rest, Refunded)
    assert rest.amount == EUR_149 - part
    over = gateway.refund(provider_ref=paid.provider_ref, amount=part, idempotency_key="rf_3")
    assert isinstance(over, Declined)
    assert over.code == "charge_already_refunded"


def test_a_charge_names_its_payment_intent(stripe_sim: StripeSim) -> None:
    # Given a paid attempt, and the charge Stripe made for it
    gateway = make_gateway(stripe_sim.url)
    paid = charge(gateway, *onboard(gateway))
    assert isinstance(paid, Charged)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stripe_sim.url})
    charge_id = client.v1.payment_intents.retrieve(paid.provider_ref).latest_charge
    assert isinstance(charge_id, str)
    # When the gateway is asked whose charge it is (an old-API dispute names only the charge)
    # Then it answers with the PaymentIntent, and None for a charge Stripe does not know
    assert gateway.intent_of_charge(charge_id=charge_id) == paid.provider_ref
    assert gateway.intent_of_charge(charge_id="ch_unknown") is None


def test_onboarding_the_same_account_twice_returns_the_same_ids(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    assert onboard(gateway) == onboard(gateway)
    customer = stripe_sim.client().v1.customers.retrieve(onboard(gateway)[0])
    assert customer.invoice_settings.default_payment_method == onboard(gateway)[1]


def test_a_wrong_api_key_is_a_gateway_error_not_a_decline(stripe_sim: StripeSim) -> None:
    with pytest.raises(StripeGatewayError):
        onboard(make_gateway(stripe_sim.url, api_key="sk_test_wrong_key"))


def test_the_charge_webhook_verifies_and_names_the_attempt(
        start_stripe_sim: Callable[..., StripeSim], webhook_receiver: Receiver) -> None:
    sim = start_stripe_sim(SimulatorConfig(api_keys=(API_KEY,), webhooks=WebhookConfig(
        url=webhook_receiver.url, secret=WEBHOOK_SECRET)))
    gateway = make_gateway(sim.url)
    paid = charge(gateway, *onboard(gateway))
    assert sim.simulator.webhooks.wait_idle()
    events = [stripe.Webhook.construct_event(body, headers["stripe-signature"], WEBHOOK_SECRET)
              for headers, body in webhook_receiver.deliveries]
    succeeded = next(e for e in events if e.type == "payment_intent.succeeded")
    assert isinstance(paid, Charged)
    assert succeeded.data.object.id == paid.provider_ref
    assert succeeded.data.object.metadata["invoice_id"] == "inv_1"


@pytest.mark.parametrize(("amount", "stripe_amount"), [
    (Money(14962, "EUR"), (14962, "eur")),
    (Money(1500, "JPY"), (1500, "jpy")),
    (Money(5, "ISK"), (500, "isk")),
    (Money(12340, "KWD"), (12340, "kwd")),
])
def test_money_becomes_stripes_amount_and_back(amount: Money,
                                                stripe_amount: tuple[int, str]) -> None:
    assert to_stripe_amount(amount) == stripe_amount
    assert from_stripe_amount(*stripe_amount) == amount


def test_a_three_decimal_amount_stripe_cannot_take_is_refused() -> None:
    with pytest.raises(UnsupportedAmount):
        to_stripe_amount(Money(12345, "KWD"))


def test_the_gateway_charges_through_localstripe(localstripe_url: str) -> None:
    # Given localstripe, an independent implementation of Stripe's API
    gateway = make_gateway(localstripe_url, api_key="sk_test_localstripe")
    customer, method = onboard(gateway)
    # When the gateway charges a visa card and a card that attaches but declines
    paid = charge(gateway, customer, method, attempt="att_ls_1")
    failing = onboard(gateway, "pm_card_chargeCustomerFail")
    declined = charge(gateway, *failing, attempt="att_ls_2")
    # Then the outcomes match what the simulator says for the same cards
    assert isinstance(paid, Charged)
    assert paid.amount == EUR_149
    assert isinstance(declined, Declined)
    assert (declined.kind, declined.code) == (DeclineKind.SOFT, "card_declined")
    assert isinstance(gateway.retrieve(provider_ref=paid.provider_ref), Charged)


def test_a_wrong_api_key_never_reads_as_a_decline_when_charging(stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url, api_key="sk_test_wrong_key")
    with pytest.raises(StripeGatewayError):
        charge(gateway, "cus_x", "pm_card_visa")
