"""dramatiq actors: thin, idempotent, taking ids. The logic lives in workers/handlers/.

`dramatiq workers.actors` (or `paycollect worker`) starts worker processes on these. The broker
is configured from REDIS_URL before any actor is declared (dramatiq binds actors at import).
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq import Retry

from adapters.broker import configure_broker, get_configured_broker
from adapters.outbox_doorbell import doorbell_for

broker = get_configured_broker() or configure_broker()

from domain.errors import NotFound  # noqa: E402
from workers import runtime  # noqa: E402  (after the broker, on purpose)
from workers.handlers import (  # noqa: E402
    accounts,
    collection,
    event_delivery,
    notifications,
    sweeper,
)
from workers.logs import configure_logging  # noqa: E402

log = logging.getLogger("paycollect.actors")
configure_logging()

#: Rate-limit waits are not failures: they must never exhaust a message's retries.
RATE_LIMIT_DELAY_MS = 250


def _retry_when(retries: int, exception: BaseException) -> bool:
    if isinstance(exception, Retry):
        return True
    return retries < 20


#: A message about a row that does not exist will never succeed: fail it without retrying.
PERMANENT = (NotFound,)

_common: dict[str, Any] = {"retry_when": _retry_when, "min_backoff": 1_000,
                           "max_backoff": 300_000, "throws": PERMANENT}


@dramatiq.actor(queue_name="invoices", **_common)
def route_invoice(invoice_id: str) -> None:
    collection.route_invoice(runtime.deps(), invoice_id=invoice_id)


def _collect_rate_limited(limiter_name: str, attempt_id: str) -> None:
    rt = runtime.current()
    limiter = getattr(rt.rate_limits, limiter_name)
    with limiter.acquire(raise_on_failure=False) as acquired:
        if not acquired:
            # Retry(delay) re-enqueues without logging an error; _retry_when keeps it from
            # counting towards exhaustion, unlike a raised RateLimitExceeded.
            raise Retry(delay=RATE_LIMIT_DELAY_MS)
        collection.collect_attempt(rt.deps, attempt_id=attempt_id)


@dramatiq.actor(queue_name="card", **_common)
def collect_card(attempt_id: str) -> None:
    _collect_rate_limited("card", attempt_id)


@dramatiq.actor(queue_name="direct_debit", **_common)
def collect_direct_debit(attempt_id: str) -> None:
    _collect_rate_limited("direct_debit", attempt_id)


@dramatiq.actor(queue_name="wire", **_common)
def publish_wire_instructions(attempt_id: str) -> None:
    collection.collect_attempt(runtime.deps(), attempt_id=attempt_id)


@dramatiq.actor(queue_name="maintenance", **_common)
def reconcile_attempt(attempt_id: str) -> None:
    collection.reconcile_attempt(runtime.deps(), attempt_id=attempt_id)


@dramatiq.actor(queue_name="maintenance", **_common)
def retry_open_balances(account_id: str) -> None:
    accounts.retry_open_balances(runtime.deps(), account_id=account_id,
                                 reason="payment method updated")


@dramatiq.actor(queue_name="maintenance", **_common)
def drain_outbox() -> None:
    """Send the outbox's queued messages in batches (see adapters/outbox_doorbell.py)."""
    # Answer first: a message committed from now on asks for a drain of its own.
    doorbell_for(drain_outbox.broker).answer()
    rt = runtime.current()
    report = notifications.send_pending(rt.deps, notifier=rt.notifier)
    if report.more:
        _ask_for_drain()  # a long backlog: in several messages, each under the time limit


@dramatiq.actor(queue_name="maintenance", **_common)
def send_notification(notification_id: str) -> None:
    """One notification per message, as before drains: a message of that kind still queued
    when this version starts is served by a drain (which sends it with the others)."""
    drain_outbox()


def _ask_for_drain() -> None:
    if doorbell_for(drain_outbox.broker).ring():
        drain_outbox.send()


@dramatiq.actor(queue_name="webhooks_out", **_common)
def deliver_events() -> None:
    """Deliver due outgoing events to the business's endpoints, in batches (its own queue:
    a slow endpoint never holds up collection)."""
    rt = runtime.current()
    if event_delivery.drain(uow_factory=rt.deps.uow_factory, clock=rt.deps.clock,
                            sender=rt.event_sender, settings=rt.event_delivery,
                            answer=doorbell_for(deliver_events.broker, "events").answer):
        ask_for_event_delivery()


def ask_for_event_delivery() -> None:
    """Committed deliveries are waiting: a drain on its way (or asked for now) sends them."""
    if doorbell_for(deliver_events.broker, "events").ring():
        deliver_events.send()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def sweep() -> None:
    rt = runtime.current()
    sweeper.sweep(rt.deps, settings=rt.sweep_settings)


@dramatiq.actor(queue_name="noop", max_retries=0)
def noop() -> None:
    """Does nothing: bench/pipeline.py measures the broker's bare message rate with it."""


COLLECTORS = {"card": collect_card, "direct_debit": collect_direct_debit,
              "wire": publish_wire_instructions}


class ActorDispatcher:
    """The handlers' Dispatcher port, backed by these actors."""

    def route_invoice(self, invoice_id: str) -> None:
        route_invoice.send(invoice_id)

    def collect(self, attempt_id: str, method: str) -> None:
        COLLECTORS[method].send(attempt_id)

    def reconcile(self, attempt_id: str) -> None:
        reconcile_attempt.send(attempt_id)

    def send_notification(self, notification_id: str) -> None:
        # Committed in the outbox: a drain on its way (or asked for now) sends it.
        _ask_for_drain()

    def retry_open_balances(self, account_id: str) -> None:
        retry_open_balances.send(account_id)

    def process_webhook(self, provider: str, event_id: str) -> None:
        process_webhook.send(provider, event_id)


ACTORS = (route_invoice, collect_card, collect_direct_debit, publish_wire_instructions,
          reconcile_attempt, retry_open_balances, drain_outbox, send_notification,
          deliver_events, sweep, noop)


def rebind(new_broker: dramatiq.Broker) -> None:
    """Move every actor onto `new_broker` (a fresh embedded run in the same process)."""
    for actor in ACTORS:
        actor.broker = new_broker
        new_broker.declare_actor(actor)


# --- Provider webhooks (issue 4): the app stores the event, this processes it. ------------
from workers.handlers import webhooks  # noqa: E402


@dramatiq.actor(queue_name="maintenance", **_common)
def process_webhook(provider: str, event_id: str) -> None:
    webhooks.process_webhook(runtime.deps(), provider=provider, event_id=event_id)


ACTORS = (*ACTORS, process_webhook)  # type: ignore[assignment]  # one more actor
