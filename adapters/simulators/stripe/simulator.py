"""The simulator as one object: store, faults, webhooks and dispute timers wired together."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.simulators.stripe import aftermath
from adapters.simulators.stripe.faults import FaultConfig, FaultInjector
from adapters.simulators.stripe.objects import Json
from adapters.simulators.stripe.state import Store
from adapters.simulators.stripe.webhooks import WebhookConfig, WebhookSender


@dataclass(frozen=True)
class SimulatorConfig:
    #: Accepted secret keys; empty accepts any `sk_test_…`/`rk_test_…` key.
    api_keys: tuple[str, ...] = ()
    #: Seeds object ids (and nothing else: faults and webhooks have their own seeds).
    seed: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    #: Seconds after a `pm_card_createDispute` charge before its dispute opens;
    #: None waits for POST /_sim/advance (deterministic runs).
    dispute_delay_seconds: float | None = None
    clock: Callable[[], float] = time.time


class StripeSimulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.faults = FaultInjector(self.config.faults)
        self.webhooks = WebhookSender(self.config.webhooks)
        self.store = Store(seed=self.config.seed, clock=self.config.clock,
                           publish=lambda event: self.webhooks.enqueue(event.payload),
                           on_dispute_pending=self._schedule_dispute)

    def accepts(self, api_key: str) -> bool:
        if self.config.api_keys:
            return api_key in self.config.api_keys
        return api_key.startswith(("sk_test_", "rk_test_")) and len(api_key) > 8

    def _schedule_dispute(self, charge_id: str) -> None:
        if self.config.dispute_delay_seconds is None:
            return
        timer = threading.Timer(self.config.dispute_delay_seconds, aftermath.open_dispute,
                                args=(self.store, charge_id))
        timer.daemon = True
        timer.start()

    def advance(self, *, disputes: bool = True, close_disputes: str | None = None,
                settle_processing: bool = True) -> Json:
        """Make "later" happen now: open pending disputes, close them, settle processing."""
        opened = []
        if disputes:
            for charge_id in list(self.store.pending_disputes):
                made = aftermath.open_dispute(self.store, charge_id)
                if made is not None:
                    opened.append(made["id"])
        closed = []
        if close_disputes is not None:
            if close_disputes not in ("won", "lost"):
                raise ValueError("close_disputes must be 'won' or 'lost'")
            closed = [d["id"] for d in aftermath.close_disputes(self.store, status=close_disputes)]
        settled = []
        if settle_processing:
            settled = [pi["id"] for pi in aftermath.settle_processing(self.store)]
        return {"disputes_opened": opened, "disputes_closed": closed, "settled": settled}

    def stats(self) -> dict[str, Any]:
        stats = self.store.stats()
        stats["webhooks"] = self.webhooks.snapshot()
        return stats

    def reset(self) -> None:
        self.store.reset()

    def close(self) -> None:
        self.webhooks.close()
