"""Deliver outgoing events to the business's endpoints: a drain, like the customer outbox's.

A drain claims a batch of due deliveries (a lease, so a second drain takes other rows), at most
one per (endpoint, account) — the earliest pending — so an endpoint receives an account's
events in sequence. The batch is split by endpoint and each endpoint's share is sent in its own
thread, one request at a time: a slow endpoint (up to `timeout` per request) holds up only its
own share. The first failure of an endpoint ends its share: the failed delivery backs off
(exponential with jitter, given up after 3 days), the endpoint is paused until then (the pause
doubles with its failures in a row; a delivered event clears it) and the rest of its share is
postponed to the same time without counting a try. A paused endpoint is not read by claims
and its new events ring no drain: a dead endpoint costs one request per pause, whatever the
traffic. Other endpoints are unaffected. Then the next batch, until nothing is due.
"""

from __future__ import annotations

import functools
import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.delivery_backoff import GIVE_UP_AFTER, Random, delay, next_attempt_at
from domain.outgoing_events import EventDelivery
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.ports_events import EventSender
from domain.webhook_signing import EVENT_ID_HEADER, HEADER, sign_header

log = logging.getLogger("paycollect.events")

#: Deliveries claimed per batch (across endpoints).
BATCH_SIZE = 100
#: A drain holds its batch this long; no request starts past half of it.
CLAIM_LEASE = timedelta(minutes=5)
#: Per request: an endpoint slower than this counts as failed.
TIMEOUT_SECONDS = 5.0
#: Endpoints served at once by one drain (each one request at a time).
MAX_PARALLEL_ENDPOINTS = 8


@dataclass(frozen=True)
class DeliverySettings:
    timeout_seconds: float = TIMEOUT_SECONDS
    batch_size: int = BATCH_SIZE
    max_batches: int = 20
    parallel_endpoints: int = MAX_PARALLEL_ENDPOINTS


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int
    more: bool


@dataclass
class _Share:
    endpoint_id: str
    #: The endpoint had failed tries in a row when claimed (a success must clear them).
    was_failing: bool
    delivered: list[str]
    failed: tuple[EventDelivery, str] | None
    not_tried: list[EventDelivery]


def deliver_due(*, uow_factory: UnitOfWorkFactory, clock: Clock, sender: EventSender,
                settings: DeliverySettings = DeliverySettings(),
                rand: Random | None = None) -> DeliveryReport:
    """Send due deliveries in batches until none is due (or `max_batches`)."""
    rand = rand or random.Random()  # jitter, not a secret
    delivered = failed = 0
    with ThreadPoolExecutor(max_workers=settings.parallel_endpoints,
                            thread_name_prefix="webhooks-out") as pool:
        for _ in range(settings.max_batches):
            now = clock.now()
            with uow_factory() as uow:
                batch = uow.events.claim_due(now=now, until=now + CLAIM_LEASE,
                                             limit=settings.batch_size)
                uow.commit()
            if not batch:
                return DeliveryReport(delivered=delivered, failed=failed, more=False)
            by_endpoint: dict[str, list[EventDelivery]] = defaultdict(list)
            for delivery in batch:
                by_endpoint[delivery.endpoint_id].append(delivery)
            deadline = now + CLAIM_LEASE / 2
            send = functools.partial(_send_share, sender=sender, clock=clock,
                                     timeout=settings.timeout_seconds, deadline=deadline)
            shares = list(pool.map(send, by_endpoint.values()))
            with uow_factory() as uow:
                uow.webhook_endpoints.resume(endpoint_ids=[
                    share.endpoint_id for share in shares
                    if share.was_failing and share.delivered and share.failed is None])
                for share in shares:
                    uow.events.mark_delivered(delivery_ids=share.delivered, at=clock.now())
                    delivered += len(share.delivered)
                    if share.failed is not None:
                        failed += 1
                        _back_off(uow, share, clock=clock, rand=rand)
                    elif share.not_tried:  # out of time: the next drain takes them
                        uow.events.release(delivery_ids=[d.id for d in share.not_tried])
                uow.commit()
    return DeliveryReport(delivered=delivered, failed=failed, more=True)


def drain(*, uow_factory: UnitOfWorkFactory, clock: Clock, sender: EventSender,
          settings: DeliverySettings, answer: Callable[[], None]) -> bool:
    """One drain message: deliver what is due, then answer the doorbell; True when more is
    due (ask for another drain).

    It answers when it ends, not when it starts (unlike the customer outbox's drain): the
    commits made meanwhile ring in vain and this re-check after answering finds their
    deliveries, so a burst of commits costs one follow-up drain, not one drain each (a
    dead endpoint would otherwise be knocked on after every payment). A commit after the
    answer rings for itself. A drain that dies leaves the doorbell to expire (2 s).
    """
    try:
        report = deliver_due(uow_factory=uow_factory, clock=clock, sender=sender,
                             settings=settings)
    finally:
        answer()
    if report.more:
        return True
    with uow_factory() as uow:
        return uow.events.has_due(now=clock.now())


def _send_share(deliveries: list[EventDelivery], *, sender: EventSender, clock: Clock,
                timeout: float, deadline: datetime) -> _Share:
    share = _Share(endpoint_id=deliveries[0].endpoint_id,
                   was_failing=deliveries[0].endpoint_failures > 0, delivered=[], failed=None,
                   not_tried=[])
    for index, delivery in enumerate(deliveries):
        if clock.now() >= deadline:
            share.not_tried = deliveries[index:]
            break
        body = json.dumps(delivery.body, separators=(",", ":"), sort_keys=True).encode()
        headers = {HEADER: sign_header([delivery.secret], timestamp=int(clock.now().timestamp()),
                                       body=body),
                   EVENT_ID_HEADER: delivery.event_id}
        result = sender.send(url=delivery.url, body=body, headers=headers, timeout=timeout)
        if result.ok:
            share.delivered.append(delivery.id)
            continue
        log.info("event delivery failed: %s", result.error,
                 extra={"event_id": delivery.event_id, "endpoint_id": delivery.endpoint_id})
        share.failed = (delivery, result.error or "failed")
        share.not_tried = deliveries[index + 1:]
        break
    return share


def _back_off(uow: UnitOfWork, share: _Share, *, clock: Clock, rand: Random) -> None:
    """The failed delivery backs off, and so does its endpoint as a whole: it is paused
    until that retry, which doubles with the endpoint's failures in a row (not only the
    delivery's own: a new event to an endpoint dead for hours waits hours, not 30 s). The
    rest of its share waits with it; what the pause took past its retry window is given up."""
    assert share.failed is not None
    delivery, error = share.failed
    now = clock.now()
    failures = max(delivery.attempts, delivery.endpoint_failures) + 1
    at = next_attempt_at(failures=failures, now=now, written_at=delivery.created_at,
                         rand=rand)
    resume_at = at or now + delay(failures, rand=rand)
    uow.events.record_failure(delivery_id=delivery.id, error=error, next_attempt_at=at)
    uow.webhook_endpoints.pause(endpoint_id=delivery.endpoint_id, until=resume_at)
    if share.not_tried:
        uow.events.postpone(
            delivery_ids=[d.id for d in share.not_tried], until=resume_at,
            error=f"not tried: the endpoint failed just before ({error})")
    given_up = uow.events.give_up(endpoint_id=delivery.endpoint_id,
                                  written_before=resume_at - GIVE_UP_AFTER)
    if given_up:
        log.warning("gave up %d event deliveries to a failing endpoint", given_up,
                    extra={"endpoint_id": delivery.endpoint_id})
