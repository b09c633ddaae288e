"""dramatiq actors: thin, idempotent, taking ids. The logic lives in workers/handlers/.

`dramatiq workers.actors` (or `paycollect worker`) starts worker processes on these. The broker
is configured from REDIS_URL before any actor is declared (dramatiq binds actors at import).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import dramatiq
from dramatiq import Retry

from adapters.broker import configure_broker, get_configured_broker
from adapters.outbox_doorbell import doorbell_for

broker = get_configured_broker() or configure_broker()

from domain.accounts import MethodType  # noqa: E402
from domain.errors import NotFound  # noqa: E402
from workers import runtime  # noqa: E402  (after the broker, on purpose)
from workers.handlers import (  # noqa: E402
    accounts,
    collect_batch,
    collection,
    event_delivery,
    notifications,
    poll_batch,
    sweeper,
)
from workers.logs import configure_logging  # noqa: E402
from workers.pacing import batch_pacing  # noqa: E402

log = logging.getLogger("paycollect.actors")
configure_logging()


def _retry_when(retries: int, exception: BaseException) -> bool:
    if isinstance(exception, Retry):
        return True
    return retries < 20


#: A message about a row that does not exist will never succeed: fail it without retrying.
PERMANENT = (NotFound,)

_common: dict[str, Any] = {"retry_when": _retry_when, "min_backoff": 1_000,
                           "max_backoff": 300_000, "throws": PERMANENT}


@dramatiq.actor(queue_name="invoices", **_common)
def route_invoices(invoice_ids: list[str]) -> None:
    """A batch of invoices (the dispatcher caps it at COLLECT_BATCH_SIZE ids)."""
    collection.route_invoices(runtime.deps(), invoice_ids=invoice_ids)


@dramatiq.actor(queue_name="invoices", **_common)
def route_invoice(invoice_id: str) -> None:
    """One invoice (a batch of one): the scheduler's and the sweeper's single routes, and
    messages queued before batches."""
    collection.route_invoice(runtime.deps(), invoice_id=invoice_id)


def _pace(rt: runtime.Runtime) -> collect_batch.Pace:
    """Each provider call of a batch waits for its provider's shared rate limiter (slots
    taken a pool's worth at a time). The batch is claimed by now, so it cannot be handed
    back with Retry(delay) as a single attempt was: its pool threads wait (the batch's
    deadline still bounds when a call may start)."""
    return batch_pacing({MethodType.CARD: rt.rate_limits.card,
                         MethodType.DIRECT_DEBIT: rt.rate_limits.direct_debit},
                        chunk=rt.collect_batch.concurrency)


def _collect(attempt_ids: str | list[str]) -> None:
    # A str is a message queued before batches (or a batch of one): both are served.
    ids = [attempt_ids] if isinstance(attempt_ids, str) else list(attempt_ids)
    rt = runtime.current()
    collect_batch.collect_attempts(rt.deps, attempt_ids=ids, pace=_pace(rt),
                                   settings=rt.collect_batch)


@dramatiq.actor(queue_name="card", **_common)
def collect_card(attempt_ids: str | list[str]) -> None:
    """A batch of card attempts (a list), or one attempt id (a batch of one)."""
    _collect(attempt_ids)


@dramatiq.actor(queue_name="direct_debit", **_common)
def collect_direct_debit(attempt_ids: str | list[str]) -> None:
    _collect(attempt_ids)


@dramatiq.actor(queue_name="wire", **_common)
def publish_wire_instructions(attempt_ids: str | list[str]) -> None:
    _collect(attempt_ids)


@dramatiq.actor(queue_name="maintenance", **_common)
def reconcile_attempt(attempt_ids: str | list[str]) -> None:
    # A str is one attempt (what was sent before batches, and stuck attempts); a list is a
    # batch of the sweeper's debit polls.
    if isinstance(attempt_ids, str):
        collection.reconcile_attempt(runtime.deps(), attempt_id=attempt_ids)
        return
    rt = runtime.current()
    poll_batch.reconcile_attempts(rt.deps, attempt_ids=attempt_ids, pace=_pace(rt),
                                  settings=rt.collect_batch)


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

    def __init__(self, *, batch_size: int = 50) -> None:
        #: Ids per message at most (COLLECT_BATCH_SIZE): keeps a message small and a batch
        #: short enough to end well inside its deadline.
        self.batch_size = batch_size

    def route_invoice(self, invoice_id: str) -> None:
        route_invoice.send(invoice_id)

    def route_many(self, invoice_ids: Sequence[str]) -> None:
        for batch in _chunks(invoice_ids, self.batch_size):
            route_invoices.send(batch)

    def collect(self, attempt_id: str, method: str) -> None:
        # A bare id, as before batches: a worker of the previous release still reads it.
        COLLECTORS[method].send(attempt_id)

    def collect_many(self, attempt_ids: Sequence[str], method: str) -> None:
        if len(attempt_ids) == 1:
            self.collect(attempt_ids[0], method)
            return
        for batch in _chunks(attempt_ids, self.batch_size):
            COLLECTORS[method].send(batch)

    def reconcile(self, attempt_id: str) -> None:
        reconcile_attempt.send(attempt_id)

    def reconcile_many(self, attempt_ids: Sequence[str]) -> None:
        if len(attempt_ids) == 1:
            self.reconcile(attempt_ids[0])
            return
        for batch in _chunks(attempt_ids, self.batch_size):
            reconcile_attempt.send(batch)

    def send_notification(self, notification_id: str) -> None:
        # Committed in the outbox: a drain on its way (or asked for now) sends it.
        _ask_for_drain()

    def retry_open_balances(self, account_id: str) -> None:
        retry_open_balances.send(account_id)

    def process_webhook(self, provider: str, event_id: str) -> None:
        process_webhook.send(provider, event_id)


def _chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


ACTORS = (route_invoices, route_invoice, collect_card, collect_direct_debit,
          publish_wire_instructions, reconcile_attempt, retry_open_balances, drain_outbox,
          send_notification, deliver_events, sweep, noop)


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
