"""Reusable GoCardless fixtures: the simulator over HTTP, the SDK client, the gateway, a webhook
receiver. Import them explicitly: `from tests.integration.gocardless_fixtures import ...`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import gocardless_pro
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tenacity import wait_none

from adapters.gocardless_gateway import GoCardlessGateway
from adapters.simulators.gocardless import GoCardlessSimulator, SimulatorConfig
from adapters.simulators.server import RunningServer, serve_in_thread
from domain.clock import ManualClock, at_utc

#: Thursday 15 January 2026: working-day arithmetic crosses a weekend early on.
START = at_utc(2026, 1, 15, 9)
TOKEN = "sim-access-token"
WEBHOOK_SECRET = "sim-webhook-secret"


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def gocardless_sim(sim_clock: ManualClock) -> Iterator[GoCardlessSimulator]:
    sim = GoCardlessSimulator(SimulatorConfig(clock=sim_clock.today, access_token=TOKEN)).start()
    yield sim
    sim.stop()


@pytest.fixture
def gocardless_client(gocardless_sim: GoCardlessSimulator) -> gocardless_pro.Client:
    return gocardless_pro.Client(access_token=TOKEN, base_url=gocardless_sim.url, timeout=5)


@pytest.fixture
def gocardless_gateway(gocardless_sim: GoCardlessSimulator) -> GoCardlessGateway:
    return GoCardlessGateway(access_token=TOKEN, base_url=gocardless_sim.url, timeout=5,
                             wait=wait_none())


CURRENCY: dict[str, str] = {"sepa_core": "EUR", "bacs": "GBP", "ach": "USD"}


def mandate_for(client: gocardless_pro.Client, behaviour: str = "pays",
                scheme: str = "sepa_core") -> Any:
    customer = client.customers.create(params={"email": "ap@acme.test", "company_name": "Acme"})
    account = client.customer_bank_accounts.create(params={
        "account_holder_name": "Acme", "currency": CURRENCY[scheme],
        "account_number": "55779911", "links": {"customer": customer.id}})
    return client.mandates.create(params={"links": {"customer_bank_account": account.id},
                                          "metadata": {"behaviour": behaviour}})


def pay(client: gocardless_pro.Client, mandate: Any, **extra: Any) -> Any:
    params = {"amount": 14962, "currency": CURRENCY[mandate.scheme],
              "links": {"mandate": mandate.id}, "metadata": {"invoice_id": "INV-1"}, **extra}
    return client.payments.create(params=params)


def advance(sim: GoCardlessSimulator, clock: ManualClock, *, days: int) -> date:
    """Move the shared clock on and let the simulator catch up (as the scenario runner does)."""
    clock.advance(days=days)
    sim.tick()
    return clock.today()


@dataclass
class WebhookReceiver:
    """Records every POST it receives: (raw body, headers)."""

    url: str
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[tuple[bytes, dict[str, str]]]:
        with self.lock:
            return list(self.received)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    holder: list[WebhookReceiver] = []

    async def receive(request: Request) -> Response:
        body = await request.body()
        with holder[0].lock:
            holder[0].received.append((body, dict(request.headers)))
        return Response(status_code=204)

    server: RunningServer = serve_in_thread(Starlette(routes=[
        Route("/webhooks/gocardless", receive, methods=["POST"])]))
    holder.append(WebhookReceiver(url=f"{server.url}/webhooks/gocardless"))
    yield holder[0]
    server.stop()
