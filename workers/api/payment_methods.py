"""An account's payment method as the API shows it: what it is and how to recognise it,
masked (card brand, last 4 and expiry; the bank account's holder and masked number), never a
provider secret, full card number or IBAN (we never hold those)."""

from __future__ import annotations

from pydantic import BaseModel

from domain.accounts import PaymentMethod


class PaymentMethodView(BaseModel):
    type: str
    usable: bool
    scheme: str | None = None
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    account_holder: str | None = None
    #: e.g. `FR** **** **** **06` (GoCardless shows the country and the last digits only).
    account: str | None = None
    bank_name: str | None = None


def payment_method_view(method: PaymentMethod) -> PaymentMethodView:
    shown = method.display
    if shown is None:
        return PaymentMethodView(type=method.type.value, usable=method.usable,
                                 scheme=method.scheme)
    return PaymentMethodView(type=method.type.value, usable=method.usable, scheme=method.scheme,
                             brand=shown.brand, last4=shown.last4, exp_month=shown.exp_month,
                             exp_year=shown.exp_year, account_holder=shown.account_holder,
                             account=shown.account_masked, bank_name=shown.bank_name)
