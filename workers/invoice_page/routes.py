"""The hosted invoice page: GET /i/{token} shows it, POST /i/{token}/pay starts a setup.

The token is verified before anything is read, and every link that does not lead to an
invoice (wrong, truncated, tampered, signed with a retired secret, or naming an invoice that
is gone) gets the same 404 page, so the answer says nothing about which invoices exist.

The button is a form POST: the token authorises it (whoever holds the link may pay the
invoice), and no GET changes anything. It starts the payment-method setup of the account's
method type (`workers.handlers.setups.start_setup`: a card, or a direct debit mandate for
debit accounts) with the page as the return URL, and sends the browser there (303). Wire
accounts get the transfer instructions instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.bank_details import DEMO_BANK_DETAILS, BankDetails, load_bank_details
from adapters.documents.page import PageFacts, PayAction, render_invoice_page, render_not_found
from adapters.invoice_links import PAGE_PREFIX, InvoiceLinks
from domain.accounts import MethodType
from workers.config import Settings
from workers.handlers.deps import Deps
from workers.handlers.setups import start_setup as handlers_start_setup
from workers.invoice_page.links import invoice_links
from workers.invoice_page.state import InvoicePage, NoWireDetails, load_page, payment_details

log = logging.getLogger("paycollect.invoice_page")

#: The link is the key: keep it out of caches, search engines and other sites' Referer.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "base-uri 'none'; frame-ancestors 'none'",
}


class SetupStarted(Protocol):
    """What the page needs of `start_setup`'s answer: where to send the customer."""

    @property
    def url(self) -> str: ...


class StartSetup(Protocol):
    """`workers.handlers.setups.start_setup`'s signature (the Billing API's setup flow)."""

    def __call__(self, deps: Deps, *, account_id: str, method: MethodType,
                 scheme: str | None = None, return_url: str | None = None) -> SetupStarted: ...


def configured_bank_details(settings: Settings) -> dict[str, BankDetails]:
    """As the runtime reads them: WIRE_<CUR>_*, or the demo accounts with simulated providers."""
    configured = load_bank_details(os.environ)
    if configured or not settings.simulated_providers:
        return configured
    return dict(DEMO_BANK_DETAILS)


def _not_found() -> Response:
    return HTMLResponse(render_not_found(), status_code=404, headers=HEADERS)


def _setup_method(page: InvoicePage) -> MethodType:
    # Card by default: a direct debit account replaces its mandate, anyone else adds a card.
    return MethodType.DIRECT_DEBIT if page.method is MethodType.DIRECT_DEBIT else MethodType.CARD


def invoice_page_routes(deps: Deps, settings: Settings, *,
                        bank_details: Mapping[str, BankDetails] | None = None,
                        start_setup: StartSetup | None = None) -> list[BaseRoute]:
    """The page's routes; `start_setup` defaults to the setup flow's handler."""
    links = invoice_links(settings)
    banks = dict(bank_details) if bank_details is not None else configured_bank_details(settings)

    async def verified(request: Request) -> tuple[InvoicePage, str] | None:
        token = request.path_params["token"]
        invoice_id = links.invoice_id(token) if links is not None else None
        if invoice_id is None:  # nothing is looked up for a token that does not verify
            return None
        page = await run_in_threadpool(load_page, deps, invoice_id=invoice_id)
        return None if page is None else (page, token)

    def render(page: InvoicePage, token: str, links: InvoiceLinks, *,
               unavailable: bool = False) -> Response:
        try:
            details = payment_details(page, bank_details=banks)
        except NoWireDetails:
            log.error("invoice page: no wire bank details for %s", page.invoice.currency,
                      extra={"invoice_id": page.invoice.id})
            return PlainTextResponse("This page is unavailable at the moment.",
                                     status_code=503, headers=HEADERS)
        action = PayAction.NONE
        if page.owed:
            action = (PayAction.WIRE if page.method is MethodType.WIRE else
                      PayAction.UNAVAILABLE if unavailable else PayAction.SETUP)
        carried_to = ((page.carried_to_number, links.url_for(page.invoice.carried_to))
                      if page.carried_to_number and page.invoice.carried_to else None)
        facts = PageFacts(action=action, method=_setup_method(page), pay_path=f"{token}/pay",
                          carried_to=carried_to)
        body = render_invoice_page(page.invoice, account_name=page.account.name,
                                   language=page.account.language, payment_details=details,
                                   facts=facts)
        return HTMLResponse(body, status_code=503 if unavailable else 200, headers=HEADERS)

    async def show(request: Request) -> Response:
        found = await verified(request)
        if found is None or links is None:
            return _not_found()
        return render(*found, links)

    async def pay(request: Request) -> Response:
        found = await verified(request)
        if found is None or links is None:
            return _not_found()
        page, token = found
        page_url = links.url_for(page.invoice.id)
        if not page.owed or page.method is MethodType.WIRE:
            return RedirectResponse(page_url, status_code=303, headers=HEADERS)
        setup: StartSetup = start_setup or handlers_start_setup
        try:
            started = await run_in_threadpool(
                setup, deps, account_id=page.account.id, method=_setup_method(page),
                scheme=page.account.payment_method.scheme if _setup_method(page)
                is MethodType.DIRECT_DEBIT else None, return_url=page_url)
        except Exception:  # (ProviderUnavailable, a refusal: the customer may try again)
            log.exception("invoice page: the setup could not be started",
                          extra={"invoice_id": page.invoice.id, "account_id": page.account.id})
            return render(page, token, links, unavailable=True)
        log.info("invoice page: setup started", extra={"invoice_id": page.invoice.id,
                                                       "account_id": page.account.id})
        return RedirectResponse(started.url, status_code=303, headers=HEADERS)

    return [Route(PAGE_PREFIX + "{token}", show, methods=["GET"]),
            Route(PAGE_PREFIX + "{token}/pay", pay, methods=["POST"])]


__all__ = ["SetupStarted", "StartSetup", "configured_bank_details", "invoice_page_routes"]
