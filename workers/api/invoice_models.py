"""The invoice as JSON: the article's sections in order, the totals and how it is paid.

The shape is the scenario report's (`workers.simulate.report.invoice_doc`): amounts in minor
units of `currency`, `sections` holding recurring, prorata and minutes lines.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.documents import PaymentDetails
from domain.accounts import MethodType
from domain.invoices import InvoiceKind, InvoiceStatus


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    description: str
    item: str
    quantity: int
    unit_amount: int
    amount: int
    from_on: date | None = Field(None, alias="from", description="prorata: first day billed")
    to_on: date | None = Field(None, alias="to", description="prorata: end (exclusive)")


class InvoiceSections(BaseModel):
    recurring: list[InvoiceLineOut] = Field(description="the coming period (annual invoices: "
                                                        "the coming year)")
    prorata: list[InvoiceLineOut] = Field(description="units added in the past period")
    minutes: list[InvoiceLineOut] = Field(description="call minutes of the past period")


class PeriodOut(BaseModel):
    start: date
    end: date = Field(description="exclusive")


class BankOut(BaseModel):
    beneficiary: str
    bank_name: str
    iban: str | None
    bic: str | None
    routing_number: str | None
    account_number: str | None


class PaymentDetailsOut(BaseModel):
    method: MethodType
    scheme: str | None = Field(None, description="direct debit: SEPA, ACH, Bacs")
    bank: BankOut | None = Field(None, description="wire: where to send the money")
    reference: str | None = Field(None, description="wire: the reference to quote")
    due_on: date | None = Field(None, description="wire: pay by this day")

    @classmethod
    def of(cls, details: PaymentDetails) -> PaymentDetailsOut:
        bank = details.bank_details
        return cls(method=details.method, scheme=details.scheme_name,
                   reference=details.wire_reference, due_on=details.wire_due_on,
                   bank=None if bank is None else BankOut(
                       beneficiary=bank.beneficiary, bank_name=bank.bank_name,
                       iban=bank.iban_printed, bic=bank.bic,
                       routing_number=bank.routing_number, account_number=bank.account_number))


class InvoiceOut(BaseModel):
    id: str
    number: str
    account: str
    kind: InvoiceKind
    status: InvoiceStatus
    issued_on: date
    due_on: date
    period: PeriodOut
    currency: str
    sections: InvoiceSections
    charges: int = Field(description="the sum of the lines")
    previous_amount_due: int = Field(description="unpaid balance brought forward "
                                                 "(negative: a credit)")
    total: int = Field(description="charges + previous amount due")
    amount_paid: int
    amount_carried: int = Field(description="carried forward onto a later invoice")
    amount_due: int
    carried_to: str | None
    payment_details: PaymentDetailsOut

    @classmethod
    def of(cls, doc: dict[str, Any], details: PaymentDetails) -> InvoiceOut:
        return cls.model_validate({**doc, "payment_details": PaymentDetailsOut.of(details)})
