"""The whole system in one process for the browser tests: the embedded mode
(workers/bootstrap.py start_embedded) on SQLite, serving the web app (invoice pages, webhooks)
on 127.0.0.1 with the Stripe and GoCardless simulators delivering their webhooks to it.

A customer subscribes (3 users, 1 number: 95.00 EUR a month) with a card that is declined,
so their first invoice stays open and they get the "payment failed" e-mail with its link.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from adapters.invoice_links import InvoiceLinks
from domain.accounts import MethodType, PaymentMethod
from domain.clock import ManualClock, at_utc
from domain.invoices import Invoice
from tests.builders import an_account
from tests.handlers.world import subscribe
from workers.bootstrap import Embedded, start_embedded
from workers.config import Settings
from workers.handlers.deps import Deps
from workers.handlers.renewals import RenewalSettings, run_due_renewals
from workers.scheduler import renew_due

START = date(2026, 3, 1)
#: A soft decline: the invoice stays open and a retry is scheduled days later.
DECLINING_CARD = "pm_card_chargeDeclinedInsufficientFunds"
_LINK = re.compile(r"(https?://\S+/i/[A-Za-z0-9_-]+)")


@dataclass
class BrowserWorld:
    system: Embedded
    clock: ManualClock
    #: INVOICE_LINK_SECRET when the test configured one; None: the system generated its own.
    link_secret: str | None = None

    @property
    def deps(self) -> Deps:
        return self.system.runtime.deps

    @property
    def url(self) -> str:
        assert self.system.webhook_url is not None
        return self.system.webhook_url

    def declined_customer(self, *, language: str, name: str = "Acme SAS") -> str:
        """A card customer whose first invoice was issued today and declined; its id."""
        account_id = f"acc_{uuid.uuid4().hex[:8]}"
        customer, card = self.system.stripe.ensure_customer(
            account_id=account_id, name=name, email=None, payment_method=DECLINING_CARD)
        account = an_account(id=account_id, name=name, language=language,
                             email=f"{account_id}@customers.example",
                             payment_method=PaymentMethod(MethodType.CARD,
                                                          provider_customer=customer,
                                                          provider_method=card))
        subscribe(self.deps.uow_factory, account=account, started_on=START)
        renew_due(self.deps, as_of=START)
        self.system.flush_webhooks()
        return account_id

    def uncollected_debit_customer(self, *, language: str) -> str:
        """A SEPA direct-debit customer whose first invoice was issued today and not collected
        yet (its mandate, unknown to the provider, is about to be replaced); its id."""
        account_id = f"acc_{uuid.uuid4().hex[:8]}"
        subscribe(self.deps.uow_factory, account=an_account(
            id=account_id, language=language, payment_method=PaymentMethod(
                MethodType.DIRECT_DEBIT, provider_method=f"MD_{account_id}",
                scheme="sepa_core")), started_on=START)
        run_due_renewals(uow_factory=self.deps.uow_factory, as_of=START, clock=self.clock,
                         settings=RenewalSettings())
        return account_id

    def days_pass(self, days: int) -> None:
        """Let `days` go by, one at a time, for the providers (debits confirm) and workers."""
        for _ in range(days):
            self.clock.advance(days=1)
            self.system.advance_providers(self.clock.today())
            self.system.flush_webhooks()

    def invoice_of(self, account_id: str) -> Invoice:
        with self.deps.uow_factory() as uow:
            [invoice] = uow.invoices.list(account_id=account_id)
        return invoice

    def invoice_link(self, invoice_id: str) -> str:
        """The invoice's page URL, signed as the e-mails sign it (needs `link_secret`)."""
        assert self.link_secret is not None, "start the world with a link_secret"
        return InvoiceLinks(secrets=(self.link_secret,), base_url=self.url).url_for(invoice_id)

    def emailed_link(self, account_id: str, *, kind: str = "payment_failed") -> str:
        """The invoice page's URL as written in the customer's e-mail of `kind`."""
        with self.deps.uow_factory() as uow:
            [message] = [n for n in uow.outbox.list_all()
                         if n.account_id == account_id and n.kind == kind]
        [link] = _LINK.findall(message.body_text)
        return link


def browser_world(database_url: str, *, migrate: bool = True,
                  link_secret: str | None = None) -> Iterator[BrowserWorld]:
    """The embedded system on `database_url`. Without `link_secret` nothing is configured
    for the links: the secret is generated and the base URL is the served address, as in
    `make demo`."""
    clock = ManualClock(at_utc(2026, 3, 1, 9))
    settings = Settings(database_url=database_url,
                        invoice_link_secrets=(link_secret,) if link_secret else ())
    system = start_embedded(settings, clock=clock, threads=4, migrate=migrate)
    try:
        yield BrowserWorld(system=system, clock=clock, link_secret=link_secret)
    finally:
        system.close()
