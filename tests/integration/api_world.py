"""The /v1 API served for real: the web app (`paycollect serve`'s) on 127.0.0.1, over HTTP.

The fixture `api` (parametrized over SQLite and PostgreSQL by `database_url`) gives an
`ApiWorld`: an httpx client on /v1 with a valid key, the handlers' Deps on the same
database, a manual clock, and helpers to run renewals and count rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from adapters.db.tables import METADATA
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.simulators.server import RunningServer, serve_in_thread
from domain.clock import ManualClock, at_utc
from tests.handlers.doubles import RecordingDispatcher
from workers.config import Settings
from workers.console_deps import build_console_deps
from workers.handlers.deps import Deps
from workers.scheduler import renew_due
from workers.webhook_app import create_webhook_app

KEY = "pk_test_first"
ROTATED_KEY = "pk_test_second"
AUTH = {"Authorization": f"Bearer {KEY}"}
START = at_utc(2026, 3, 1, 9)


@dataclass
class ApiWorld:
    http: httpx.Client
    deps: Deps
    clock: ManualClock
    server: RunningServer

    @property
    def url(self) -> str:
        return f"{self.server.url}/v1"

    def renew(self) -> None:
        renew_due(self.deps, as_of=self.clock.today())

    def row_counts(self) -> dict[str, int]:
        """Rows in every table: what a refused request must leave unchanged."""
        factory = self.deps.uow_factory
        assert isinstance(factory, SqlUnitOfWorkFactory)
        with factory() as uow:
            return {table.name: uow.session.execute(
                select(func.count()).select_from(table)).scalar_one()
                for table in METADATA.sorted_tables}

    def account(self, **fields: Any) -> dict[str, Any]:
        response = self.http.post("/accounts", json={"name": "Acme", "currency": "EUR",
                                                     **fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def subscription(self, account_id: str, **fields: Any) -> dict[str, Any]:
        body = {"account": account_id, "interval": "monthly", "user_price": 1000,
                "number_price": 500, "started_on": "2026-03-01", "users": 2, "numbers": 1,
                **fields}
        response = self.http.post("/subscriptions", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())


def serve_api(database_url: str, *, keys: tuple[str, ...]) -> Iterator[ApiWorld]:
    clock = ManualClock(START)
    settings = Settings(database_url=database_url, api_keys=keys)
    console = build_console_deps(settings, clock=clock, dispatch=RecordingDispatcher())
    app = create_webhook_app(console.deps, settings, enqueue=lambda provider, event: None)
    server = serve_in_thread(app)
    try:
        with httpx.Client(base_url=f"{server.url}/v1", headers=AUTH, timeout=10) as http:
            yield ApiWorld(http=http, deps=console.deps, clock=clock, server=server)
    finally:
        server.stop()
        console.close()


@pytest.fixture
def api(database_url: str) -> Iterator[ApiWorld]:
    yield from serve_api(database_url, keys=(KEY, ROTATED_KEY))
