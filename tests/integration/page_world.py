"""A served invoice page over a real database: a card, a debit and a wire customer, each with
one issued invoice (95.00 EUR: 3 users × 30.00 + 1 number × 5.00), and a recording stand-in
for the setup flow (the page's StartSetup port)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.invoice_links import InvoiceLinks
from adapters.simulators.server import serve_in_thread
from domain.accounts import MethodType
from domain.clock import ManualClock, at_utc
from domain.invoices import Invoice, InvoiceStatus
from tests.handlers.world import card_account, debit_account, subscribe, wire_account
from workers.config import Settings
from workers.console_deps import build_console_deps
from workers.handlers.deps import Deps
from workers.invoice_page import invoice_links, invoice_page_routes
from workers.scheduler import renew_due

START = date(2026, 3, 1)
SECRET = "page-test-secret"


@dataclass(frozen=True)
class Started:
    url: str


@dataclass
class RecordingSetups:
    """Records each start and answers a hosted page URL, as start_setup does."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def __call__(self, deps: Deps, *, account_id: str, method: MethodType,
                 scheme: str | None = None, return_url: str | None = None) -> Started:
        if self.fail:
            raise ConnectionError("provider unreachable")
        self.calls.append({"account_id": account_id, "method": method, "scheme": scheme,
                           "return_url": return_url})
        return Started(url=f"https://setup.example/{account_id}")


@dataclass
class PageWorld:
    """`http` talks to the served page; `invoice_ids` by account id."""

    deps: Deps
    http: httpx.Client
    links: InvoiceLinks
    setups: RecordingSetups
    invoice_ids: dict[str, str]

    def path(self, account_id: str) -> str:
        return "/i/" + self.links.token_for(self.invoice_ids[account_id])

    def invoice(self, account_id: str) -> Invoice:
        with self.deps.uow_factory() as uow:
            found = uow.invoices.get(invoice_id=self.invoice_ids[account_id])
        assert found is not None
        return found

    def mark_paid(self, account_id: str) -> None:
        invoice = self.invoice(account_id)
        with self.deps.uow_factory() as uow:
            uow.invoices.update_settlement(invoice=replace(
                invoice, status=InvoiceStatus.PAID, amount_paid=invoice.total))
            uow.commit()


def settings_for(url: str, **overrides: Any) -> Settings:
    return replace(Settings(database_url=url, invoice_link_secrets=(SECRET,),
                            public_base_url="http://pay.test"), **overrides)


def page_world(url: str) -> Iterator[PageWorld]:
    settings = settings_for(url)
    console = build_console_deps(settings, clock=ManualClock(at_utc(2026, 3, 1, 9)))
    deps = console.deps
    for account in (card_account("acc_card", language="en", name="Acme & <Co>"),
                    replace(debit_account("acc_debit"), language="fr"),
                    wire_account("acc_wire")):
        subscribe(deps.uow_factory, account=account, started_on=START)
    renew_due(deps, as_of=START)
    with deps.uow_factory() as uow:
        ids = {inv.account_id: inv.id for inv in uow.invoices.list()}
    setups = RecordingSetups()
    links = invoice_links(settings)
    assert links is not None
    server = serve_in_thread(Starlette(routes=invoice_page_routes(
        deps, settings, bank_details=DEMO_BANK_DETAILS, start_setup=setups)))
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield PageWorld(deps=deps, http=http, links=links,
                            setups=setups, invoice_ids=ids)
    finally:
        server.stop()
        console.close()
