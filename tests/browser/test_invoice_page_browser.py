"""The hosted invoice page in a real browser (Debian's chromium driven by Playwright) against
the embedded system's served web app: the customer follows the link from their e-mail."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.world import BrowserWorld, browser_world

pytestmark = pytest.mark.browser

#: The webhook and the retry it triggers are asynchronous: how long the page may take to
#: say "paid" after the setup completed.
PAID_WITHIN_SECONDS = 60


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserWorld]:
    folder = tmp_path_factory.mktemp("browser-world")
    yield from browser_world(f"sqlite:///{folder / 'paycollect.db'}")


@pytest.fixture
def own_world(tmp_path: Path) -> Iterator[BrowserWorld]:
    """A system of its own, for a test that moves the clock."""
    yield from browser_world(f"sqlite:///{tmp_path / 'paycollect.db'}",
                             link_secret="browser-test-secret")


def reload_until_paid(page: Page, *, wait: Callable[[], None] = lambda: time.sleep(0.5)
                      ) -> None:
    """Reload the page until it says paid, for at most PAID_WITHIN_SECONDS."""
    deadline = time.monotonic() + PAID_WITHIN_SECONDS
    while page.get_by_test_id("status").get_attribute("data-status") != "paid":
        assert time.monotonic() < deadline, "the invoice was not paid in time"
        wait()
        page.reload()


def test_the_link_in_the_email_opens_the_invoice_with_its_amount_and_sections(
        world: BrowserWorld, page: Page, tmp_path: Path) -> None:
    # Given an English customer whose card was declined, and the link in their e-mail
    account_id = world.declined_customer(language="en", name="Acme & <Sons>")
    link = world.emailed_link(account_id)
    invoice = world.invoice_of(account_id)
    # When they open it
    response = page.goto(link)
    # Then the browser shows their invoice, awaiting payment, 95.00 EUR due
    assert response is not None
    assert response.status == 200
    assert page.locator("h1").first.inner_text() == f"Invoice {invoice.number}"
    assert page.get_by_test_id("status").inner_text() == "Awaiting payment"
    assert page.get_by_test_id("amount-due").inner_text() == "€95.00"
    # And the article's sections, in order, with the account's name shown as text
    assert page.locator("section h2").all_inner_texts() == [
        "Recurring — upcoming month", "Total", "Payment details"]
    assert page.locator("dl.invoice-header dd").first.inner_text() == "Acme & <Sons>"
    # And the button to pay or change the card
    assert page.get_by_test_id("pay").inner_text() == "Pay / update payment method"
    shot = tmp_path / "invoice-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_a_french_customer_reads_the_page_in_french(world: BrowserWorld, page: Page) -> None:
    account_id = world.declined_customer(language="fr")
    page.goto(world.emailed_link(account_id))
    assert page.get_by_test_id("status").inner_text() == "En attente de paiement"
    assert page.get_by_test_id("amount-due").inner_text() == "95,00\u00a0€"
    assert page.locator("section h2").all_inner_texts() == [
        "Éléments récurrents - Mois à venir", "Total", "Détails du paiement"]
    assert page.get_by_test_id("pay").inner_text() == "Payer / mettre à jour le moyen de paiement"


def test_a_tampered_link_shows_the_not_found_page(world: BrowserWorld, page: Page) -> None:
    # Given a genuine link with one character of its token changed
    link = world.emailed_link(world.declined_customer(language="en"))
    tampered = link[:-5] + ("A" if link[-5] != "A" else "B") + link[-4:]
    # When it is opened
    response = page.goto(tampered)
    # Then the browser gets the 404 page, which names no invoice
    assert response is not None
    assert response.status == 404
    assert page.get_by_test_id("not-found").inner_text() == "Page not found"
    assert "Invoice" not in page.content()


def test_pressing_the_button_and_completing_the_setup_pays_the_invoice(
        world: BrowserWorld, page: Page) -> None:
    # Given the customer on their unpaid invoice's page
    account_id = world.declined_customer(language="en")
    link = world.emailed_link(account_id)
    page.goto(link)
    # When they press the button
    page.get_by_test_id("pay").click()
    # Then they land on the provider simulator's hosted setup page, and complete it
    page.wait_for_load_state()
    assert not page.url.startswith(world.url + "/i/"), page.url
    page.get_by_test_id("complete-setup").click()
    # Then they are sent back to their invoice's page
    page.wait_for_url(link)
    # And once the webhook is processed and the open balance retried on the new card, the
    # page says the invoice is paid, with nothing due and no button
    reload_until_paid(page)
    assert page.get_by_test_id("status").inner_text() == "Paid"
    assert page.get_by_test_id("amount-due").inner_text() == "€0.00"
    assert page.get_by_test_id("pay").count() == 0
    assert re.search(r"This invoice is paid", page.content())


def test_a_debit_customer_sets_up_a_new_mandate_and_the_invoice_is_paid_once_it_confirms(
        own_world: BrowserWorld, page: Page) -> None:
    # Given a French direct-debit customer on their invoice's page
    world = own_world
    account_id = world.uncollected_debit_customer(language="fr")
    invoice = world.invoice_of(account_id)
    link = world.invoice_link(invoice.id)
    page.goto(link)
    assert "mandat de prélèvement" in page.locator("p.hint").inner_text()
    # When they press the button, and complete GoCardless's hosted page with a paying account
    page.get_by_test_id("pay").click()
    page.get_by_test_id("behaviour").select_option("pays")
    page.get_by_test_id("complete-setup").click()
    # Then they are back on the page, which names the new mandate; the debit is on its way
    page.wait_for_url(link)
    world.system.flush_webhooks()  # (the completion webhook is asynchronous)
    with world.deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
    assert account is not None
    mandate = account.payment_method.provider_method
    assert mandate is not None
    assert mandate != f"MD_{account_id}"
    page.reload()
    assert f"(mandat {mandate})" in page.locator("section.payment").inner_text()
    # And once the bank confirms the debit (days later), the page says paid
    reload_until_paid(page, wait=lambda: world.days_pass(1))
    assert page.get_by_test_id("status").inner_text() == "Payée"
    assert page.get_by_test_id("amount-due").inner_text() == "0,00\u00a0€"
