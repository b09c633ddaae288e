"""The setup calls of the Stripe and GoCardless gateways against the simulators over HTTP (and
localstripe for SetupIntents): domain values out, ProviderUnavailable when unreachable."""

from __future__ import annotations

import pytest
import stripe

from adapters.gocardless_gateway import GoCardlessGateway
from domain.setups import CardOnFile, MandateOnFile, ProviderUnavailable, SetupIncomplete
from tests.integration import gocardless_fixtures, stripe_fixtures
from tests.integration.setup_world import submit_hosted_page
from tests.integration.stripe_fixtures import StripeSim, make_gateway

# Fixtures these tests use (pytest finds them among the module's attributes).
localstripe_url = stripe_fixtures.localstripe_url
start_stripe_sim = stripe_fixtures.start_stripe_sim
stripe_sim = stripe_fixtures.stripe_sim
gocardless_gateway = gocardless_fixtures.gocardless_gateway
gocardless_sim = gocardless_fixtures.gocardless_sim
sim_clock = gocardless_fixtures.sim_clock


def test_a_card_setup_reads_back_as_the_card_on_file_once_completed(
        stripe_sim: StripeSim) -> None:
    gateway = make_gateway(stripe_sim.url)
    # Given a customer and a setup session
    customer = gateway.create_customer(account_id="acc_1", name="Acme", email="ap@acme.test")
    assert gateway.create_customer(account_id="acc_1", name="Acme",
                                   email="ap@acme.test") == customer  # same key: same one
    session = gateway.start_card_setup(setup_id="pms_1", account_id="acc_1", customer=customer,
                                       currency="EUR", success_url="https://x.example/ok",
                                       cancel_url="https://x.example/no")
    assert session.customer == customer
    assert session.expires_at is not None
    # When nothing was submitted yet, then nothing is on file
    assert isinstance(gateway.card_of_session(session_id=session.provider_ref),
                      SetupIncomplete)
    # When the customer completes it with a mastercard
    submit_hosted_page(session.url, card_number="5555 5555 5555 4444")
    # Then the gateway answers with the card's display details
    card = gateway.card_of_session(session_id=session.provider_ref)
    assert isinstance(card, CardOnFile)
    assert (card.customer, card.brand, card.last4, card.exp_month, card.exp_year) == (
        customer, "mastercard", "4444", 12, 2034)
    assert card.payment_method.startswith("pm_")


def test_a_setup_intent_confirmed_at_localstripe_reads_back_as_its_card(
        localstripe_url: str) -> None:
    gateway = make_gateway(localstripe_url, api_key="sk_test_localstripe")
    customer = gateway.create_customer(account_id="acc_2", name="Acme", email=None)
    intent_id, secret = gateway.create_setup_intent(setup_id="pms_2", customer=customer)
    assert secret.startswith(f"{intent_id}_secret_")
    assert isinstance(gateway.card_of_setup_intent(setup_intent_id=intent_id), SetupIncomplete)
    # (the customer's browser confirms it with Stripe.js; here the SDK does)
    stripe.StripeClient("sk_test_localstripe", base_addresses={"api": localstripe_url}
                        ).v1.setup_intents.confirm(intent_id, {"payment_method": "pm_card_visa"})
    card = gateway.card_of_setup_intent(setup_intent_id=intent_id)
    assert isinstance(card, CardOnFile)
    assert (card.customer, card.last4) == (customer, "4242")


def test_an_unreachable_stripe_is_provider_unavailable() -> None:
    gateway = make_gateway("http://127.0.0.1:9", attempts=2)
    with pytest.raises(ProviderUnavailable, match="customer create"):
        gateway.create_customer(account_id="acc_3", name="Acme", email=None)


def test_a_mandate_setup_reads_back_as_the_mandate_with_its_masked_account(
        gocardless_gateway: GoCardlessGateway) -> None:
    session = gocardless_gateway.start_direct_debit_setup(
        setup_id="pms_4", account_id="acc_4", scheme="sepa_core", customer=None,
        name="Acme SAS", email="ap@acme.test", redirect_uri="https://x.example/ok",
        exit_uri="https://x.example/no")
    assert session.provider_ref.startswith("BRQ")
    assert session.customer.startswith("CU")
    assert isinstance(gocardless_gateway.mandate_of_billing_request(
        billing_request_id=session.provider_ref), SetupIncomplete)
    submit_hosted_page(session.url)
    found = gocardless_gateway.mandate_of_billing_request(
        billing_request_id=session.provider_ref)
    assert isinstance(found, MandateOnFile)
    assert (found.customer, found.scheme, found.account_holder, found.account_number_ending,
            found.country_code) == (session.customer, "sepa_core", "Acme SAS", "06", "FR")
    assert found.mandate.startswith("MD")


def test_a_mandate_setup_reuses_the_customer_it_is_given(
        gocardless_gateway: GoCardlessGateway) -> None:
    first = gocardless_gateway.start_direct_debit_setup(
        setup_id="pms_5", account_id="acc_5", scheme="bacs", customer=None, name="Acme Ltd",
        email=None, redirect_uri="https://x.example/ok", exit_uri="https://x.example/no")
    again = gocardless_gateway.start_direct_debit_setup(
        setup_id="pms_6", account_id="acc_5", scheme="bacs", customer=first.customer,
        name="Acme Ltd", email=None, redirect_uri="https://x.example/ok",
        exit_uri="https://x.example/no")
    assert again.customer == first.customer
    assert again.provider_ref != first.provider_ref


def test_an_unreachable_gocardless_is_provider_unavailable() -> None:
    from tenacity import wait_none

    gateway = GoCardlessGateway(access_token="t", base_url="http://127.0.0.1:9", timeout=2,
                                attempts=2, wait=wait_none())
    with pytest.raises(ProviderUnavailable, match="billing request create"):
        gateway.start_direct_debit_setup(
            setup_id="pms_7", account_id="acc_7", scheme="sepa_core", customer=None,
            name="Acme", email=None, redirect_uri="https://x.example/ok",
            exit_uri="https://x.example/no")
