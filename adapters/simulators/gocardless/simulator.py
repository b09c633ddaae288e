"""`GoCardlessSimulator`: the store, its clock, faults and webhooks, served over HTTP.

The clock: `clock` is a callable returning today's date (the scenario runner passes its
simulated clock's `today`); every API request and every `advance_to` first moves the store to
that date, applying due transitions and emitting their events. Without a clock, the date only
moves with `advance_to` / `POST /_sim/advance` (starting at `start`). With `seconds_per_day`
(real-time mode, for benchmarks) a day lasts that many wall-clock seconds and a ticker thread
moves the store along, so a `pays` payment is confirmed a few "days" (times seconds_per_day) later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from adapters.simulators.gocardless.app import create_app
from adapters.simulators.gocardless.behaviours import shift_days
from adapters.simulators.gocardless.faults import FaultConfig, FaultInjector
from adapters.simulators.gocardless.state import Store
from adapters.simulators.gocardless.webhooks import WebhookConfig, WebhookSender
from adapters.simulators.server import RunningServer, serve_in_thread


@dataclass(frozen=True)
class SimulatorConfig:
    #: Today's date for the simulation (e.g. `ManualClock.today`); None: `start` + advances.
    clock: Callable[[], date] | None = None
    start: date | None = None
    #: Real-time mode: one simulated day lasts this many seconds (weekends count as days).
    seconds_per_day: float | None = None
    #: Scheme timings in working days (weekends skipped); default: on unless real-time.
    working_days: bool | None = None
    #: GoCardless-side automatic retries after a soft failure (`will_attempt_retry: true`).
    auto_retries: int = 0
    #: If set, requests must carry `Authorization: Bearer <access_token>`.
    access_token: str | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    webhook: WebhookConfig | None = None


class GoCardlessSimulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config = config or SimulatorConfig()
        realtime = config.seconds_per_day is not None
        start = config.start or (config.clock() if config.clock else datetime.now(UTC).date())
        self._clock = config.clock
        if realtime:
            assert config.seconds_per_day is not None
            self._clock = self._realtime_clock(start, config.seconds_per_day)
        working = config.working_days if config.working_days is not None else not realtime
        self.webhooks = WebhookSender(config.webhook) if config.webhook else None
        self.store = Store(today=start, shift=shift_days(working_days=working),
                           on_event=self.webhooks.enqueue if self.webhooks else _ignore,
                           auto_retries=config.auto_retries)
        self.faults = FaultInjector(config.faults)
        self.app = create_app(self)
        self.server: RunningServer | None = None
        self._ticker_stop = threading.Event()

    @staticmethod
    def _realtime_clock(start: date, seconds_per_day: float) -> Callable[[], date]:
        origin = time.monotonic()
        return lambda: start + timedelta(days=int((time.monotonic() - origin) / seconds_per_day))

    # -- the clock -------------------------------------------------------------------------
    def today(self) -> date:
        return self.store.today

    def tick(self) -> int:
        """Catch up with the clock; returns the number of events emitted."""
        return self.store.advance_to(self._clock()) if self._clock else 0

    def advance_to(self, day: date) -> int:
        """Move every payment along its timeline up to `day` (never backwards)."""
        return self.tick() + self.store.advance_to(day)

    # -- serving ---------------------------------------------------------------------------
    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> GoCardlessSimulator:
        """Serve on `host:port` (default: loopback, a free port) in a thread; see `url`."""
        self.server = serve_in_thread(self.app, host=host, port=port)
        if self.config.seconds_per_day is not None:
            threading.Thread(target=self._tick_forever, args=(self.config.seconds_per_day / 4,),
                             name="gocardless-sim-ticker", daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None, "call start() first"
        return self.server.url

    def _tick_forever(self, interval: float) -> None:
        while not self._ticker_stop.wait(interval):
            self.tick()

    def stop(self) -> None:
        self._ticker_stop.set()
        if self.server is not None:
            self.server.stop()
        if self.webhooks is not None:
            self.webhooks.close()

    def __enter__(self) -> GoCardlessSimulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- observation -----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        out = self.store.stats()
        out["faults"] = dict(self.faults.counts)
        out["webhooks"] = dict(self.webhooks.counts) if self.webhooks else {}
        return out


def _ignore(event: dict[str, Any]) -> None:
    return None
