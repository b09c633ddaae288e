"""Rate cards: what a subscription's call minutes cost, per destination prefix.

A card prices outbound minutes by E.164 destination prefix (the longest matching prefix
wins: `+336` beats `+33` for `+33612345678`), with a default rate for destinations no prefix
matches, and inbound minutes on toll-free numbers at one rate. Each prefix carries a
destination-class label ("France", "France mobile"); the invoice has one line per class, so
prefixes that share a label must share the rate. The rounding rule is part of the card and is
written on each invoice line (see domain/usage.py for the arithmetic).

A subscription without a card of its own is billed with `card_from_plan`: the plan's
`outbound_per_minute` as the default rate and `toll_free_per_minute`, per started minute, no
prefixes; this is exactly what the per-minute plan fields always meant.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from domain.money import Money
from domain.plans import Plan

#: "+" then 1 to 15 digits, not starting with 0: a country code and maybe more (E.164).
PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")
#: A full E.164 number: "+", a country code not starting with 0, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
#: Labels are printed on invoices and stored in the line's item: keep them short.
MAX_LABEL = 64


class Rounding(enum.StrEnum):
    #: every call is rounded up to whole minutes, then minutes x rate (exact).
    PER_STARTED_MINUTE = "per_started_minute"
    #: seconds are summed per line; rate x seconds / 60 rounded half-up once per line.
    PER_SECOND = "per_second"


class InvalidRateCard(ValueError):
    """A rate card that cannot be used; `field` names the offending part."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class DestinationRate:
    prefix: str
    label: str
    per_minute: Money


@dataclass(frozen=True)
class RateCard:
    currency: str
    destinations: tuple[DestinationRate, ...] = ()
    #: Outbound calls no prefix matches; None: not billed.
    default_outbound: Money | None = None
    #: Inbound minutes on toll-free numbers; None: not billed.
    toll_free: Money | None = None
    rounding: Rounding = Rounding.PER_STARTED_MINUTE
    _by_prefix: dict[str, DestinationRate] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_prefix: dict[str, DestinationRate] = {}
        rate_of_label: dict[str, Money] = {}
        for index, destination in enumerate(self.destinations):
            where = f"destinations.{index}"
            if not isinstance(destination.prefix, str) or not PREFIX.fullmatch(
                    destination.prefix):
                raise InvalidRateCard(f"prefix {destination.prefix!r} is not an E.164 prefix "
                                      "('+' and 1 to 15 digits)", field=f"{where}.prefix")
            if destination.prefix in by_prefix:
                raise InvalidRateCard(f"prefix {destination.prefix} is listed twice",
                                      field=f"{where}.prefix")
            if not destination.label.strip() or len(destination.label) > MAX_LABEL:
                raise InvalidRateCard(f"a label has 1 to {MAX_LABEL} characters",
                                      field=f"{where}.label")
            _check_rate(destination.per_minute, self.currency, f"{where}.per_minute")
            known = rate_of_label.setdefault(destination.label, destination.per_minute)
            if known != destination.per_minute:
                raise InvalidRateCard(f"prefixes labelled {destination.label!r} have different "
                                      "rates: one class, one line, one rate",
                                      field=f"{where}.per_minute")
            by_prefix[destination.prefix] = destination
        for name in ("default_outbound", "toll_free"):
            rate = getattr(self, name)
            if rate is not None:
                _check_rate(rate, self.currency, name)
        object.__setattr__(self, "_by_prefix", by_prefix)

    def classify(self, destination: str) -> str:
        """The prefix that rates an outbound call to `destination`; "" for the default rate.

        With +33 and +336 on the card, +33612345678 is rated by +336, +33123456789 by +33.
        """
        return longest_prefix(destination, self._by_prefix)

    def destination(self, prefix: str) -> DestinationRate | None:
        return self._by_prefix.get(prefix)


def longest_prefix(destination: str, prefixes: Collection[str]) -> str:
    """The longest of `prefixes` that `destination` starts with; "" when none does."""
    for length in range(min(len(destination), 16), 1, -1):
        if destination[:length] in prefixes:
            return destination[:length]
    return ""


def _check_rate(rate: Money, currency: str, where: str) -> None:
    if rate.currency != currency:
        raise InvalidRateCard(f"a rate in {rate.currency} on a card in {currency}", field=where)
    if rate.minor < 0:
        raise InvalidRateCard("rates cannot be negative", field=where)


def card_from_plan(plan: Plan) -> RateCard:
    """The card equivalent to the plan's per-minute fields (no prefixes, per started minute)."""
    return RateCard(currency=plan.currency, default_outbound=plan.outbound_per_minute,
                    toll_free=plan.toll_free_per_minute, rounding=Rounding.PER_STARTED_MINUTE)
