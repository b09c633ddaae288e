"""Request and response bodies of /v1/accounts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.accounts import Account, BillingAddress, Standing
from domain.ledger import EntryKind
from domain.money import CURRENCY_EXPONENTS
from workers.api.payment_methods import PaymentMethodView, payment_method_view

ExternalId = Annotated[str, Field(min_length=1, max_length=255,
                                  description="the business's own id; unique")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Language = Literal["en", "fr"]
_Text = Annotated[str, Field(min_length=1, max_length=200)]


def known_currency(code: str | None) -> str | None:
    if code is not None and code not in CURRENCY_EXPONENTS:
        raise ValueError(f"unknown currency {code!r}; one of "
                         f"{', '.join(sorted(CURRENCY_EXPONENTS))}")
    return code


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: _Text
    line2: _Text | None = None
    city: _Text
    postal_code: Annotated[str, Field(min_length=1, max_length=20)]
    region: _Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]

    def domain(self) -> BillingAddress:
        return BillingAddress(**self.model_dump())


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId | None = None
    name: Name
    email: Email | None = None
    language: Language = "en"
    currency: Currency
    billing_address: Address | None = None

    _currency = field_validator("currency")(known_currency)


class AccountUpdate(BaseModel):
    """Only the fields sent change. null clears email, external_id and billing_address; for
    name, language and currency null means "unchanged"."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId | None = None
    name: Name | None = None
    email: Email | None = None
    language: Language | None = None
    currency: Currency | None = Field(None, description="ISO 4217; fixed (409) once the "
                                                        "account is invoiced or subscribed")
    billing_address: Address | None = None

    _currency = field_validator("currency")(known_currency)


class AccountOut(BaseModel):
    id: str
    external_id: str | None
    name: str
    email: str | None
    language: str
    currency: str
    standing: Standing
    billing_address: Address | None
    payment_method: PaymentMethodView

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        address = account.billing_address
        return cls(id=account.id, external_id=account.external_id, name=account.name,
                   email=account.email, language=account.language, currency=account.currency,
                   standing=account.standing,
                   billing_address=None if address is None else Address(
                       line1=address.line1, line2=address.line2, city=address.city,
                       postal_code=address.postal_code, region=address.region,
                       country=address.country),
                   payment_method=payment_method_view(account.payment_method))


class BalanceOut(BaseModel):
    account: str
    amount: int = Field(description="owed by the customer, in minor units (negative: a "
                                    "credit carried to the next invoice)")
    currency: str
    standing: Standing


class LedgerEntryOut(BaseModel):
    position: int = Field(description="1 for the account's first entry; the page cursor")
    kind: EntryKind
    amount: int = Field(description="signed minor units: debits positive, credits negative")
    currency: str
    on: date
    invoice: str | None
    attempt: str | None
    memo: str
    balance: int = Field(description="the running balance after this entry")
