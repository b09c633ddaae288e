"""The Stripe simulator through the official SDK over HTTP: cards, idempotency, faults, webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe

from adapters.simulators.stripe import FaultConfig, SimulatorConfig, WebhookConfig
from tests.integration import stripe_fixtures
from tests.integration.stripe_fixtures import (
    API_KEY,
    WEBHOOK_SECRET,
    Receiver,
    StripeSim,
)

# The fixtures these tests use: pytest finds fixtures among a module's attributes.
start_stripe_sim = stripe_fixtures.start_stripe_sim
stripe_sim = stripe_fixtures.stripe_sim
webhook_receiver = stripe_fixtures.webhook_receiver


def onboard(client: stripe.StripeClient, card: str = "pm_card_visa") -> tuple[str, str]:
    customer = client.v1.customers.create({"name": "Acme SAS", "email": "billing@acme.test"})
    method = client.v1.payment_methods.attach(card, {"customer": customer.id})
    return customer.id, method.id


def pay(client: stripe.StripeClient, customer: str, method: str, *, key: str,
        amount: int = 14962, invoice: str = "inv_1") -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        {"amount": amount, "currency": "eur", "customer": customer, "payment_method": method,
         "confirm": True, "off_session": True,
         "metadata": {"attempt_id": key, "invoice_id": invoice, "account_id": "acme"}},
        {"idempotency_key": key})


def test_a_visa_card_is_charged_and_the_intent_succeeds(stripe_sim: StripeSim) -> None:
    # Given a customer with pm_card_visa attached
    client = stripe_sim.client()
    customer, method = onboard(client)
    # When an off-session PaymentIntent is confirmed
    intent = pay(client, customer, method, key="att_1")
    # Then it succeeded with a charge, and the magic id became a real pm_…
    assert (intent.status, intent.amount_received, intent.currency) == ("succeeded", 14962, "eur")
    assert intent.latest_charge is not None
    assert method.startswith("pm_3Sim")
    assert client.v1.charges.retrieve(str(intent.latest_charge)).paid is True


@pytest.mark.parametrize(("card", "code", "decline_code"), [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
    ("pm_card_authenticationRequired", "authentication_required", "authentication_required"),
])
def test_a_declining_card_answers_402_with_the_failed_intent(
        stripe_sim: StripeSim, card: str, code: str, decline_code: str) -> None:
    # Given a customer whose card declines
    client = stripe_sim.client()
    customer, method = onboard(client, card)
    # When it is charged off-session
    with pytest.raises(stripe.CardError) as raised:
        pay(client, customer, method, key=f"att_{card}")
    # Then Stripe's card_error body comes back, carrying the intent awaiting a new method
    error = raised.value
    assert (error.http_status, error.code) == (402, code)
    assert error.error is not None
    assert error.error.type == "card_error"
    assert error.error.decline_code == decline_code
    intent = error.error.payment_intent
    assert intent is not None
    assert intent.status == "requires_payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).last_payment_error.code == code


def test_an_authentication_card_on_session_requires_action(stripe_sim: StripeSim) -> None:
    # Given a card that needs 3-D Secure
    client = stripe_sim.client()
    customer, method = onboard(client, "pm_card_authenticationRequired")
    # When it is confirmed with the customer present (no off_session)
    intent = client.v1.payment_intents.create({
        "amount": 1000, "currency": "eur", "customer": customer, "payment_method": method,
        "confirm": True})
    # Then the intent waits for the customer
    assert intent.status == "requires_action"
    assert intent.next_action is not None


def test_the_same_idempotency_key_replays_the_stored_response_even_a_decline(
        stripe_sim: StripeSim) -> None:
    # Given a declined payment made with key att_9
    client = stripe_sim.client()
    customer, method = onboard(client, "pm_card_chargeDeclinedInsufficientFunds")
    with pytest.raises(stripe.CardError) as first:
        pay(client, customer, method, key="att_9")
    # When the very same request is sent again
    with pytest.raises(stripe.CardError) as second:
        pay(client, customer, method, key="att_9")
    # Then the same body is replayed and nothing new was created
    assert second.value.json_body == first.value.json_body
    assert second.value.headers["Idempotent-Replayed"] == "true"
    assert stripe_sim.stats()["payment_intents"]["total"] == 1


def test_the_same_key_with_other_parameters_is_an_idempotency_error(
        stripe_sim: StripeSim) -> None:
    client = stripe_sim.client()
    customer, method = onboard(client)
    pay(client, customer, method, key="att_1", amount=1000)
    with pytest.raises(stripe.IdempotencyError) as raised:
        pay(client, customer, method, key="att_1", amount=2000)
    assert raised.value.http_status == 400
    assert stripe_sim.stats()["payment_intents"]["total"] == 1


def test_idempotency_keys_belong_to_one_api_key(start_stripe_sim: Callable[..., StripeSim]
                                                 ) -> None:
    # Given two accounts' keys on one simulator
    sim = start_stripe_sim(SimulatorConfig(api_keys=(API_KEY, "sk_test_other_account")))
    first, other = sim.client(), sim.client("sk_test_other_account")
    customer, method = onboard(first)
    # When both use the key "att_1"
    a = pay(first, customer, method, key="att_1")
    b = pay(other, customer, method, key="att_1")
    # Then each got its own payment
    assert a.id != b.id


def test_payment_intents_are_found_by_metadata_search_and_by_customer(
        stripe_sim: StripeSim) -> None:
    client = stripe_sim.client()
    customer, method = onboard(client)
    paid = pay(client, customer, method, key="att_it's")
    pay(client, customer, method, key="att_other")
    found = client.v1.payment_intents.search({"query": "metadata['attempt_id']:'att_it\\'s'"})
    listed = client.v1.payment_intents.list({"customer": customer, "limit": 1})
    assert [pi.id for pi in found.data] == [paid.id]
    assert listed.has_more
    assert listed.data[0].metadata["attempt_id"] == "att_other"


def test_an_unsupported_search_field_is_a_400(stripe_sim: StripeSim) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_sim.client().v1.payment_intents.search({"query": "description:'x'"})
    assert raised.value.http_status == 400
    assert raised.value.param == "query"


def test_a_bad_key_is_401_and_a_missing_object_is_404(stripe_sim: StripeSim) -> None:
    with pytest.raises(stripe.AuthenticationError):
        stripe_sim.client("sk_test_not_ours").v1.customers.list()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_sim.client().v1.payment_intents.retrieve("pi_missing")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_a_500_happens_before_execution_so_the_retry_charges_once(stripe_sim: StripeSim) -> None:
    # Given the next charge request fails with a 500
    client = stripe_sim.client()
    customer, method = onboard(client)
    stripe_sim.set_faults(script=["error"])
    # When it is sent, then re-sent with the same key
    with pytest.raises(stripe.APIError) as raised:
        pay(client, customer, method, key="att_1")
    intent = pay(client, customer, method, key="att_1")
    # Then the 500 stored nothing and the retry executed it, once
    assert raised.value.http_status == 500
    assert intent.status == "succeeded"
    stats = stripe_sim.stats()
    assert stats["faults"] == {"error": 1}
    assert stats["succeeded_by_attempt"] == {"att_1": 1}


def test_a_429_says_when_to_retry(stripe_sim: StripeSim) -> None:
    stripe_sim.set_faults(script=["rate_limit"], retry_after_seconds=3)
    with pytest.raises(stripe.RateLimitError) as raised:
        stripe_sim.client().v1.customers.list()
    assert raised.value.headers is not None
    assert raised.value.headers["Retry-After"] == "3"


def test_a_dropped_connection_still_commits_the_payment(stripe_sim: StripeSim) -> None:
    # Given the connection is cut after the charge is stored
    client = stripe_sim.client()
    customer, method = onboard(client)
    stripe_sim.set_faults(script=["drop"])
    # When the client sees a connection error and retries with the same key
    with pytest.raises(stripe.APIConnectionError):
        pay(client, customer, method, key="att_1")
    intent = pay(client, customer, method, key="att_1")
    # Then it gets the stored payment: one charge in all
    assert intent.status == "succeeded"
    assert stripe_sim.stats()["succeeded_by_invoice"] == {"inv_1": 1}


def test_a_timeout_stalls_past_the_client_after_committing(stripe_sim: StripeSim) -> None:
    client = stripe_sim.client(http_client=stripe.RequestsClient(timeout=0.3))
    customer, method = onboard(client)
    stripe_sim.set_faults(script=["timeout"], timeout_stall_seconds=5)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        pay(client, customer, method, key="att_1")
    assert time.monotonic() - started < 2
    assert pay(client, customer, method, key="att_1").status == "succeeded"
    assert stripe_sim.stats()["succeeded_by_attempt"] == {"att_1": 1}


def test_seeded_fault_draws_are_reproducible(start_stripe_sim: Callable[..., StripeSim]) -> None:
    def faults_seen() -> list[int]:
        sim = start_stripe_sim(SimulatorConfig(api_keys=(API_KEY,), faults=FaultConfig(
            error_rate=0.3, rate_limit_rate=0.2, seed=42)))
        with httpx.Client(base_url=sim.url,
                          headers={"Authorization": f"Bearer {API_KEY}"}) as http:
            return [http.get("/v1/customers").status_code for _ in range(30)]
    first, second = faults_seen(), faults_seen()
    assert first == second
    assert {200, 429, 500} <= set(first)


def test_faults_can_spare_reads(stripe_sim: StripeSim) -> None:
    stripe_sim.set_faults(error_rate=1.0, methods=["POST"])
    assert stripe_sim.client().v1.customers.list().data == []
    with pytest.raises(stripe.APIError):
        stripe_sim.client().v1.customers.create({"name": "x"})


def test_latency_does_not_serialise_concurrent_requests(stripe_sim: StripeSim) -> None:
    # Given 200 ms of latency on every request
    stripe_sim.set_faults(latency_ms=200)

    def one(_: int) -> int:
        return httpx.get(f"{stripe_sim.url}/v1/customers", timeout=10,
                         headers={"Authorization": f"Bearer {API_KEY}"}).status_code
    # When 40 requests run at once
    started = time.monotonic()
    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(one, range(40)))
    # Then they waited together, not one after the other (that would take 40 x 0.2 = 8 s;
    # the bound is half of it, so a loaded machine cannot fail this)
    assert statuses == [200] * 40
    assert time.monotonic() - started < 4.0


def _webhooks(start: Callable[..., StripeSim], receiver: Receiver, **options: object
              ) -> StripeSim:
    return start(SimulatorConfig(api_keys=(API_KEY,), webhooks=WebhookConfig(
        url=receiver.url, secret=WEBHOOK_SECRET, **options)))  # type: ignore[arg-type]


def test_webhooks_are_signed_the_way_the_stripe_sdk_verifies(
        start_stripe_sim: Callable[..., StripeSim], webhook_receiver: Receiver) -> None:
    # Given a simulator posting events to our receiver
    sim = _webhooks(start_stripe_sim, webhook_receiver)
    client = sim.client()
    customer, method = onboard(client)
    # When a payment succeeds
    intent = pay(client, customer, method, key="att_1")
    assert sim.simulator.webhooks.wait_idle()
    # Then each delivery verifies with the SDK, and payment_intent.succeeded names the intent
    events = [stripe.Webhook.construct_event(body, headers["stripe-signature"], WEBHOOK_SECRET)
              for headers, body in webhook_receiver.deliveries]
    succeeded = [e for e in events if e.type == "payment_intent.succeeded"]
    assert len(succeeded) == 1
    assert succeeded[0].data.object.id == intent.id
    assert succeeded[0].data.object.metadata["attempt_id"] == "att_1"
    assert succeeded[0].request.idempotency_key == "att_1"
    headers, body = webhook_receiver.deliveries[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_wrong")


def test_webhooks_can_arrive_twice_and_out_of_order(
        start_stripe_sim: Callable[..., StripeSim], webhook_receiver: Receiver) -> None:
    sim = _webhooks(start_stripe_sim, webhook_receiver, duplicate_rate=1.0, shuffle=True,
                    batch_delay_ms=100)
    client = sim.client()
    customer, method = onboard(client)
    for n in range(3):
        pay(client, customer, method, key=f"att_{n}")
    assert sim.simulator.webhooks.wait_idle()
    ids = [json.loads(body)["id"] for _, body in webhook_receiver.deliveries]
    assert len(ids) == 2 * len(set(ids)) == 2 * sim.stats()["events"]
    happened = [event.id for event in sim.simulator.store.events]
    assert list(dict.fromkeys(ids)) != happened


def test_a_failing_receiver_is_retried_then_counted_as_failed(
        start_stripe_sim: Callable[..., StripeSim], webhook_receiver: Receiver) -> None:
    webhook_receiver.status = 500
    sim = _webhooks(start_stripe_sim, webhook_receiver, max_attempts=2, retry_delay_seconds=0)
    sim.client().v1.customers.create({"name": "x"})
    sim.client().v1.payment_intents.create({"amount": 100, "currency": "eur"})
    assert sim.simulator.webhooks.wait_idle()
    assert sim.stats()["webhooks"]["failed"] == 1
    assert len(webhook_receiver.deliveries) == 2


def test_a_disputing_card_is_disputed_when_time_advances(stripe_sim: StripeSim) -> None:
    # Given a successful payment with pm_card_createDispute
    client = stripe_sim.client()
    customer, method = onboard(client, "pm_card_createDispute")
    intent = pay(client, customer, method, key="att_1")
    assert intent.status == "succeeded"
    assert client.v1.events.list({"type": "charge.dispute.created"}).data == []
    # When the simulator advances, and later closes disputes as lost
    opened = stripe_sim.advance()["disputes_opened"]
    stripe_sim.advance(close_disputes="lost")
    # Then the dispute events are there for a poller
    created = client.v1.events.list({"type": "charge.dispute.created"}).data
    closed = client.v1.events.list({"type": "charge.dispute.closed"}).data
    assert [e.data.object.id for e in created] == opened
    assert created[0].data.object.charge == intent.latest_charge
    assert closed[0].data.object.status == "lost"


def test_a_dispute_can_open_by_itself_after_a_delay(
        start_stripe_sim: Callable[..., StripeSim]) -> None:
    sim = start_stripe_sim(SimulatorConfig(api_keys=(API_KEY,), dispute_delay_seconds=0.05))
    client = sim.client()
    customer, method = onboard(client, "pm_card_createDispute")
    pay(client, customer, method, key="att_1")
    deadline = time.monotonic() + 5
    while sim.stats()["disputes"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.stats()["disputes"] == 1


def test_a_refund_updates_the_charge_and_emits_charge_refunded(stripe_sim: StripeSim) -> None:
    client = stripe_sim.client()
    customer, method = onboard(client)
    intent = pay(client, customer, method, key="att_1", amount=5000)
    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 2000})
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    event = client.v1.events.list({"type": "charge.refunded"}).data[0]
    assert (refund.status, charge.amount_refunded, charge.refunded) == ("succeeded", 2000, False)
    assert event.data.object.amount_refunded == 2000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 3001})


def test_events_page_newest_first_and_filter_by_creation_time(stripe_sim: StripeSim) -> None:
    # Given three payments' events
    client = stripe_sim.client()
    customer, method = onboard(client)
    for n in range(3):
        pay(client, customer, method, key=f"att_{n}")
    # When a poller pages through payment_intent.succeeded events
    first = client.v1.events.list({"type": "payment_intent.succeeded", "limit": 2})
    rest = client.v1.events.list({"type": "payment_intent.succeeded", "limit": 2,
                                  "starting_after": first.data[-1].id})
    recent = client.v1.events.list({"created": {"gte": int(time.time()) + 3600}})
    # Then it sees the newest first, each once, and nothing from the future
    attempts = [e.data.object.metadata["attempt_id"] for e in [*first.data, *rest.data]]
    assert attempts == ["att_2", "att_1", "att_0"]
    assert first.has_more
    assert not rest.has_more
    assert recent.data == []
