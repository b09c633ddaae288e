"""The account ledger: append-only, signed minor units (debit > 0 owed by the customer).

Invariant: the sum of an account's entries equals the amount it still owes at every moment
(negative: we owe the customer a credit, carried forward onto the next invoice).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.invoices import Invoice, InvoiceStatus
from domain.money import Money


class EntryKind(enum.StrEnum):
    INVOICE_ISSUED = "invoice_issued"  # debit: the invoice's charges (its lines)
    PAYMENT_SETTLED = "payment_settled"  # credit
    PAYMENT_REVERSED = "payment_reversed"  # debit: a late failure after confirmation
    REFUND = "refund"  # debit: money handed back, so owed again
    CHARGEBACK = "chargeback"  # debit: funds withdrawn by the bank / dispute
    CHARGEBACK_REVERSED = "chargeback_reversed"  # credit: dispute won, chargeback cancelled
    CREDIT_NOTE = "credit_note"  # credit
    WRITE_OFF = "write_off"  # credit

    @property
    def is_debit(self) -> bool:
        return self in _DEBITS


_DEBITS = frozenset({EntryKind.INVOICE_ISSUED, EntryKind.PAYMENT_REVERSED, EntryKind.REFUND,
                     EntryKind.CHARGEBACK})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One append-only ledger line. `amount` is signed: debits positive, credits negative."""

    account_id: str
    kind: EntryKind
    amount: Money
    on: date
    invoice_id: str | None = None
    attempt_id: str | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        if self.kind.is_debit and self.amount.minor < 0:
            raise ValueError(f"{self.kind} is a debit and must be >= 0")
        if not self.kind.is_debit and self.amount.minor > 0:
            raise ValueError(f"{self.kind} is a credit and must be <= 0")


def entry(kind: EntryKind, *, account_id: str, amount: Money, on: date,
          invoice_id: str | None = None, attempt_id: str | None = None,
          memo: str = "") -> LedgerEntry:
    """An entry of `kind` for a positive `amount`, signed by the kind (debit +, credit −)."""
    if amount.minor < 0:
        raise ValueError("pass a positive amount; the kind decides the sign")
    signed = amount if kind.is_debit else -amount
    return LedgerEntry(account_id=account_id, kind=kind, amount=signed, on=on,
                       invoice_id=invoice_id, attempt_id=attempt_id, memo=memo)


def balance(entries: Iterable[LedgerEntry], currency: str) -> Money:
    """What the account owes: the plain sum of its entries."""
    total = Money.zero(currency)
    for entry in entries:
        total = total + entry.amount
    return total


def owed_by_invoices(invoices: Iterable[Invoice], currency: str) -> Money:
    """What the account's open invoices still ask for: the sum of their `amount_due`.

    The ledger invariant is ``balance(entries) == owed_by_invoices(invoices)``: invoices
    closed as paid or carried forward owe nothing on themselves (what they carried is on a
    later invoice), and an uncollectible one is balanced by its write-off entry.
    """
    total = Money.zero(currency)
    for invoice in invoices:
        if invoice.status is InvoiceStatus.OPEN:
            total = total + invoice.amount_due
    return total


def issued_entry(invoice: Invoice) -> LedgerEntry:
    """The `invoice_issued` debit of a new invoice: its charges only, never the amount
    brought forward (that is already in the ledger from the earlier invoices)."""
    return entry(EntryKind.INVOICE_ISSUED, account_id=invoice.account_id,
                 amount=invoice.charges, on=invoice.issued_on, invoice_id=invoice.id)
