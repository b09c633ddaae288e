"""Request and response bodies of /v1/subscriptions.

Prices are integer minor units of the account's currency, per unit per interval (per month,
or per year for annual plans). A `rate_card` given at creation is stored with the
subscription in one transaction (`workers.api.subscriptions.store_subscription`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.money import Money
from domain.plans import Interval, Plan, UnitKind
from domain.seats import SeatChange, units_at
from domain.subscriptions import Subscription, SubscriptionStatus
from workers.api.account_models import ExternalId
from workers.api.rate_cards import RateCardIn

#: Large enough for any price, small enough that sums never overflow BIGINT.
MAX_PRICE = 10**12
MAX_UNITS = 1_000_000
Price = Annotated[int, Field(ge=0, le=MAX_PRICE, description="minor units")]
Units = Annotated[int, Field(ge=0, le=MAX_UNITS)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: Annotated[str, Field(min_length=1, description="our id or the external_id")]
    external_id: ExternalId | None = None
    interval: Interval
    user_price: Price
    number_price: Price
    minimum_users: Units = 0
    minimum_numbers: Units = 0
    started_on: date = Field(description="the start and anchor: renewals fall on this day "
                                         "of the month (annual: of the year)")
    users: Units = Field(0, description="users at the start")
    numbers: Units = Field(0, description="numbers at the start")
    outbound_per_minute: Price | None = None
    toll_free_per_minute: Price | None = None
    rate_card: RateCardIn | None = Field(
        default=None, description="outbound prices per destination prefix, toll-free and the "
        "rounding rule (as PUT /v1/subscriptions/{id}/rate-card); absent: the plan's "
        "outbound_per_minute and toll_free_per_minute, per started minute")

    def plan(self, currency: str) -> Plan:
        def money(minor: int | None) -> Money | None:
            return None if minor is None else Money(minor, currency)

        return Plan(interval=self.interval, currency=currency,
                    user_price=Money(self.user_price, currency),
                    number_price=Money(self.number_price, currency),
                    minimum_users=self.minimum_users, minimum_numbers=self.minimum_numbers,
                    outbound_per_minute=money(self.outbound_per_minute),
                    toll_free_per_minute=money(self.toll_free_per_minute))


class UnitChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: UnitKind
    delta: Annotated[int, Field(ge=-MAX_UNITS, le=MAX_UNITS,
                                description="units added (> 0) or removed (< 0)")]
    effective_on: date | None = Field(None, description="default: today")

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: int) -> int:
        if delta == 0:
            raise ValueError("delta must not be 0")
        return delta


class SubscriptionOut(BaseModel):
    id: str
    external_id: str | None
    account: str
    status: SubscriptionStatus
    interval: Interval
    currency: str
    user_price: int
    number_price: int
    minimum_users: int
    minimum_numbers: int
    outbound_per_minute: int | None
    toll_free_per_minute: int | None
    started_on: date
    initial_users: int
    initial_numbers: int
    users: int = Field(description="users in use today")
    numbers: int = Field(description="numbers in use today")
    next_renewal_on: date
    billed_through: date | None

    @classmethod
    def of(cls, subscription: Subscription, *, changes: list[SeatChange],
           today: date) -> SubscriptionOut:
        plan, terms = subscription.plan, subscription.terms

        def in_use(kind: UnitKind) -> int:
            return units_at(initial=terms.initial(kind), changes=changes, kind=kind,
                            day=date.fromordinal(today.toordinal() + 1))

        return cls(id=subscription.id, external_id=subscription.external_id,
                   account=subscription.account_id, status=subscription.status,
                   interval=plan.interval, currency=plan.currency,
                   user_price=plan.user_price.minor, number_price=plan.number_price.minor,
                   minimum_users=plan.minimum_users, minimum_numbers=plan.minimum_numbers,
                   outbound_per_minute=_minor(plan.outbound_per_minute),
                   toll_free_per_minute=_minor(plan.toll_free_per_minute),
                   started_on=terms.started_on, initial_users=terms.users,
                   initial_numbers=terms.numbers, users=in_use(UnitKind.USERS),
                   numbers=in_use(UnitKind.NUMBERS),
                   next_renewal_on=subscription.next_renewal_on,
                   billed_through=subscription.billed_through)


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else amount.minor
