"""The process-wide runtime the actors use: built once from the environment (a worker
process) or installed by whoever embeds the system (`paycollect simulate`, tests)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from adapters.bank_details import BankDetails
from adapters.broker import ProviderRateLimits
from adapters.event_sender import HttpEventSender
from domain.ports_events import EventSender
from domain.ports_notify import Notifier
from workers.handlers.collect_batch import BatchSettings
from workers.handlers.deps import Deps
from workers.handlers.event_delivery import DeliverySettings
from workers.handlers.sweeper import SweepSettings


@dataclass
class Runtime:
    deps: Deps
    notifier: Notifier
    rate_limits: ProviderRateLimits
    sweep_settings: SweepSettings
    #: Wire beneficiary details per currency (printed on wire invoices).
    bank_details: dict[str, BankDetails]
    #: Things to stop on shutdown (simulator servers, the embedded worker).
    closers: list[Any]
    #: Outgoing events: how they are sent to the business's endpoints.
    event_sender: EventSender = field(default_factory=HttpEventSender)
    event_delivery: DeliverySettings = field(default_factory=DeliverySettings)
    #: How a collect batch calls its providers (BATCH_PROVIDER_CONCURRENCY, deadline).
    collect_batch: BatchSettings = field(default_factory=BatchSettings)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()


_lock = threading.Lock()
_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    with _lock:
        _current = runtime


def current() -> Runtime:
    """The installed runtime, or one built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            from workers.bootstrap import build_runtime
            from workers.config import load_settings

            _current = build_runtime(load_settings())
        return _current


def deps() -> Deps:
    return current().deps
