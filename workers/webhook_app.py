"""The webhook HTTP app: verify, store once, answer at once, process in a worker.

POST /webhooks/stripe      `Stripe-Signature` checked by `stripe.Webhook.construct_event`
                           (300 s tolerance) against every configured secret → 400 if none.
POST /webhooks/gocardless  `Webhook-Signature` checked by `gocardless_pro.webhooks` → 498
                           (what GoCardless expects) if no secret matches; one body, many events.
GET  /healthz, GET /metrics (Prometheus text: webhook requests by provider and result).
/v1/…                      the public billing API (workers/api/), mounted here.
GET /i/{token}, POST /i/{token}/pay   the customers' invoice page (workers/invoice_page/).

Nothing is written for a rejected request (too large → 413, malformed → 400, bad signature):
verification and parsing come first, then one transaction stores the events. A duplicate
(provider, event id) is answered 2xx and stored nothing. Each new event is sent to the
`process_webhook` actor after the commit; if that send is lost the sweeper re-drives the row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import stripe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from adapters import gocardless_events, stripe_events
from adapters.gocardless_webhooks import InvalidSignatureError, parse_webhook
from domain.records import WebhookEvent
from workers.api.app import create_api
from workers.config import Settings
from workers.handlers import webhooks
from workers.handlers.deps import Deps
from workers.invoice_page import invoice_page_routes
from workers.runtime import Runtime

log = logging.getLogger("paycollect.webhook_app")

#: Stripe's own default: a signature older than five minutes is a replay.
STRIPE_TOLERANCE_SECONDS = 300
#: GoCardless retries a webhook answered with anything else; 498 says "invalid token".
GOCARDLESS_BAD_SIGNATURE = 498

Enqueue = Callable[[str, str], None]
Json = dict[str, Any]


class Rejected(Exception):
    def __init__(self, status: int, result: str, message: str) -> None:
        super().__init__(message)
        self.status, self.result = status, result


def _send_to_actor(provider: str, event_id: str) -> None:
    from workers.actors import process_webhook  # the broker is configured by the caller

    process_webhook.send(provider, event_id)


@dataclass
class _Inbox:
    deps: Deps
    settings: Settings
    enqueue: Enqueue
    counter: Counter

    async def body(self, request: Request) -> bytes:
        limit = self.settings.webhook_max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Rejected(413, "too_large", "body too large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Rejected(413, "too_large", "body too large")
        return bytes(body)

    def store(self, provider: str, events: list[WebhookEvent]) -> Response:
        added = webhooks.receive(self.deps, events=events)
        for event in added:
            try:
                self.enqueue(provider, event.event_id)
            except Exception:  # (stored: the sweeper re-drives it)
                log.exception("could not enqueue webhook %s/%s", provider, event.event_id)
        duplicates = len(events) - len(added)
        self.counter.labels(provider, "accepted").inc(len(added))
        self.counter.labels(provider, "duplicate").inc(duplicates)
        return JSONResponse({"received": len(events), "new": len(added),
                             "duplicates": duplicates})

    def event(self, provider: str, payload: Json, *, event_id: str, type: str,
              resource_id: str | None, occurred_at: Any) -> WebhookEvent:
        return WebhookEvent(provider=provider, event_id=event_id, type=type, payload=payload,
                            received_at=self.deps.clock.now(), resource_id=resource_id,
                            occurred_at=occurred_at)


def _stripe_verified(body: bytes, signature: str | None, secrets: tuple[str, ...]) -> Json:
    if not signature or not secrets:
        raise Rejected(400, "bad_signature", "missing Stripe-Signature or no secret configured")
    for secret in secrets:
        try:
            stripe.Webhook.construct_event(body, signature, secret,
                                           tolerance=STRIPE_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            continue
        except Exception:  # (verified, but not a Stripe event: JSON, UTF-8…)
            raise Rejected(400, "malformed", "malformed event body") from None
        return _stripe_payload(body)
    raise Rejected(400, "bad_signature", "no webhook secret matches the Stripe-Signature")


def _stripe_payload(body: bytes) -> Json:
    payload = json.loads(body)
    if not (isinstance(payload, dict) and isinstance(payload.get("id"), str) and payload["id"]
            and isinstance(payload.get("type"), str)
            and isinstance(payload.get("data"), dict)):
        raise Rejected(400, "malformed", "not a Stripe event")
    return payload


def _gocardless_verified(body: bytes, signature: str | None,
                         secrets: tuple[str, ...]) -> list[Json]:
    if not signature or not secrets:
        raise Rejected(GOCARDLESS_BAD_SIGNATURE, "bad_signature", "missing Webhook-Signature")
    try:
        parse_webhook(body=body, signature=signature, secrets=secrets)
    except (InvalidSignatureError, TypeError):  # TypeError: a non-ASCII header
        raise Rejected(GOCARDLESS_BAD_SIGNATURE, "bad_signature", "invalid signature") from None
    except Exception:  # (verified, but not a GoCardless body)
        raise Rejected(400, "malformed", "malformed webhook body") from None
    events = json.loads(body).get("events")
    if not isinstance(events, list) or not all(
            isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]
            and isinstance(e.get("resource_type"), str) and isinstance(e.get("action"), str)
            for e in events):
        raise Rejected(400, "malformed", "not a list of GoCardless events")
    return events


def create_webhook_app(runtime_or_deps: Runtime | Deps, settings: Settings, *,
                       enqueue: Enqueue | None = None,
                       registry: CollectorRegistry | None = None,
                       extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The app. `enqueue(provider, event_id)` defaults to the `process_webhook` actor;
    `extra_routes` mounts more (the operator API under /api, see workers/operator_api.py)."""
    deps = runtime_or_deps.deps if isinstance(runtime_or_deps, Runtime) else runtime_or_deps
    registry = registry or CollectorRegistry()
    counter = Counter("paycollect_webhooks", "Webhook requests and events by provider and result",
                      ["provider", "result"], registry=registry)
    inbox = _Inbox(deps=deps, settings=settings, enqueue=enqueue or _send_to_actor,
                   counter=counter)

    async def stripe_webhook(request: Request) -> Response:
        try:
            body = await inbox.body(request)
            payload = _stripe_verified(body, request.headers.get("stripe-signature"),
                                       settings.stripe_webhook_secrets)
        except Rejected as rejected:
            return _reject(counter, "stripe", rejected)
        return await run_in_threadpool(inbox.store, "stripe", [inbox.event(
            "stripe", payload, event_id=payload["id"], type=payload["type"],
            resource_id=stripe_events.resource_id(payload),
            occurred_at=stripe_events.occurred_at(payload))])

    async def gocardless_webhook(request: Request) -> Response:
        try:
            body = await inbox.body(request)
            events = _gocardless_verified(body, request.headers.get("webhook-signature"),
                                          settings.gocardless_webhook_secrets)
        except Rejected as rejected:
            return _reject(counter, "gocardless", rejected)
        return await run_in_threadpool(inbox.store, "gocardless", [inbox.event(
            "gocardless", event, event_id=event["id"], type=gocardless_events.event_type(event),
            resource_id=gocardless_events.resource_id(event),
            occurred_at=gocardless_events.occurred_at(event)) for event in events])

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route("/webhooks/gocardless", gocardless_webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Mount("/v1", app=create_api(deps, settings)),
        *invoice_page_routes(deps, settings, bank_details=(
            runtime_or_deps.bank_details if isinstance(runtime_or_deps, Runtime) else None)),
        *extra_routes,
    ])


def _reject(counter: Counter, provider: str, rejected: Rejected) -> Response:
    counter.labels(provider, rejected.result).inc()
    log.warning("webhook rejected: %s", rejected, extra={"provider": provider})
    return JSONResponse({"error": str(rejected)}, status_code=rejected.status)


__all__ = ["create_webhook_app"]
