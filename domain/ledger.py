"""The account ledger: append-only, signed minor units (debit > 0 owed by the customer).

Invariant: the sum of an account's entries equals the amount it still owes at every moment
(negative: we owe the customer a credit, carried forward onto the next invoice).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

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
