"""What the invoice page shows, read from the database once the token verified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.bank_details import BankDetails
from adapters.documents.payment_details import PaymentDetails
from adapters.wire_publisher import payment_reference
from domain.accounts import Account, MethodType
from domain.invoices import Invoice, InvoiceStatus
from workers.handlers.deps import Deps


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoice: Invoice
    account: Account
    #: The number of the invoice this one's balance was carried onto, if any.
    carried_to_number: str | None = None

    @property
    def owed(self) -> bool:
        return self.invoice.status is InvoiceStatus.OPEN and self.invoice.amount_due.is_positive()

    @property
    def method(self) -> MethodType:
        """How the account pays now (the invoice may have been issued under another)."""
        return self.account.payment_method.type


def load_page(deps: Deps, *, invoice_id: str) -> InvoicePage | None:
    with deps.uow_factory() as uow:
        invoice = uow.invoices.get(invoice_id=invoice_id)
        account = uow.accounts.get(account_id=invoice.account_id) if invoice else None
        if invoice is None or account is None:
            return None
        carried_to = (uow.invoices.get(invoice_id=invoice.carried_to, lines=False)
                      if invoice.carried_to else None)
    return InvoicePage(invoice=invoice, account=account,
                       carried_to_number=carried_to.number if carried_to else None)


class NoWireDetails(LookupError):
    """A wire account's currency has no beneficiary bank configured (WIRE_<CUR>_*)."""


def payment_details(page: InvoicePage, *,
                    bank_details: Mapping[str, BankDetails]) -> PaymentDetails:
    """The document's last section, for the account's current method: a wire account reads
    where to send the money, whatever method the invoice was issued under."""
    invoice, method = page.invoice, page.account.payment_method
    if method.type is MethodType.WIRE:
        bank = bank_details.get(invoice.currency)
        if bank is None:
            raise NoWireDetails(f"no wire bank details for {invoice.currency}")
        return PaymentDetails(method=MethodType.WIRE, bank_details=bank,
                              wire_reference=payment_reference(invoice),
                              wire_due_on=invoice.due_on)
    if method.type is MethodType.DIRECT_DEBIT:
        return PaymentDetails(method=method.type, mandate_scheme=method.scheme,
                              mandate_reference=method.provider_method)
    return PaymentDetails(method=MethodType.CARD)
