"""Payment-method setups: the customer puts a card or a mandate on file at the provider.

A setup is started by us (a hosted page at Stripe Checkout or a GoCardless Billing Request
Flow), completed by the customer on that page, and reported back by webhook. What the provider
then holds (`CardOnFile`, `MandateOnFile`) becomes the account's payment method, shown masked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.accounts import MethodType

#: The direct-debit scheme when the caller names none: the one of the account's currency.
SCHEME_FOR_CURRENCY: dict[str, str] = {"EUR": "sepa_core", "USD": "ach", "GBP": "bacs"}
#: The currency each scheme collects in (a scheme must match the account's currency).
CURRENCY_OF_SCHEME: dict[str, str] = {scheme: cur for cur, scheme in SCHEME_FOR_CURRENCY.items()}


class SetupStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    EXPIRED = "expired"


class ProviderUnavailable(RuntimeError):
    """The provider could not be reached (or refused for a reason of its own): try again."""


class InvalidScheme(ValueError):
    """A direct-debit scheme we do not offer, or one that does not fit the account's currency."""


@dataclass(frozen=True, slots=True)
class SetupSession:
    """What a provider answered when asked to start a setup."""

    provider_ref: str
    url: str
    customer: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CardOnFile:
    payment_method: str
    customer: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class MandateOnFile:
    mandate: str
    customer: str
    scheme: str
    account_holder: str | None
    #: The last digits the provider shows (GoCardless: 2 for most currencies).
    account_number_ending: str
    country_code: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True, slots=True)
class SetupIncomplete:
    """The provider has nothing on file for this setup yet (or it failed)."""

    reason: str


@dataclass(frozen=True, slots=True)
class PaymentMethodSetup:
    id: str
    account_id: str
    method: MethodType
    provider: str
    provider_ref: str
    provider_customer: str
    url: str
    created_at: datetime
    status: SetupStatus = SetupStatus.OPEN
    scheme: str | None = None
    return_url: str | None = None
    expires_at: datetime | None = None
    completed_at: datetime | None = None

    def status_at(self, now: datetime) -> SetupStatus:
        """Open setups past the provider's expiry are expired (the hosted page is gone)."""
        if (self.status is SetupStatus.OPEN and self.expires_at is not None
                and now >= self.expires_at):
            return SetupStatus.EXPIRED
        return self.status


def choose_scheme(*, requested: str | None, currency: str) -> str:
    """The scheme to set up: the one asked for, else the currency's; it must fit the currency.

    Raises: InvalidScheme (unknown scheme, a currency without one, or a mismatch).
    """
    if requested is None:
        if currency not in SCHEME_FOR_CURRENCY:
            raise InvalidScheme(f"no direct-debit scheme collects {currency}")
        return SCHEME_FOR_CURRENCY[currency]
    if requested not in CURRENCY_OF_SCHEME:
        raise InvalidScheme(f"unknown scheme {requested!r}: one of "
                            f"{', '.join(sorted(CURRENCY_OF_SCHEME))}")
    if CURRENCY_OF_SCHEME[requested] != currency:
        raise InvalidScheme(f"{requested} collects {CURRENCY_OF_SCHEME[requested]}, "
                            f"the account bills in {currency}")
    return requested


def mask_account(*, country_code: str | None, ending: str, iban: bool) -> str:
    """A bank account as people may see it: never more than the provider's last digits.

    IBAN countries: `FR76 **** **** 1234` when the check digits are known is not possible
    from GoCardless (it returns the country and the ending only), so: `FR** **** **** **06`.
    Other accounts: `******06`.
    """
    tail = ending[-4:].rjust(4, "*")
    if iban and country_code:
        return f"{country_code.upper()}** **** **** {tail}"
    return f"****{tail}"
