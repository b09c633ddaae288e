"""Plans: what a subscription costs per unit, per interval, with a minimum commitment."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.money import Money


class Interval(enum.StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 1 if self is Interval.MONTHLY else 12


class UnitKind(enum.StrEnum):
    USERS = "users"
    NUMBERS = "numbers"


@dataclass(frozen=True, slots=True)
class Plan:
    """Prices are per unit per plan interval (per month, or per year for annual plans)."""

    interval: Interval
    currency: str
    user_price: Money
    number_price: Money
    minimum_users: int = 0
    minimum_numbers: int = 0
    outbound_per_minute: Money | None = None
    toll_free_per_minute: Money | None = None

    def __post_init__(self) -> None:
        for price in (self.user_price, self.number_price, self.outbound_per_minute,
                      self.toll_free_per_minute):
            if price is not None and price.currency != self.currency:
                raise ValueError(f"plan in {self.currency} has a price in {price.currency}")
            if price is not None and price.minor < 0:
                raise ValueError("plan prices cannot be negative")
        if self.minimum_users < 0 or self.minimum_numbers < 0:
            raise ValueError("minimum commitments cannot be negative")

    def unit_price(self, kind: UnitKind) -> Money:
        return self.user_price if kind is UnitKind.USERS else self.number_price

    def minimum(self, kind: UnitKind) -> int:
        return self.minimum_users if kind is UnitKind.USERS else self.minimum_numbers
