"""A subscription's rate card: `PUT` / `GET /v1/subscriptions/{id}/rate-card`.

`store_rate_card(uow, subscription_id=…, card=…)` is the plain function behind the PUT, for
any endpoint that sets a card inside its own unit of work (`POST /v1/subscriptions` with a
`rate_card`). Replacing a card re-rates the subscription's calls not billed yet.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from domain.money import Money
from domain.ports import UnitOfWork
from domain.rate_cards import (
    MAX_LABEL,
    DestinationRate,
    InvalidRateCard,
    RateCard,
    Rounding,
    card_from_plan,
)
from domain.subscriptions import Subscription
from workers.api.context import ApiContext, api_context
from workers.api.errors import Invalid, NotFound

router = APIRouter(prefix="/subscriptions", tags=["rate cards"])

Minor = Annotated[int, Field(strict=True, ge=0, description="per minute, in minor units")]


class DestinationIn(BaseModel):
    prefix: str = Field(pattern=r"^\+[1-9][0-9]{0,14}$", examples=["+336"],
                        description="E.164 prefix; the longest matching prefix wins")
    label: str = Field(min_length=1, max_length=MAX_LABEL, examples=["France mobile"],
                       pattern=r"^[^\x00-\x1f\x7f]+$",
                       description="destination class: one invoice line per label")
    per_minute: Minor


class RateCardIn(BaseModel):
    rounding: Literal["per_started_minute", "per_second"] = "per_started_minute"
    default_outbound_per_minute: Minor | None = Field(
        None, description="destinations no prefix matches; null: not billed")
    toll_free_per_minute: Minor | None = Field(
        None, description="inbound minutes on toll-free numbers; null: not billed")
    destinations: list[DestinationIn] = Field(default_factory=list, max_length=5000)


class RateCardOut(RateCardIn):
    subscription: str
    currency: str
    source: Literal["rate_card", "plan"] = Field(
        description="'plan': no card stored, the plan's per-minute rates apply")


def to_rate_card(card: RateCardIn, *, currency: str, field_prefix: str = "") -> RateCard:
    """The domain card; raises `Invalid` naming the field (`field_prefix` + its path)."""
    def money(minor: int | None) -> Money | None:
        return None if minor is None else Money(minor, currency)

    try:
        return RateCard(
            currency=currency, rounding=Rounding(card.rounding),
            default_outbound=money(card.default_outbound_per_minute),
            toll_free=money(card.toll_free_per_minute),
            destinations=tuple(DestinationRate(d.prefix, d.label, Money(d.per_minute, currency))
                               for d in card.destinations))
    except InvalidRateCard as error:
        raise Invalid(str(error), field=f"{field_prefix}{error.field}") from None


def store_rate_card(uow: UnitOfWork, *, subscription_id: str, card: RateCardIn,
                    field_prefix: str = "") -> RateCard:
    """Validate and store the card in the caller's unit of work (the caller commits)."""
    subscription = _subscription(uow, subscription_id)
    rate_card = to_rate_card(card, currency=subscription.plan.currency,
                             field_prefix=field_prefix)
    uow.rate_cards.put(subscription_id=subscription_id, card=rate_card)
    return rate_card


def _subscription(uow: UnitOfWork, subscription_id: str) -> Subscription:
    # A NUL cannot be stored in PostgreSQL text: no subscription has one in its id.
    found = (None if "\x00" in subscription_id
             else uow.subscriptions.get(subscription_id=subscription_id))
    if found is None:
        raise NotFound("subscription", subscription_id)
    return found


def rate_card_out(subscription_id: str, card: RateCard, *, source: str) -> RateCardOut:
    def minor(amount: Money | None) -> int | None:
        return None if amount is None else amount.minor

    return RateCardOut.model_validate({
        "subscription": subscription_id, "currency": card.currency, "source": source,
        "rounding": card.rounding.value,
        "default_outbound_per_minute": minor(card.default_outbound),
        "toll_free_per_minute": minor(card.toll_free),
        "destinations": [{"prefix": d.prefix, "label": d.label,
                          "per_minute": d.per_minute.minor} for d in card.destinations]})


@router.put("/{subscription_id}/rate-card", response_model=RateCardOut,
            summary="Replace the subscription's rate card")
def put_rate_card(subscription_id: str, body: RateCardIn,
                  context: Annotated[ApiContext, Depends(api_context)]) -> RateCardOut:
    with context.deps.uow_factory() as uow:
        card = store_rate_card(uow, subscription_id=subscription_id, card=body)
        uow.commit()
    return rate_card_out(subscription_id, card, source="rate_card")


@router.get("/{subscription_id}/rate-card", response_model=RateCardOut,
            summary="The subscription's rate card (or its plan's per-minute rates)")
def get_rate_card(subscription_id: str,
                  context: Annotated[ApiContext, Depends(api_context)]) -> RateCardOut:
    with context.deps.uow_factory() as uow:
        subscription = _subscription(uow, subscription_id)
        card = uow.rate_cards.get(subscription_id=subscription_id)
    if card is None:
        return rate_card_out(subscription_id, card_from_plan(subscription.plan), source="plan")
    return rate_card_out(subscription_id, card, source="rate_card")
