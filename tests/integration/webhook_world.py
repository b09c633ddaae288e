"""The embedded system with its webhook app, and a customer world to post events about."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

import httpx
import pytest

from domain.accounts import Account, MethodType, PaymentMethod
from domain.clock import ManualClock, at_utc
from domain.invoices import Invoice
from domain.payments import AttemptStatus, PaymentAttempt
from tests.builders import a_subscription, an_account
from tests.integration.webhook_support import GOCARDLESS_SECRET, STRIPE_SECRET
from workers.bootstrap import Embedded, start_embedded
from workers.config import Settings
from workers.handlers.renewals import RenewalSettings, run_due_renewals

START = at_utc(2026, 1, 31, 9)


@dataclass
class World:
    system: Embedded
    clock: ManualClock
    http: httpx.Client

    @property
    def deps(self):  # type: ignore[no-untyped-def]
        return self.system.runtime.deps

    def card_customer(self, card: str = "pm_card_visa") -> str:
        """An account paying by a card on file at the Stripe simulator."""
        account_id = f"acc_{uuid.uuid4().hex[:8]}"
        customer, method = self.system.stripe.ensure_customer(
            account_id=account_id, name="Acme", email=None, payment_method=card)
        return self.customer(account_id=account_id, method=PaymentMethod(
            MethodType.CARD, provider_customer=customer, provider_method=method))

    def customer(self, *, method: PaymentMethod, account_id: str | None = None,
                 started_on: date = date(2026, 1, 31)) -> str:
        account_id = account_id or f"acc_{uuid.uuid4().hex[:8]}"
        account: Account = an_account(id=account_id, payment_method=method)
        subscription = a_subscription(id=f"sub_{account_id}", account_id=account_id)
        subscription = replace(subscription, terms=replace(subscription.terms,
                                                           started_on=started_on),
                               next_renewal_on=started_on)
        with self.deps.uow_factory() as uow:
            uow.accounts.add(account=account)
            uow.subscriptions.add(subscription=subscription)
            uow.commit()
        return account_id

    def renew(self) -> list[str]:
        return run_due_renewals(uow_factory=self.deps.uow_factory, as_of=self.clock.today(),
                                clock=self.clock, settings=RenewalSettings())

    def invoices(self, account_id: str) -> list[Invoice]:
        with self.deps.uow_factory() as uow:
            found = uow.invoices.list(account_id=account_id)
        return sorted(found, key=lambda inv: (inv.issued_on, inv.number))

    def attempts(self, invoice_id: str) -> list[PaymentAttempt]:
        with self.deps.uow_factory() as uow:
            return uow.attempts.list_for_invoice(invoice_id=invoice_id)

    def pending_debit(self, invoice: Invoice, *, payment_id: str) -> PaymentAttempt:
        """A direct debit the provider accepted (as collection would have left it)."""
        now = self.clock.now()
        attempt = PaymentAttempt(
            id=str(uuid.uuid4()), invoice_id=invoice.id, account_id=invoice.account_id,
            method=MethodType.DIRECT_DEBIT, number=1, amount=invoice.amount_due,
            status=AttemptStatus.PENDING, created_at=now, updated_at=now,
            provider_ref=payment_id, retry_schedule_days=(1, 3, 5, 7), reason="renewal")
        with self.deps.uow_factory() as uow:
            uow.attempts.add(attempt=attempt)
            uow.commit()
        return attempt

    def ledger_sum(self, account_id: str) -> int:
        with self.deps.uow_factory() as uow:
            return uow.ledger.balance(account_id=account_id, currency="EUR").minor

    def post_stripe(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.http.post("/webhooks/stripe", content=body, headers=headers)

    def post_gocardless(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.http.post("/webhooks/gocardless", content=body, headers=headers)

    def collect(self, invoice_ids: list[str]) -> None:
        for invoice_id in invoice_ids:
            self.deps.dispatch.route_invoice(invoice_id)
        self.settle()

    def settle(self) -> None:
        """Every delivery made and every message processed (one worker cycle)."""
        self.system.flush_webhooks()


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from running_world(database_url)


def running_world(database_url: str, *, api_keys: tuple[str, ...] = ()) -> Iterator[World]:
    """The embedded system on `database_url`, stopped when the generator is closed."""
    clock = ManualClock(START)
    settings = Settings(database_url=database_url, stripe_webhook_secrets=(STRIPE_SECRET,),
                        gocardless_webhook_secrets=(GOCARDLESS_SECRET,), api_keys=api_keys)
    system = start_embedded(settings, clock=clock, threads=4, migrate=False)
    assert system.webhook_url is not None
    try:
        with httpx.Client(base_url=system.webhook_url, timeout=10) as http:
            yield World(system=system, clock=clock, http=http)
    finally:
        system.close()
