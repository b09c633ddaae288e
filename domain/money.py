"""Money as an integer count of a currency's minor unit. No floats anywhere."""

from __future__ import annotations

from dataclasses import dataclass

#: ISO 4217 minor-unit exponents for the currencies Paycollect bills in.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2,
    "SEK": 2, "DKK": 2, "NOK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "MXN": 2,
    "BRL": 2, "SGD": 2, "HKD": 2, "ZAR": 2, "JPY": 0, "KRW": 0, "ISK": 0,
    "KWD": 3, "BHD": 3, "TND": 3,
}


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class UnknownCurrency(ValueError):
    """A currency code that is not ISO 4217 (or not one we bill in)."""


def check_currency(code: str) -> str:
    """Return `code` if it is a currency we know, else raise UnknownCurrency."""
    if not isinstance(code, str) or code not in CURRENCY_EXPONENTS:
        raise UnknownCurrency(f"unknown currency {code!r}")
    return code


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in a currency's minor unit (cents for EUR, yen for JPY).

    >>> Money(1050, "EUR") + Money(50, "EUR")
    Money(minor=1100, currency='EUR')
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; a True amount is always a bug.
        if type(self.minor) is not int:
            raise TypeError(f"Money.minor must be int, got {type(self.minor).__name__}")
        # The common case inline (an amount is made dozens of times per invoice collected);
        # check_currency says why anything else is refused.
        if type(self.currency) is not str or self.currency not in CURRENCY_EXPONENTS:
            check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def same_currency(self, other: object) -> Money:
        """`other`, if it is an amount in this one's currency (else TypeError or
        CurrencyMismatch)."""
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self.same_currency(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self.same_currency(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor < self.same_currency(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self.same_currency(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self.same_currency(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self.same_currency(other).minor

    def is_zero(self) -> bool:
        return self.minor == 0

    def is_positive(self) -> bool:
        return self.minor > 0

    def is_negative(self) -> bool:
        return self.minor < 0

    def __str__(self) -> str:
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**self.exponent)
        if self.exponent == 0:
            return f"{sign}{whole} {self.currency}"
        return f"{sign}{whole}.{frac:0{self.exponent}d} {self.currency}"


def sum_money(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum amounts that must all be in `currency`; the empty sum is zero."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total
