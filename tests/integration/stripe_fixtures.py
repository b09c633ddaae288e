"""Fixtures for the Stripe simulator, a webhook receiver and localstripe, all on 127.0.0.1.

Import the ones a module uses explicitly (pytest_plugins is for the root conftest only):
    from tests.integration.stripe_fixtures import stripe_sim, webhook_receiver  # noqa: F401
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import stripe
import tenacity
from aiohttp import web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.simulators.server import RunningServer, serve_in_thread
from adapters.simulators.stripe import SimulatorConfig, StripeSimulator, create_app
from adapters.stripe_gateway import StripeGateway, TransientRetry

API_KEY = "sk_test_paycollect_simulator"
WEBHOOK_SECRET = "whsec_test_paycollect"


@dataclass
class StripeSim:
    """A running simulator: its URL, the in-process simulator, and admin helpers over HTTP."""

    url: str
    simulator: StripeSimulator
    server: RunningServer
    api_key: str = API_KEY

    def client(self, api_key: str | None = None, **options: Any) -> stripe.StripeClient:
        return stripe.StripeClient(api_key or self.api_key, base_addresses={"api": self.url},
                                   **options)

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/_sim/faults", json=changes)
        response.raise_for_status()
        return dict(response.json())

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_sim/stats").json())

    def advance(self, **options: Any) -> dict[str, Any]:
        return dict(httpx.post(f"{self.url}/_sim/advance", json=options).json())


@pytest.fixture
def start_stripe_sim() -> Iterator[Callable[..., StripeSim]]:
    """Start simulators with a given SimulatorConfig; all are stopped after the test."""
    started: list[StripeSim] = []

    def start(config: SimulatorConfig | None = None) -> StripeSim:
        simulator = StripeSimulator(config or SimulatorConfig(api_keys=(API_KEY,)))
        server = serve_in_thread(create_app(simulator=simulator))
        started.append(StripeSim(url=server.url, simulator=simulator, server=server))
        return started[-1]

    yield start
    for sim in started:
        sim.simulator.close()
        sim.server.stop()


@pytest.fixture
def stripe_sim(start_stripe_sim: Callable[..., StripeSim]) -> StripeSim:
    return start_stripe_sim()


@dataclass
class Receiver:
    """Webhook deliveries received: (headers, raw body) in arrival order."""

    url: str
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    async def receive(request: Request) -> Response:
        receiver.deliveries.append((dict(request.headers), await request.body()))
        return Response(status_code=receiver.status)

    server = serve_in_thread(Starlette(routes=[Route("/hooks", receive, methods=["POST"])]))
    receiver.url = f"{server.url}/hooks"
    yield receiver
    server.stop()


def make_gateway(url: str, *, api_key: str = API_KEY, attempts: int = 4,
                 sleeps: list[float] | None = None, **options: Any) -> StripeGateway:
    """A gateway that never really sleeps: waits are wait_none(), sleep records into `sleeps`."""
    record = sleeps if sleeps is not None else []
    return StripeGateway(api_key=api_key, api_base=url, transient_retry=TransientRetry(
        attempts=attempts, wait=tenacity.wait_none(), sleep=record.append), **options)


def _localstripe_app() -> web.Application:
    # localstripe's module-level app also pickles its store to /tmp after every write and may
    # only run once; a fresh app with its routes and request middlewares avoids both.
    from localstripe import server

    app = web.Application(middlewares=[server.error_middleware, server.auth_middleware])
    for route in server.app.router.routes():
        resource = route.resource
        if resource is not None:
            app.router.add_route(route.method, resource.canonical, route.handler)
    return app


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """localstripe (aiohttp) on 127.0.0.1, never its CLI, which listens on every interface."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_localstripe_app(), access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    host, port = runner.addresses[0][:2]
    thread = threading.Thread(target=loop.run_forever, name="localstripe", daemon=True)
    thread.start()
    yield f"http://{host}:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()
