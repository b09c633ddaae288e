"""Amounts and dates in the customer's language, by Babel (CLDR), never by hand.

Babel's output holds no-break spaces where the language wants them: French groups thousands
with U+202F and puts U+00A0 before the currency sign (`1 234,56 €`).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_interval
from babel.numbers import format_currency

from domain.money import Money

Language = Literal["en", "fr"]

#: Languages with written notices and invoices; others read English.
LANGUAGES: tuple[Language, ...] = ("en", "fr")


#: Parsed once: given a code, Babel parses it and loads its CLDR data into a new Locale on
#: every call (a tenth of a millisecond per receipt's amount).
_LOCALES: dict[str, Locale] = {language: Locale.parse(language) for language in LANGUAGES}


def language_of(code: str | None) -> Language:
    """"fr", "fr_FR" or "fr-CA" → "fr"; anything we do not write → "en"."""
    primary = (code or "").replace("-", "_").split("_")[0].lower()
    return "fr" if primary == "fr" else "en"


def format_money(amount: Money, *, language: str) -> str:
    """`€1,234.56` in English, `1 234,56 €` in French, `¥1,234` (no decimals) for JPY."""
    return _formatted(amount.minor, amount.currency, language_of(language))


@functools.lru_cache(maxsize=4096)
def _formatted(minor: int, currency: str, language: Language) -> str:
    # Babel's pattern work is a tenth of a millisecond an amount, and a month's receipts,
    # pages and notices repeat the same plan prices: kept for the last 4,096 amounts.
    value = Decimal(minor).scaleb(-Money(minor, currency).exponent)
    return str(format_currency(value, currency, locale=_LOCALES[language]))


def format_day(day: date, *, language: str) -> str:
    """`March 1, 2025` / `1 mars 2025`."""
    return str(format_date(day, format="long", locale=_LOCALES[language_of(language)]))


def format_days(start: date, end_exclusive: date, *, language: str) -> str:
    """The days [start, end_exclusive) as the reader says them, last day included.

    Periods are half-open in the domain; a reader expects the 15th to the 31st of March,
    not "to 1 April".
    """
    last = max(start, end_exclusive - timedelta(days=1))
    return str(format_interval(start, last, skeleton="yMMMd",
                               locale=_LOCALES[language_of(language)]))
