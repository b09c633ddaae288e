"""Webhook bodies in the providers' real shapes, signed with the providers' own schemes.

Stripe: an event envelope from tests/fixtures/providers (stripe-ruby-mock), with the values a
test needs changed, signed with `stripe.WebhookSignature.generate_signature_header`.
GoCardless: `{"events": [...]}` with (cause, scheme, reason_code) taken from the event actions
catalog, signed as GoCardless does (hex HMAC-SHA256 of the raw body).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

import stripe
from sqlalchemy import Engine, func, select

from adapters.composer import NoticeComposer
from adapters.db.tables import WebhookEventRow
from domain.clock import Clock
from domain.ports import UnitOfWorkFactory
from domain.retry_policy import RetryPolicy
from tests.conftest import load_provider_fixture
from workers.console_deps import DeferredDispatcher, NoProviders
from workers.handlers.deps import Deps

STRIPE_SECRET = "whsec_test_paycollect_webhooks"
GOCARDLESS_SECRET = "gocardless-test-webhook-secret"
Json = dict[str, Any]

_ids = itertools.count(1)


def stripe_event(fixture: str, *, object_changes: Json | None = None, **changes: Any) -> Json:
    """A fixture envelope (`stripe_event_<fixture>.json`) with a fresh event id."""
    event: Json = copy.deepcopy(load_provider_fixture(f"stripe_event_{fixture}.json"))
    event["id"] = f"evt_test_{next(_ids):06d}"
    event.update(changes)
    event["data"]["object"].update(object_changes or {})
    return event


def stripe_body(event: Json) -> bytes:
    return json.dumps(event).encode()


def stripe_headers(body: bytes, *, secret: str = STRIPE_SECRET,
                   timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp or int(time.time()))
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def catalog_details(resource: str, action: str, cause: str | None = None) -> Json:
    """One `details` combination GoCardless documents for resource/action (first, or `cause`)."""
    catalog = load_provider_fixture("gocardless_event_actions_catalog.json")
    entry = next(e for e in catalog[resource] if e["action"] == action)
    options = [d for d in entry["details"] if cause is None or d.get("cause") == cause]
    return dict(options[0])


def gocardless_event(resource: str, action: str, *, link: str, created_at: str,
                     cause: str | None = None, event_id: str | None = None,
                     links: Json | None = None, **details: Any) -> Json:
    return {"id": event_id or f"EV{next(_ids):012d}", "created_at": created_at,
            "resource_type": resource, "action": action,
            "links": {resource[:-1]: link, **(links or {})},
            "details": {**catalog_details(resource, action, cause), **details},
            "metadata": {}}


def gocardless_body(events: list[Json]) -> bytes:
    return json.dumps({"events": events, "meta": {"webhook_id": f"WB{next(_ids):010d}"}},
                      separators=(",", ":")).encode()


def gocardless_headers(body: bytes, *, secret: str = GOCARDLESS_SECRET) -> dict[str, str]:
    return {"Webhook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def inbox_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(WebhookEventRow))
                   .scalar_one())


def handler_deps(*, uow_factory: UnitOfWorkFactory, clock: Clock) -> Deps:
    """Deps for the app alone: a real database, no provider, messages only recorded."""
    none = NoProviders()
    return Deps(uow_factory=uow_factory, clock=clock, card=none, direct_debit=none, wire=none,
                dispatch=DeferredDispatcher(), composer=NoticeComposer(),
                retry_policy=RetryPolicy(schedule_days=(1, 3, 5, 7)))
