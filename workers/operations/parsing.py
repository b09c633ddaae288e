"""Parsing operator input: dates, amounts in major units, enum choices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from domain.money import CURRENCY_EXPONENTS, Money
from workers.operations.errors import BadArgument

E = TypeVar("E", bound=Enum)


def parse_date(text: str, *, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadArgument(f"{name}: {text!r} is not a date (expected YYYY-MM-DD)") from None


def parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    day = parse_date(text, name="--since")
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_choice(enum: type[E], text: str | None, *, name: str) -> E | None:
    if text is None:
        return None
    try:
        return enum(text)
    except ValueError:
        choices = ", ".join(str(member.value) for member in enum)
        raise BadArgument(f"{name}: {text!r} is not one of {choices}") from None


def parse_amount(text: str, *, currency: str) -> Money:
    """`"150.00"` in `currency` → Money(15000). No more decimals than the currency has."""
    code = currency.upper()
    if code not in CURRENCY_EXPONENTS:
        raise BadArgument(f"--currency: unknown currency {currency!r}")
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise BadArgument(f"--amount: {text!r} is not an amount (e.g. 150.00)") from None
    minor = value.scaleb(CURRENCY_EXPONENTS[code])
    if not value.is_finite() or minor != minor.to_integral_value() or value <= 0:
        raise BadArgument(f"--amount: {text!r} is not a positive amount in {code} "
                          f"(at most {CURRENCY_EXPONENTS[code]} decimals)")
    return Money(int(minor), code)
