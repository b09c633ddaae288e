"""The link in a customer's e-mail opens their invoice page on the served app: the embedded
system end to end (renewal, a declined charge, the e-mail in the outbox, the page), on
SQLite and PostgreSQL, without a browser (tests/browser/ has the browser's view)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.browser.world import BrowserWorld, browser_world


@pytest.fixture
def world(database_url: str) -> Iterator[BrowserWorld]:
    yield from browser_world(database_url, migrate=False)


def test_the_payment_failed_email_links_to_the_invoice_page_on_the_served_app(
        world: BrowserWorld) -> None:
    # Given a customer whose first invoice's charge was declined
    account_id = world.declined_customer(language="en")
    invoice = world.invoice_of(account_id)
    # When they follow the link in the "payment failed" e-mail
    link = world.emailed_link(account_id)
    response = httpx.get(link, timeout=10)
    # Then it is the served app's page of that invoice, 95.00 EUR still due, with the button
    assert link.startswith(world.url + "/i/")
    assert response.status_code == 200
    assert f"Invoice {invoice.number}" in response.text
    assert 'data-testid="amount-due">€95.00<' in response.text
    assert 'data-testid="pay"' in response.text
