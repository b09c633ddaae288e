"""The webhook app against a real database: verified events are stored once, the rest never."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.simulators.server import serve_in_thread
from domain.clock import ManualClock
from tests.conftest import PROVIDER_FIXTURES
from tests.integration.webhook_support import (
    GOCARDLESS_SECRET,
    STRIPE_SECRET,
    gocardless_body,
    gocardless_event,
    gocardless_headers,
    handler_deps,
    inbox_rows,
    stripe_body,
    stripe_event,
    stripe_headers,
)
from workers.config import Settings
from workers.webhook_app import create_webhook_app

#: GoCardless's own signed test vector (tests/fixtures/providers/README.md).
VECTOR_SECRET = "ED7D658C-D8EB-4941-948B-3973214F2D49"
VECTOR_SIGNATURE = "2693754819d3e32d7e8fcb13c729631f316c6de8dc1cf634d6527f1c07276e7e"


@pytest.fixture
def sent() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock,
           sent: list[tuple[str, str]]) -> Iterator[httpx.Client]:
    settings = Settings(stripe_webhook_secrets=("whsec_old_one", STRIPE_SECRET),
                        gocardless_webhook_secrets=(GOCARDLESS_SECRET, VECTOR_SECRET),
                        webhook_max_body_bytes=64 * 1024)
    app = create_webhook_app(handler_deps(uow_factory=uow_factory, clock=clock), settings,
                             enqueue=lambda provider, event_id: sent.append((provider, event_id)))
    server = serve_in_thread(app)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http
    server.stop()


def test_a_signed_stripe_event_is_stored_and_sent_to_the_worker(
        client: httpx.Client, engine: Engine, sent: list[tuple[str, str]]) -> None:
    # Given a real payment_intent.succeeded envelope signed with one of our secrets
    event = stripe_event("payment_intent.succeeded")
    body = stripe_body(event)
    # When Stripe posts it
    response = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
    # Then it is acknowledged, stored once and queued for processing
    assert response.status_code == 200
    assert inbox_rows(engine) == 1
    assert sent == [("stripe", event["id"])]


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: stripe_headers(body, secret="whsec_forged"), id="forged"),
    pytest.param(lambda body: stripe_headers(body, timestamp=int(time.time()) - 301), id="stale"),
    pytest.param(lambda body: {"Content-Type": "application/json"}, id="unsigned"),
    pytest.param(lambda body: {"Stripe-Signature": "t=abc,v1=zz"}, id="garbled"),
])
def test_a_forged_stale_or_unsigned_stripe_event_is_rejected_and_nothing_is_written(
        client: httpx.Client, engine: Engine, sent: list[tuple[str, str]], headers: object) -> None:
    # Given a real event with a bad signature
    body = stripe_body(stripe_event("charge.dispute.created"))
    # When it is posted
    response = client.post("/webhooks/stripe", content=body,
                           headers=headers(body))  # type: ignore[operator]
    # Then it is refused with 400, and the inbox is untouched
    assert response.status_code == 400
    assert inbox_rows(engine) == 0
    assert sent == []


def test_the_same_stripe_event_delivered_twice_is_stored_once(
        client: httpx.Client, engine: Engine, sent: list[tuple[str, str]]) -> None:
    # Given one event
    body = stripe_body(stripe_event("charge.refunded"))
    # When it is delivered twice (Stripe retries, or signs it again later)
    first = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
    second = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
    # Then both deliveries are acknowledged, one row is stored and one message sent
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicates"] == 1
    assert inbox_rows(engine) == 1
    assert len(sent) == 1


def test_a_signed_body_that_is_not_json_is_a_400_and_nothing_is_written(
        client: httpx.Client, engine: Engine) -> None:
    # Given a correctly signed body that is not an event
    for body in (b"{not json", b"[1, 2, 3]", json.dumps({"id": "evt_1"}).encode()):
        # When it is posted
        response = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
        # Then it is malformed
        assert response.status_code == 400
    assert inbox_rows(engine) == 0


def test_a_body_over_the_size_cap_is_a_413_and_nothing_is_written(
        client: httpx.Client, engine: Engine) -> None:
    # Given a signed body larger than the configured cap
    event = stripe_event("payment_intent.succeeded", padding="x" * 70_000)
    body = stripe_body(event)
    # When it is posted
    response = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
    # Then it is refused as too large
    assert response.status_code == 413
    assert inbox_rows(engine) == 0


def test_a_gocardless_body_stores_each_of_its_events(
        client: httpx.Client, engine: Engine, sent: list[tuple[str, str]]) -> None:
    # Given one body with a payment failure and a mandate cancellation, signed by GoCardless
    events = [
        gocardless_event("payments", "failed", link="PM0001", cause="insufficient_funds",
                         created_at="2026-03-01T09:00:00.000Z", will_attempt_retry=False),
        gocardless_event("mandates", "cancelled", link="MD0001",
                         created_at="2026-03-01T09:00:01.000Z"),
    ]
    body = gocardless_body(events)
    # When it is posted
    response = client.post("/webhooks/gocardless", content=body, headers=gocardless_headers(body))
    # Then both events are stored and queued
    assert response.status_code == 200
    assert inbox_rows(engine) == 2
    assert sent == [("gocardless", events[0]["id"]), ("gocardless", events[1]["id"])]


def test_a_gocardless_body_with_a_bad_signature_is_a_498_and_nothing_is_written(
        client: httpx.Client, engine: Engine) -> None:
    # Given a body signed with another secret, and one not signed at all
    body = gocardless_body([gocardless_event("payments", "confirmed", link="PM0002",
                                             created_at="2026-03-01T09:00:00.000Z")])
    for headers in (gocardless_headers(body, secret="forged"), {}):
        # When it is posted
        response = client.post("/webhooks/gocardless", content=body, headers=headers)
        # Then GoCardless is told the signature is invalid
        assert response.status_code == 498
    assert inbox_rows(engine) == 0


def test_gocardless_own_signed_test_vector_verifies(client: httpx.Client, engine: Engine) -> None:
    # Given GoCardless's published body and signature (the file without its trailing newline)
    body = (PROVIDER_FIXTURES / "gocardless_webhook_body_signed.json").read_bytes().strip()
    # When it is posted with its signature
    response = client.post("/webhooks/gocardless", content=body,
                           headers={"Webhook-Signature": VECTOR_SIGNATURE})
    # Then both of its events are stored
    assert response.status_code == 200
    assert inbox_rows(engine) == 2


def test_health_and_metrics_are_served(client: httpx.Client) -> None:
    # Given one accepted and one rejected delivery
    body = stripe_body(stripe_event("payment_intent.succeeded"))
    client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
    client.post("/webhooks/stripe", content=body, headers={})
    # When health and metrics are read
    health = client.get("/healthz")
    metrics = client.get("/metrics").text
    # Then the app is healthy and counts both by result
    assert health.json() == {"status": "ok"}
    assert 'paycollect_webhooks_total{provider="stripe",result="accepted"} 1.0' in metrics
    assert 'paycollect_webhooks_total{provider="stripe",result="bad_signature"} 1.0' in metrics

