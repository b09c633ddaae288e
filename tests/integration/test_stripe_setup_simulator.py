"""The Stripe simulator's Checkout Sessions (setup mode), SetupIntents and hosted page, through
the official SDK over HTTP; SetupIntents also against localstripe, which must agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from adapters.simulators.stripe import SimulatorConfig
from adapters.simulators.stripe import WebhookConfig as StripeWebhookConfig
from tests.conftest import load_provider_fixture
from tests.integration import stripe_fixtures
from tests.integration.stripe_fixtures import API_KEY, WEBHOOK_SECRET, Receiver, StripeSim

# Fixtures these tests use (pytest finds them among the module's attributes).
localstripe_url = stripe_fixtures.localstripe_url
start_stripe_sim = stripe_fixtures.start_stripe_sim
stripe_sim = stripe_fixtures.stripe_sim
webhook_receiver = stripe_fixtures.webhook_receiver


def _session(client: stripe.StripeClient, customer: str, **extra: Any) -> stripe.checkout.Session:
    params: Any = {"mode": "setup", "customer": customer, "currency": "eur",
                   "success_url": "https://shop.example/done?s={CHECKOUT_SESSION_ID}",
                   "cancel_url": "https://shop.example/cancel",
                   "metadata": {"setup_id": "pms_1"},
                   "setup_intent_data": {"metadata": {"setup_id": "pms_1"}}, **extra}
    return client.v1.checkout.sessions.create(params)


def test_a_setup_session_completed_on_its_hosted_page_puts_the_card_on_file_and_signs_events(
        start_stripe_sim: Callable[..., StripeSim], webhook_receiver: Receiver) -> None:
    # Given a simulator that delivers webhooks
    sim = start_stripe_sim(SimulatorConfig(api_keys=(API_KEY,), webhooks=StripeWebhookConfig(
        url=webhook_receiver.url, secret=WEBHOOK_SECRET)))
    client = sim.client()
    customer = client.v1.customers.create({"name": "Acme"})
    # When a setup-mode session is created through the SDK
    session = _session(client, customer.id)
    assert (session.mode, session.status, session.customer) == ("setup", "open", customer.id)
    assert session.url.startswith(f"{sim.url}/checkout/cs_test_")
    # and the customer submits its page with the prefilled visa number
    page = httpx.get(session.url)
    assert 'value="4242 4242 4242 4242"' in page.text
    answer = httpx.post(session.url, data={"card_number": "4242 4242 4242 4242"})
    # Then they are sent to success_url, the session is complete, the card is the customer's
    assert answer.status_code == 303
    assert answer.headers["location"] == f"https://shop.example/done?s={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.status == "complete"
    intent = client.v1.setup_intents.retrieve(str(done.setup_intent),
                                              {"expand": ["payment_method"]})
    assert intent.status == "succeeded"
    assert intent.metadata["setup_id"] == "pms_1"
    assert intent.payment_method.customer == customer.id
    assert intent.payment_method.card.last4 == "4242"
    # and both events arrived signed, in Stripe's envelope
    assert sim.simulator.webhooks.wait_idle(10)
    events = [stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"],
                                             WEBHOOK_SECRET)
              for headers, body in webhook_receiver.deliveries]
    assert [e.type for e in events] == ["setup_intent.succeeded", "checkout.session.completed"]
    assert events[1].data.object.setup_intent == intent.id


def test_a_card_stripe_declines_at_setup_is_refused_on_the_page_and_the_session_stays_open(
        stripe_sim: StripeSim) -> None:
    client = stripe_sim.client()
    customer = client.v1.customers.create({"name": "Acme"})
    session = _session(client, customer.id)
    answer = httpx.post(session.url, data={"card": "pm_card_chargeDeclined"})
    assert answer.status_code == 402
    assert "Your card was declined." in answer.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert [e.type for e in stripe_sim.simulator.store.events] == []


def test_a_session_is_refused_without_setup_mode_and_can_be_expired(
        stripe_sim: StripeSim) -> None:
    client = stripe_sim.client()
    customer = client.v1.customers.create({"name": "Acme"})
    with pytest.raises(stripe.InvalidRequestError, match="mode"):
        client.v1.checkout.sessions.create({"mode": "payment", "customer": customer.id,
                                            "success_url": "https://x.example"})
    session = _session(client, customer.id)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert httpx.get(session.url).status_code == 410


def _setup_intent_outcome(client: stripe.StripeClient, card: str, *,
                          attaches: bool = True) -> tuple[str, str | None]:
    """Confirm a SetupIntent with `card`: ("succeeded", last 4) or ("declined", code).

    `attaches`: the card ends up attached to the intent's customer, as Stripe does
    (localstripe leaves it unattached: its only known difference here).
    """
    customer = client.v1.customers.create({"email": "ap@acme.test"})
    intent = client.v1.setup_intents.create({"customer": customer.id,
                                             "metadata": {"setup_id": "pms_2"}})
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    try:
        confirmed = client.v1.setup_intents.confirm(intent.id, {"payment_method": card})
    except stripe.CardError as exc:
        return "declined", exc.code
    read = client.v1.setup_intents.retrieve(intent.id, {"expand": ["payment_method"]})
    assert read.customer == customer.id
    if attaches:
        assert read.payment_method.customer == customer.id
    assert read.metadata["setup_id"] == "pms_2"
    return str(confirmed.status), str(read.payment_method.card.last4)


@pytest.mark.parametrize(("card", "outcome"), [
    ("pm_card_visa", ("succeeded", "4242")),
    ("pm_card_chargeCustomerFail", ("succeeded", "0341")),
    ("pm_card_visa_chargeDeclined", ("declined", "card_declined")),
])
def test_setup_intents_behave_alike_on_the_simulator_and_on_localstripe(
        stripe_sim: StripeSim, localstripe_url: str, card: str,
        outcome: tuple[str, str]) -> None:
    simulated = _setup_intent_outcome(stripe_sim.client(), card)
    local = _setup_intent_outcome(stripe.StripeClient(
        "sk_test_localstripe", base_addresses={"api": localstripe_url}), card, attaches=False)
    assert simulated == local == outcome


def test_a_simulated_setup_intent_has_every_field_of_stripes_own_fixture(
        stripe_sim: StripeSim) -> None:
    client = stripe_sim.client()
    customer = client.v1.customers.create({"name": "Acme"})
    intent = client.v1.setup_intents.create({"customer": customer.id})
    fixture = load_provider_fixture("stripe_openapi_object_setup_intent.json")
    assert set(fixture) <= set(intent.to_dict())
    assert intent.object == fixture["object"]
