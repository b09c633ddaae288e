"""The payment method as the API shows it: what is safe to show, never a provider secret.

`payment_method_view` is the one place that decides it (provider customer and mandate ids,
tokens and `details` stay inside). Card brand / last 4 and the masked IBAN are added here
when payment-method setups store them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.accounts import MethodType, PaymentMethod


class PaymentMethodView(BaseModel):
    type: MethodType = Field(description="card, direct_debit, or wire (the default until a "
                                         "card or mandate is set up: invoices then carry "
                                         "bank-transfer instructions)")
    scheme: str | None = Field(None, description="direct debit scheme: sepa_core, ach, bacs")
    usable: bool = Field(description="false once a hard decline says it can never work "
                                     "again: a new method must be set up")


def payment_method_view(method: PaymentMethod) -> PaymentMethodView:
    return PaymentMethodView(type=method.type, scheme=method.scheme, usable=method.usable)
