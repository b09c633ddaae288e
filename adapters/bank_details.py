"""Where customers wire money: our bank account per currency, validated at startup.

EUR and GBP (and any other non-USD currency) are paid to an IBAN with its BIC, checked by
schwifty. USD is paid by ACH/Fedwire to an ABA routing number and an account number.
A typo in these would send customers' money to a stranger, so a bad value stops the
process at startup with the name of the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from domain.money import check_currency

#: ABA routing-number weights: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
_ABA_WEIGHTS = (3, 7, 1) * 3

#: Currencies wired through the US domestic system rather than by IBAN.
ACH_CURRENCIES = frozenset({"USD"})


class InvalidBankDetails(ValueError):
    """A bank detail is missing or wrong; `field` names it (an attribute or a variable)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def is_valid_aba_routing_number(number: str) -> bool:
    if len(number) != 9 or not number.isascii() or not number.isdigit():
        return False
    return sum(w * int(d) for w, d in zip(_ABA_WEIGHTS, number, strict=True)) % 10 == 0


@dataclass(frozen=True, slots=True)
class BankDetails:
    """Our beneficiary account for one currency. Construction validates every field."""

    currency: str
    beneficiary: str
    bank_name: str
    iban: str | None = None
    bic: str | None = None
    routing_number: str | None = None
    account_number: str | None = None

    def __post_init__(self) -> None:
        check_currency(self.currency)
        for name in ("beneficiary", "bank_name"):
            if not getattr(self, name).strip():
                raise InvalidBankDetails(name, "is required")
        if self.uses_ach:
            _check_ach(self)
        else:
            _check_iban_bic(self)

    @property
    def uses_ach(self) -> bool:
        return self.currency in ACH_CURRENCIES

    @property
    def iban_printed(self) -> str | None:
        """The IBAN in groups of four, as it is printed for people to type."""
        return None if self.iban is None else str(IBAN(self.iban).formatted)


def _check_iban_bic(details: BankDetails) -> None:
    for name, parse in (("iban", IBAN), ("bic", BIC)):
        raw = getattr(details, name)
        if not raw:
            raise InvalidBankDetails(name, f"is required for {details.currency} wires")
        try:
            compact = str(parse(raw))
        except SchwiftyException as error:
            raise InvalidBankDetails(name, f"{raw!r} is not a valid {name.upper()}: "
                                           f"{error}") from None
        # Frozen: store the compact form so every rendering starts from the same string.
        object.__setattr__(details, name, compact)


def _check_ach(details: BankDetails) -> None:
    routing = details.routing_number or ""
    if not is_valid_aba_routing_number(routing):
        raise InvalidBankDetails("routing_number",
                                 f"{routing!r} is not a 9-digit ABA routing number with a "
                                 f"valid checksum")
    account = details.account_number or ""
    if not (account.isascii() and account.isdigit() and 4 <= len(account) <= 17):
        raise InvalidBankDetails("account_number", f"{account!r} must be 4 to 17 digits")


#: BankDetails attribute → suffix of its environment variable (WIRE_<CURRENCY>_<SUFFIX>).
_ENV_SUFFIXES = {
    "beneficiary": "BENEFICIARY",
    "bank_name": "BANK_NAME",
    "iban": "IBAN",
    "bic": "BIC",
    "routing_number": "ROUTING_NUMBER",
    "account_number": "ACCOUNT_NUMBER",
}


def load_bank_details(env: Mapping[str, str]) -> dict[str, BankDetails]:
    """Bank details for every currency with a `WIRE_<CURRENCY>_…` variable set.

    e.g. WIRE_EUR_BENEFICIARY, WIRE_EUR_BANK_NAME, WIRE_EUR_IBAN, WIRE_EUR_BIC;
    WIRE_USD_BENEFICIARY, WIRE_USD_BANK_NAME, WIRE_USD_ROUTING_NUMBER, WIRE_USD_ACCOUNT_NUMBER.

    Raises:
        InvalidBankDetails: `field` is the environment variable at fault.
    """
    currencies = {name.split("_")[1] for name in env
                  if name.startswith("WIRE_") and name.count("_") >= 2
                  and any(name.endswith("_" + s) for s in _ENV_SUFFIXES.values())}
    details: dict[str, BankDetails] = {}
    for currency in sorted(currencies):
        values = {attr: env.get(f"WIRE_{currency}_{suffix}", "").strip() or None
                  for attr, suffix in _ENV_SUFFIXES.items()}
        try:
            details[currency] = BankDetails(
                currency=currency, beneficiary=values.pop("beneficiary") or "",
                bank_name=values.pop("bank_name") or "", **values)
        except InvalidBankDetails as error:
            variable = f"WIRE_{currency}_{_ENV_SUFFIXES[error.field]}"
            raise InvalidBankDetails(variable, str(error).split(": ", 1)[1]) from None
        except ValueError as error:  # an unknown currency code
            raise InvalidBankDetails(f"WIRE_{currency}_*", str(error)) from None
    return details


#: The embedded demo's accounts: the standard documentation examples, never real accounts.
DEMO_BANK_DETAILS: dict[str, BankDetails] = {
    "EUR": BankDetails(currency="EUR", beneficiary="Paycollect Demo SAS",
                       bank_name="Commerzbank", iban="DE89370400440532013000",
                       bic="COBADEFFXXX"),
    "GBP": BankDetails(currency="GBP", beneficiary="Paycollect Demo Ltd",
                       bank_name="NatWest", iban="GB29NWBK60161331926819", bic="NWBKGB2L"),
    "USD": BankDetails(currency="USD", beneficiary="Paycollect Demo Inc.",
                       bank_name="Federal Reserve Bank of Boston", routing_number="011000015",
                       account_number="000123456789"),
}
