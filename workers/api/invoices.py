"""/v1/invoices: list (by account and status), one as JSON, one as the customer's document."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from adapters.bank_details import DEMO_BANK_DETAILS, BankDetails, load_bank_details
from adapters.documents import PaymentDetails, render_html
from domain.accounts import Account, MethodType
from domain.invoices import Invoice, InvoiceStatus
from workers.api.context import ApiContext, api_context
from workers.api.errors import Conflict
from workers.api.invoice_models import InvoiceOut
from workers.api.lookup import find_account, find_invoice
from workers.api.pages import DEFAULT_LIMIT, Limit, Page, page_of
from workers.simulate.report import invoice_doc

router = APIRouter(tags=["invoices"])
Context = Annotated[ApiContext, Depends(api_context)]


@router.get("/invoices", response_model=Page[InvoiceOut])
def list_invoices(context: Context,
                  account: Annotated[str | None, Query(description="our id or external_id")]
                  = None, status: InvoiceStatus | None = None, limit: Limit = DEFAULT_LIMIT,
                  starting_after: Annotated[str | None, Query(
                      description="the id of the last invoice of the previous page")] = None,
                  ) -> Page[InvoiceOut]:
    with context.deps.uow_factory() as uow:
        account_id = None if account is None else find_account(uow, account).id
        invoices = uow.invoices.list(account_id=account_id, status=status)
        page, has_more, after = page_of(invoices, cursor=lambda inv: inv.id, limit=limit,
                                        starting_after=starting_after)
        accounts = uow.accounts.get_many(account_ids={inv.account_id for inv in page})
    return Page[InvoiceOut](data=[_out(inv, accounts[inv.account_id]) for inv in page],
                            has_more=has_more, next_starting_after=after)


# Declared before /invoices/{invoice_id}, which would otherwise take "….html" as an id.
@router.get("/invoices/{invoice_id}.html", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}, "description": "the document"}})
def invoice_document(invoice_id: str, context: Context) -> HTMLResponse:
    invoice, account = _load(context, invoice_id)
    html = render_html(invoice, account_name=account.name, language=account.language,
                       payment_details=_details(invoice, account))
    return HTMLResponse(html)


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(invoice_id: str, context: Context) -> InvoiceOut:
    return _out(*_load(context, invoice_id))


def _load(context: ApiContext, invoice_id: str) -> tuple[Invoice, Account]:
    with context.deps.uow_factory() as uow:
        invoice = find_invoice(uow, invoice_id)
        account = uow.accounts.get(account_id=invoice.account_id)
    assert account is not None, "an invoice always has its account"
    return invoice, account


def _out(invoice: Invoice, account: Account) -> InvoiceOut:
    return InvoiceOut.of(invoice_doc(invoice), _details(invoice, account))


def _details(invoice: Invoice, account: Account) -> PaymentDetails:
    """How this invoice is paid, from what was recorded (no card data is made up)."""
    method = MethodType(invoice.payment_method)
    if method is MethodType.WIRE:
        bank = _bank_details().get(invoice.currency)
        if bank is None:
            raise Conflict(f"no bank details are configured for {invoice.currency}: set "
                           f"WIRE_{invoice.currency}_BENEFICIARY and the others")
        return PaymentDetails(method=method, bank_details=bank,
                              wire_reference=invoice.payment_reference,
                              wire_due_on=invoice.due_on)
    if method is MethodType.DIRECT_DEBIT:
        return PaymentDetails(method=method, mandate_scheme=account.payment_method.scheme)
    return PaymentDetails(method=method)


@cache
def _bank_details() -> dict[str, BankDetails]:
    # The same source as the wire publisher and the console: WIRE_<CURRENCY>_… variables,
    # else the demo accounts (simulated providers).
    return load_bank_details(os.environ) or dict(DEMO_BANK_DETAILS)
