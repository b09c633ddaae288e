"""The dramatiq broker: Redis in production, an in-process stub broker when embedded.

The broker must be set before any actor module is imported (dramatiq binds actors to the
global broker at decoration time): `workers/actors.py` calls `configure_broker()` first thing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from dramatiq.rate_limits.backends import StubBackend

from adapters.rate_limit_backend import AtomicRedisBackend, WindowSlots

#: Queues, one per provider so each is scaled and rate-limited alone; `webhooks_out` carries
#: the outgoing events to the business, alone so a slow endpoint never holds up collection.
QUEUES = ("invoices", "card", "direct_debit", "wire", "webhooks", "maintenance", "webhooks_out")

#: A killed worker's unacked messages come back after this (ms). dramatiq's default is 60 s,
#: and the requeue runs only on a random maintenance pass; the sweeper bounds recovery anyway.
HEARTBEAT_TIMEOUT_MS = 15_000

#: Maintenance (requeue of dead workers' messages) per million commands; default 1,000 (0.1%)
#: which measured ~9 minutes of recovery under light load. 2% costs one cheap Lua call per 50.
MAINTENANCE_CHANCE = 20_000

#: Messages older than this are dropped by AgeLimit: the sweeper re-drives from the database.
MAX_MESSAGE_AGE_MS = 24 * 3600 * 1000

#: An actor that runs longer than this is interrupted (a provider call hung past every timeout).
TIME_LIMIT_MS = 5 * 60 * 1000


def _middleware(*, prometheus: bool) -> list[dramatiq.Middleware]:
    middleware: list[dramatiq.Middleware] = [
        AgeLimit(max_age=MAX_MESSAGE_AGE_MS),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=20, min_backoff=1_000, max_backoff=300_000),
        CurrentMessage(),
    ]
    if prometheus and os.environ.get("PAYCOLLECT_PROMETHEUS", "1") == "1":
        # Metrics are served by the dramatiq CLI's exposition fork; bind loopback unless told.
        os.environ.setdefault("dramatiq_prom_host", "127.0.0.1")
        from dramatiq.middleware.prometheus import Prometheus

        middleware.insert(0, Prometheus())
    return middleware


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    """A RedisBroker on `redis_url`, or a StubBroker for the embedded in-process mode."""
    if redis_url is None:
        # Embedded: no metrics server; the in-process run is observed through its report.
        broker: dramatiq.Broker = StubBroker(middleware=_middleware(prometheus=False))
    else:
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=redis_url, middleware=_middleware(prometheus=True),
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS, maintenance_chance=MAINTENANCE_CHANCE)
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def configure_broker(redis_url: str | None = None) -> dramatiq.Broker:
    """Set the global broker from `redis_url` (default: the REDIS_URL environment variable)."""
    url = redis_url if redis_url is not None else (os.environ.get("REDIS_URL") or None)
    broker = make_broker(url)
    dramatiq.set_broker(broker)
    return broker


@dataclass(frozen=True)
class ProviderRateLimits:
    """Per-provider limiters, shared by every worker process through Redis."""

    card: WindowSlots
    direct_debit: WindowSlots


def make_rate_limiters(*, redis_url: str | None, card_per_second: int,
                       direct_debit_per_second: int) -> ProviderRateLimits:
    backend = AtomicRedisBackend(url=redis_url) if redis_url else StubBackend()  # type: ignore[no-untyped-call]
    card = WindowSlots(backend, "paycollect:rate:stripe", limit=card_per_second, window=1)
    direct_debit = WindowSlots(backend, "paycollect:rate:gocardless",
                               limit=direct_debit_per_second, window=1)
    return ProviderRateLimits(card=card, direct_debit=direct_debit)


def get_configured_broker() -> dramatiq.Broker | None:
    """The global broker if one of ours was set already (tests, the embedded runtime)."""
    broker = dramatiq.get_broker() if _has_global_broker() else None
    return broker if broker is not None and "invoices" in broker.get_declared_queues() else None


def _has_global_broker() -> bool:
    import dramatiq.broker as broker_module

    return getattr(broker_module, "global_broker", None) is not None
