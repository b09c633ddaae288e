"""The embedded system (webhook app, /v1 API, simulators) for payment-method setup tests, and
the customer's side of a hosted page: a plain HTML form submitted over HTTP, as a browser
without JavaScript would."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from adapters.db.tables import PaymentMethodSetupRow
from domain.invoices import InvoiceStatus
from tests.integration.webhook_world import World, running_world
from workers.simulate.hosted_form import prefilled

API_KEY = "pk_setups_test_key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from running_world(database_url, api_keys=(API_KEY,))


def submit_hosted_page(url: str, **fields: str) -> httpx.Response:
    """Open the hosted page, check it is a form with the complete button, and submit it with
    its prefilled values (overridden by `fields`); the answer is not followed."""
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200, page.text
    assert 'data-testid="complete-setup"' in page.text
    assert "Complete setup" in page.text
    assert '<form method="post"' in page.text
    return httpx.post(url, data={**prefilled(page.text), **fields}, timeout=10,
                      follow_redirects=False)


def declined_invoice(world: World, card: str = "pm_card_chargeDeclined") -> tuple[str, str]:
    """An account on a declining card, and its first invoice, left open by the decline."""
    account = world.card_customer(card)
    [invoice_id] = world.renew()
    world.collect([invoice_id])
    [invoice] = world.invoices(account)
    assert invoice.status is InvoiceStatus.OPEN
    return account, invoice_id


def setup_rows(world: World) -> int:
    with world.deps.uow_factory() as uow:
        return int(uow.session.execute(  # type: ignore[attr-defined]
            select(func.count()).select_from(PaymentMethodSetupRow)).scalar_one())
