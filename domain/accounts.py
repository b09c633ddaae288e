"""Accounts: who is billed, in which language and currency, and how they pay."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class MethodType(enum.StrEnum):
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"
    WIRE = "wire"


class Standing(enum.StrEnum):
    """Where an account stands in the overdue sequence; only ever moves right until paid."""

    ACTIVE = "active"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """The account's current way to pay.

    card: `provider_customer` is the Stripe customer, `provider_method` the PaymentMethod id.
    direct_debit: `provider_customer` the GoCardless customer, `provider_method` the mandate id,
    `scheme` one of sepa_core / ach / bacs.
    wire: no provider ids.
    `details` holds provider-independent extras (e.g. a simulator behaviour) as strings.
    """

    type: MethodType
    provider_customer: str | None = None
    provider_method: str | None = None
    scheme: str | None = None
    #: False once a hard decline says this method can never work again.
    usable: bool = True
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BillingAddress:
    """The postal address invoices are made out to; `country` is ISO 3166-1 alpha-2."""

    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    currency: str
    language: str = "en"
    email: str | None = None
    standing: Standing = Standing.ACTIVE
    payment_method: PaymentMethod = field(default_factory=lambda: PaymentMethod(MethodType.WIRE))
    #: The business's own id for this customer (unique when given).
    external_id: str | None = None
    billing_address: BillingAddress | None = None

    @property
    def needs_new_payment_method(self) -> bool:
        return not self.payment_method.usable
