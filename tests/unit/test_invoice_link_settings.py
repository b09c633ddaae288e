"""INVOICE_LINK_SECRET and PUBLIC_BASE_URL: read from the environment, generated when embedded."""

from __future__ import annotations

from workers.config import Settings, load_settings
from workers.invoice_page import invoice_links, with_invoice_links
from workers.invoice_page.links import DEFAULT_PUBLIC_BASE_URL


def test_the_secret_and_base_url_come_from_the_environment() -> None:
    settings = load_settings({"INVOICE_LINK_SECRET": "new, old", "PUBLIC_BASE_URL":
                              "https://billing.example.com/"})
    assert settings.invoice_link_secrets == ("new", "old")
    assert settings.public_base_url == "https://billing.example.com"
    links = invoice_links(settings)
    assert links is not None
    assert links.url_for("inv_1").startswith("https://billing.example.com/i/")


def test_without_a_secret_there_are_no_links() -> None:
    assert invoice_links(load_settings({})) is None


def test_without_a_base_url_links_point_at_the_served_default_address() -> None:
    links = invoice_links(Settings(invoice_link_secrets=("s",)))
    assert links is not None
    assert links.base_url == DEFAULT_PUBLIC_BASE_URL


def test_the_embedded_mode_generates_a_secret_and_uses_the_served_address() -> None:
    # Given nothing configured
    first = with_invoice_links(Settings(), served_url="http://127.0.0.1:5555")
    second = with_invoice_links(Settings(), served_url="http://127.0.0.1:5555")
    # Then a strong secret is made up, a new one per start (links change across restarts)
    [secret] = first.invoice_link_secrets
    assert len(secret) >= 40
    assert first.invoice_link_secrets != second.invoice_link_secrets
    assert first.public_base_url == "http://127.0.0.1:5555"


def test_the_embedded_mode_keeps_what_is_configured() -> None:
    configured = Settings(invoice_link_secrets=("mine",), public_base_url="https://x.example")
    kept = with_invoice_links(configured, served_url="http://127.0.0.1:5555")
    assert kept.invoice_link_secrets == ("mine",)
    assert kept.public_base_url == "https://x.example"
