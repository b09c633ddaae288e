"""The invoice links' secret and public address, from the settings."""

from __future__ import annotations

import dataclasses
import secrets

from adapters.invoice_links import InvoiceLinks
from workers.config import Settings

#: `paycollect serve`'s default address, for processes that do not serve the page themselves
#: (workers composing e-mails) when PUBLIC_BASE_URL is not set.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8080"


def invoice_links(settings: Settings) -> InvoiceLinks | None:
    """The signer of `settings`; None when INVOICE_LINK_SECRET is unset: messages then carry
    no link and every page answers 404."""
    if not settings.invoice_link_secrets:
        return None
    return InvoiceLinks(secrets=settings.invoice_link_secrets,
                        base_url=settings.public_base_url or DEFAULT_PUBLIC_BASE_URL)


def with_invoice_links(settings: Settings, *, served_url: str | None) -> Settings:
    """The embedded mode's settings: a secret generated when none is configured (links then
    change on every start: production sets INVOICE_LINK_SECRET), and the public base URL
    defaulting to the address the web app is served on."""
    return dataclasses.replace(
        settings,
        invoice_link_secrets=settings.invoice_link_secrets or (secrets.token_urlsafe(32),),
        public_base_url=settings.public_base_url or served_url)
