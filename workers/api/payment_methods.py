"""An account's payment method as the API shows it: what it is and how to recognise it,
masked (card brand, last 4 and expiry; the bank account's holder and masked number), never a
provider secret, full card number or IBAN (we never hold those). `payment_method_view` is the
one place that decides it (provider customer and mandate ids, tokens and `details` stay inside).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.accounts import MethodType, PaymentMethod


class PaymentMethodView(BaseModel):
    type: MethodType = Field(description="card, direct_debit, or wire (the default until a "
                                         "card or mandate is set up: invoices then carry "
                                         "bank-transfer instructions)")
    scheme: str | None = Field(default=None,
                               description="direct debit scheme: sepa_core, ach, bacs")
    usable: bool = Field(description="false once a hard decline says it can never work "
                                     "again: a new method must be set up")
    brand: str | None = Field(default=None, description="card brand (visa, mastercard, ...)")
    last4: str | None = Field(default=None, description="the card's last 4 digits")
    exp_month: int | None = None
    exp_year: int | None = None
    account_holder: str | None = None
    account: str | None = Field(default=None, description="the bank account, masked: e.g. "
                                "`FR** **** **** **06` (GoCardless gives the country and the "
                                "last digits only)")
    bank_name: str | None = None


def payment_method_view(method: PaymentMethod) -> PaymentMethodView:
    shown = method.display
    if shown is None:
        return PaymentMethodView(type=method.type, usable=method.usable, scheme=method.scheme)
    return PaymentMethodView(type=method.type, usable=method.usable, scheme=method.scheme,
                             brand=shown.brand, last4=shown.last4, exp_month=shown.exp_month,
                             exp_year=shown.exp_year, account_holder=shown.account_holder,
                             account=shown.account_masked, bank_name=shown.bank_name)
