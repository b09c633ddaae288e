"""How an invoice is paid, as printed in its last section ("Payment details")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapters.bank_details import BankDetails
from domain.accounts import MethodType

#: GoCardless scheme → the name customers know.
SCHEME_NAMES = {"sepa_core": "SEPA", "ach": "ACH", "bacs": "Bacs", "sepa": "SEPA"}


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """card: brand/last4 if known. direct_debit: scheme and mandate reference if known.
    wire: the beneficiary's bank details, the payment reference and the due date, all required.
    """

    method: MethodType
    card_brand: str | None = None
    card_last4: str | None = None
    mandate_scheme: str | None = None
    mandate_reference: str | None = None
    bank_details: BankDetails | None = None
    wire_reference: str | None = None
    wire_due_on: date | None = None

    def __post_init__(self) -> None:
        # A wire invoice without where and how to pay is useless to the customer's finance team.
        if self.method is MethodType.WIRE and (
                self.bank_details is None or not self.wire_reference or self.wire_due_on is None):
            raise ValueError("wire payment details need bank_details, wire_reference and "
                             "wire_due_on")

    @property
    def scheme_name(self) -> str | None:
        if self.mandate_scheme is None:
            return None
        return SCHEME_NAMES.get(self.mandate_scheme.lower(), self.mandate_scheme.upper())
