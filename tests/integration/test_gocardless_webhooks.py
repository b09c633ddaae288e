"""Signed GoCardless webhooks: the simulator's, and GoCardless's own test vector, verified with
the official SDK (`gocardless_pro.webhooks.parse`) and our rotation-aware helper."""

from __future__ import annotations

from datetime import date
from typing import Any

import gocardless_pro
import pytest
from gocardless_pro import errors, webhooks

from adapters.gocardless_webhooks import InvalidSignatureError, parse_webhook
from adapters.simulators.gocardless import GoCardlessSimulator, SimulatorConfig, WebhookConfig
from tests.conftest import PROVIDER_FIXTURES
from tests.integration.gocardless_fixtures import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    mandate_for,
    pay,
    webhook_receiver,
)

__all__ = ["webhook_receiver"]


def _webhook_sim(receiver: WebhookReceiver, **options: Any) -> GoCardlessSimulator:
    return GoCardlessSimulator(SimulatorConfig(start=date(2026, 1, 15), webhook=WebhookConfig(
        url=receiver.url, secret=WEBHOOK_SECRET, **options))).start()


def test_webhooks_are_signed_so_the_sdk_verifies_them(webhook_receiver):
    sim = _webhook_sim(webhook_receiver)
    try:
        client = gocardless_pro.Client(access_token="any", base_url=sim.url)
        payment = pay(client, mandate_for(client))
        sim.advance_to(date(2026, 1, 30))
        assert sim.webhooks is not None
        assert sim.webhooks.flush()
    finally:
        sim.stop()
    events = []
    for body, headers in webhook_receiver.bodies():
        events += webhooks.parse(body, WEBHOOK_SECRET, headers["webhook-signature"])
        with pytest.raises(errors.InvalidSignatureError):
            webhooks.parse(body, "another-secret", headers["webhook-signature"])
    mine = [(e.action, e.links.payment, e.links.mandate) for e in events
            if e.resource_type == "payments"]
    assert mine == [(a, payment.id, payment.links.mandate)
                    for a in ("created", "submitted", "confirmed", "paid_out")]
    assert all(e.id.startswith("EV") and e.created_at.endswith("Z") for e in events)


def test_webhooks_can_be_duplicated_and_shuffled(webhook_receiver):
    sim = _webhook_sim(webhook_receiver, duplicate_rate=1.0, shuffle=True, seed=3)
    try:
        client = gocardless_pro.Client(access_token="any", base_url=sim.url)
        pay(client, mandate_for(client))
        sim.advance_to(date(2026, 1, 30))
        assert sim.webhooks is not None
        assert sim.webhooks.flush()
        emitted = sim.stats()["events"]
    finally:
        sim.stop()
    ids = [e["id"] for body, headers in webhook_receiver.bodies()
           for e in parse_webhook(body=body, signature=headers["webhook-signature"],
                                  secrets=[WEBHOOK_SECRET])]
    assert len(ids) == 2 * emitted
    assert len(set(ids)) == emitted


def test_gocardless_own_signed_test_vector_verifies_with_the_same_helper():
    # The README's vector: the signature covers the file without its trailing newline.
    raw = (PROVIDER_FIXTURES / "gocardless_webhook_body_signed.json").read_bytes()
    signature = "2693754819d3e32d7e8fcb13c729631f316c6de8dc1cf634d6527f1c07276e7e"
    secrets = ["rotated-out-secret", "ED7D658C-D8EB-4941-948B-3973214F2D49"]
    events = parse_webhook(body=raw.rstrip(b"\n"), signature=signature, secrets=secrets)
    assert [(e["resource_type"], e["action"]) for e in events] == [
        ("subscriptions", "created"), ("mandates", "created")]
    with pytest.raises(InvalidSignatureError):
        parse_webhook(body=raw, signature=signature, secrets=secrets)


