"""The hosted invoice page over real HTTP, on SQLite and PostgreSQL: what it shows, the pay
button's POST, and one 404 for every link that does not lead to an invoice."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from adapters.invoice_links import InvoiceLinks
from adapters.simulators.server import serve_in_thread
from domain.accounts import MethodType
from tests.integration.page_world import PageWorld, page_world, settings_for
from workers.console_deps import build_console_deps
from workers.webhook_app import create_webhook_app


@pytest.fixture
def world(database_url: str) -> Iterator[PageWorld]:
    yield from page_world(database_url)


def text_of(response: httpx.Response) -> str:
    """The page's visible text, tags dropped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def test_the_page_shows_the_invoice_its_status_and_the_amount_due(world: PageWorld) -> None:
    # When the card customer opens the link from their e-mail
    response = world.http.get(world.path("acc_card"))
    # Then they read their invoice in English, open, with 95.00 EUR due and its sections
    assert response.status_code == 200
    text = text_of(response)
    invoice = world.invoice("acc_card")
    assert f"Invoice {invoice.number}" in text
    assert 'data-status="open"' in response.text
    assert "Awaiting payment" in text
    assert re.search(r'data-testid="amount-due">€95\.00<', response.text)
    assert "Recurring — upcoming month" in text
    assert "Payment details" in text
    # And the account's name is escaped, not interpreted
    assert "Acme &amp; &lt;Co&gt;" in response.text
    assert "<Co>" not in response.text


def test_the_page_speaks_the_account_language(world: PageWorld) -> None:
    text = text_of(world.http.get(world.path("acc_debit")))
    assert "Facture " in text
    assert "En attente de paiement" in text
    assert "95,00\u00a0€" in text
    assert "Payer / mettre à jour le moyen de paiement" in text


def test_the_page_is_kept_out_of_caches_search_engines_and_referers(world: PageWorld) -> None:
    headers = world.http.get(world.path("acc_card")).headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "noindex" in headers["x-robots-tag"]
    assert "default-src 'none'" in headers["content-security-policy"]


def test_pressing_pay_starts_a_card_setup_returning_to_the_page(world: PageWorld) -> None:
    # Given the card customer's page with its button posting to the token's /pay
    page = world.http.get(world.path("acc_card")).text
    [action] = re.findall(r'<form method="post" action="([^"]+)">', page)
    assert action == world.path("acc_card").removeprefix("/i/") + "/pay"
    # When the button is pressed
    response = world.http.post(world.path("acc_card") + "/pay")
    # Then a card setup is started for the account, returning to the page, and the browser
    # is sent to the provider's hosted page with a 303 (so it follows with a GET)
    assert response.status_code == 303
    assert response.headers["location"] == "https://setup.example/acc_card"
    assert world.setups.calls == [{
        "account_id": "acc_card", "method": MethodType.CARD, "scheme": None,
        "return_url": "http://pay.test" + world.path("acc_card")}]


def test_a_direct_debit_account_sets_up_a_mandate_of_its_scheme(world: PageWorld) -> None:
    response = world.http.post(world.path("acc_debit") + "/pay")
    assert response.status_code == 303
    assert [(c["method"], c["scheme"]) for c in world.setups.calls] == [
        (MethodType.DIRECT_DEBIT, "sepa_core")]


def test_a_wire_account_reads_the_transfer_instructions_and_gets_no_button(
        world: PageWorld) -> None:
    # When the wire customer (French) opens their page
    response = world.http.get(world.path("acc_wire"))
    text = text_of(response)
    invoice = world.invoice("acc_wire")
    # Then it shows where to send the money, the reference and the due date; no button
    assert 'data-testid="pay"' not in response.text
    assert "Merci de régler par virement bancaire" in text
    for expected in ("Bénéficiaire", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX",
                     "Référence de paiement", "31 mars 2026"):
        assert expected in text, expected
    assert invoice.payment_reference is not None
    assert invoice.payment_reference[:4] in text.replace(" ", "")
    # And posting to /pay starts nothing: it comes back to the page
    posted = world.http.post(world.path("acc_wire") + "/pay")
    assert posted.status_code == 303
    assert posted.headers["location"] == "http://pay.test" + world.path("acc_wire")
    assert world.setups.calls == []


def test_a_paid_invoice_says_paid_and_offers_no_button(world: PageWorld) -> None:
    # Given the card invoice was paid
    world.mark_paid("acc_card")
    # When its page is opened
    response = world.http.get(world.path("acc_card"))
    # Then it says so, owes nothing, and has nothing to press
    assert 'data-status="paid"' in response.text
    assert "This invoice is paid. Thank you." in text_of(response)
    assert re.search(r'data-testid="amount-due">€0\.00<', response.text)
    assert 'data-testid="pay"' not in response.text
    # And a stale form posted anyway starts no setup
    assert world.http.post(world.path("acc_card") + "/pay").status_code == 303
    assert world.setups.calls == []


def test_when_the_setup_cannot_start_the_page_says_to_try_later(world: PageWorld) -> None:
    world.setups.fail = True
    response = world.http.post(world.path("acc_card") + "/pay")
    assert response.status_code == 503
    assert "Online payment is not available at the moment" in text_of(response)


def test_every_link_that_leads_nowhere_gets_the_same_404_page(world: PageWorld) -> None:
    # Given a genuine token and ways to get it wrong
    token = world.links.token_for(world.invoice_ids["acc_card"])
    other_secret = InvoiceLinks(secrets=("another",), base_url="http://pay.test")
    wrong = {
        "truncated": token[:-3],
        "tampered": token[:10] + ("A" if token[10] != "A" else "B") + token[11:],
        "garbage": "hello",
        "signed with another secret": other_secret.token_for(world.invoice_ids["acc_card"]),
        # A genuine signature of an id no invoice has: the same answer as a forgery.
        "genuine but no such invoice": world.links.token_for("inv_does_not_exist"),
    }
    # When each is opened, or posted to
    answers = {name: world.http.get(f"/i/{bad}") for name, bad in wrong.items()}
    answers |= {f"{name} (pay)": world.http.post(f"/i/{bad}/pay") for name, bad in wrong.items()}
    # Then every one is a 404 with the very same body, and nothing was started
    assert {name: r.status_code for name, r in answers.items()} == {
        name: 404 for name in answers}
    assert len({r.content for r in answers.values()}) == 1
    assert "Page not found" in next(iter(answers.values())).text
    assert world.setups.calls == []


def test_the_pay_endpoint_changes_nothing_on_a_get(world: PageWorld) -> None:
    assert world.http.get(world.path("acc_card") + "/pay").status_code == 405
    assert world.setups.calls == []


def test_the_web_app_serves_the_page_and_without_a_secret_every_link_is_a_404(
        world: PageWorld, database_url: str) -> None:
    # Given the production web app, once with the secret and once without
    served = {}
    for name, settings in {"configured": settings_for(database_url),
                           "no secret": settings_for(database_url,
                                                     invoice_link_secrets=())}.items():
        console = build_console_deps(settings)
        server = serve_in_thread(create_webhook_app(console.deps, settings))
        try:
            served[name] = httpx.get(server.url + world.path("acc_card"), timeout=10)
        finally:
            server.stop()
            console.close()
    # Then the page is at /i/{token}, and a deployment without a secret opens nothing
    assert served["configured"].status_code == 200
    assert "Awaiting payment" in served["configured"].text
    assert served["no secret"].status_code == 404
