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
class MethodDisplay:
    """What may be shown of a method: card brand, last 4 and expiry, or a masked account.

    Never a full card number or IBAN: the providers do not give them to us, and nothing that
    does (a hosted page) is ours.
    """

    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    account_holder: str | None = None
    #: e.g. `FR** **** **** **06` (see domain.setups.mask_account).
    account_masked: str | None = None
    bank_name: str | None = None

    def as_dict(self) -> dict[str, str | int]:
        return {k: v for k, v in (
            ("brand", self.brand), ("last4", self.last4), ("exp_month", self.exp_month),
            ("exp_year", self.exp_year), ("account_holder", self.account_holder),
            ("account_masked", self.account_masked), ("bank_name", self.bank_name))
            if v is not None}

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> MethodDisplay:
        def text(key: str) -> str | None:
            value = values.get(key)
            return value if isinstance(value, str) else None

        def number(key: str) -> int | None:
            value = values.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(brand=text("brand"), last4=text("last4"), exp_month=number("exp_month"),
                   exp_year=number("exp_year"), account_holder=text("account_holder"),
                   account_masked=text("account_masked"), bank_name=text("bank_name"))


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
    #: What the customer may be shown of it (None: nothing known, e.g. onboarded by id).
    display: MethodDisplay | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    currency: str
    language: str = "en"
    email: str | None = None
    standing: Standing = Standing.ACTIVE
    payment_method: PaymentMethod = field(default_factory=lambda: PaymentMethod(MethodType.WIRE))

    @property
    def needs_new_payment_method(self) -> bool:
        return not self.payment_method.usable
