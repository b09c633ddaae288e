"""The /v1 API served for real (uvicorn in a thread) on the test database, for usage tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import httpx

from adapters.simulators.server import serve_in_thread
from domain.clock import ManualClock
from domain.ports import UnitOfWorkFactory
from tests.handlers.doubles import RecordingDispatcher
from tests.handlers.world import card_account, renew, subscribe
from workers.api.app import create_api
from workers.config import Settings
from workers.console_deps import build_console_deps

KEY = "test-api-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
#: a_plan(): outbound 0.02/min, no toll-free rate (tests/builders.py).
START = date(2026, 3, 1)


@dataclass
class UsageWorld:
    http: httpx.Client
    uow_factory: UnitOfWorkFactory
    clock: ManualClock

    def renew(self, day: date) -> list[str]:
        """Run the renewals due by `day`, at 06:00 UTC that day (the clock moves there)."""
        self.clock.set(datetime.combine(day, time(6), tzinfo=UTC))
        return renew(self.uow_factory, self.clock, as_of=day)

    def post_usage(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.http.post("/usage", json={"records": records}, headers=AUTH)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def serve_api(database_url: str, uow_factory: UnitOfWorkFactory,
              clock: ManualClock) -> Iterator[UsageWorld]:
    """Yield the world with subscription `sub_acme` (monthly, started 2026-03-01)."""
    subscribe(uow_factory, account=card_account("acme"), started_on=START)
    console = build_console_deps(Settings(database_url=database_url), clock=clock,
                                 dispatch=RecordingDispatcher())
    settings = Settings(database_url=database_url, api_keys=(KEY,))
    server = serve_in_thread(create_api(console.deps, settings))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield UsageWorld(http=http, uow_factory=uow_factory, clock=clock)
    finally:
        server.stop()
        console.close()


def call(id: str, *, destination: str = "+33145678901", started_at: str = "2026-03-10T09:00:00Z",
         seconds: int = 60, direction: str = "outbound",
         subscription: str = "sub_acme") -> dict[str, Any]:
    return {"id": id, "subscription": subscription, "number": "+33198765432",
            "direction": direction, "destination": destination, "started_at": started_at,
            "duration_seconds": seconds}
