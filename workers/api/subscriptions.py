"""/v1/subscriptions: start a plan, read it, add or remove users and numbers.

Unit changes go through workers/handlers/subscriptions.py, so proration and the overdue
restriction are the same as everywhere else. `{subscription_id}` is our id or the
external_id.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from domain.billing import SubscriptionTerms
from domain.ports import UnitOfWork
from domain.seats import SeatChange, units_at
from domain.subscriptions import Subscription, SubscriptionStatus
from workers.api.context import ApiContext, api_context
from workers.api.errors import Conflict, Invalid, NotFound
from workers.api.lookup import find_account, find_subscription
from workers.api.rate_cards import store_rate_card
from workers.api.subscription_models import SubscriptionCreate, SubscriptionOut, UnitChange
from workers.handlers import onboarding
from workers.handlers import subscriptions as unit_handlers
from workers.handlers.deps import Deps

router = APIRouter(tags=["subscriptions"])
Context = Annotated[ApiContext, Depends(api_context)]

#: How far back a start date may go: each billing date since is invoiced at the next run.
MAX_BACKDATING = timedelta(days=31)


@router.post("/subscriptions", status_code=201, response_model=SubscriptionOut)
def create_subscription(body: SubscriptionCreate, context: Context) -> SubscriptionOut:
    deps = context.deps
    with deps.uow_factory() as uow:
        try:
            account = find_account(uow, body.account)
        except NotFound as error:  # a reference in the body is a bad field, not a bad path
            raise Invalid(error.message, field="account") from None
    today = deps.clock.today()
    if body.started_on < today - MAX_BACKDATING:
        raise Invalid(f"started_on may be at most {MAX_BACKDATING.days} days in the past",
                      field="started_on")
    subscription = Subscription.start(
        id=f"sub_{uuid.uuid4().hex[:16]}", account_id=account.id,
        external_id=body.external_id,
        terms=SubscriptionTerms(plan=body.plan(account.currency), started_on=body.started_on,
                                users=body.users, numbers=body.numbers))
    store_subscription(deps, subscription=subscription, body=body)
    return SubscriptionOut.of(subscription, changes=[], today=today)


def store_subscription(deps: Deps, *, subscription: Subscription,
                       body: SubscriptionCreate) -> None:
    """Store a new subscription and its rate card, if given, in one transaction.

    Raises Conflict (account restricted), DuplicateExternalId (409 too)."""
    card = body.rate_card

    def with_rate_card(uow: UnitOfWork) -> None:
        if card is not None:  # an invalid card raises Invalid: nothing of it is written
            store_rate_card(uow, subscription_id=subscription.id, card=card,
                            field_prefix="rate_card.")

    try:
        onboarding.start_subscription(deps, subscription=subscription, also=with_rate_card)
    except onboarding.AccountNotActive as error:
        raise Conflict(str(error), field="account") from None


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(subscription_id: str, context: Context) -> SubscriptionOut:
    return _out(context.deps, subscription_id)


@router.post("/subscriptions/{subscription_id}/units", response_model=SubscriptionOut)
def change_units(subscription_id: str, body: UnitChange, context: Context) -> SubscriptionOut:
    deps = context.deps
    on = body.effective_on or deps.clock.today()
    with deps.uow_factory() as uow:
        subscription = find_subscription(uow, subscription_id)
        changes = uow.seat_changes.list_for(subscription_id=subscription.id)
    _check_change(subscription, changes, body, on)
    change = unit_handlers.add_units if body.delta > 0 else unit_handlers.remove_units
    try:
        change(deps, subscription_id=subscription.id, kind=body.kind, quantity=abs(body.delta),
               on=on, actor="api")
    except unit_handlers.UnitsRefused as error:
        raise Conflict(str(error), field="delta") from None
    return _out(deps, subscription.id)


def _check_change(subscription: Subscription, changes: list[SeatChange], body: UnitChange,
                  on: date) -> None:
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise Conflict(f"subscription {subscription.id} is {subscription.status.value}")
    if on < subscription.started_on:
        raise Invalid("effective_on is before the subscription started", field="effective_on")
    if subscription.billed_through is not None and on < subscription.billed_through:
        raise Invalid(f"effective_on is in a period already invoiced (billed through "
                      f"{subscription.billed_through})", field="effective_on")
    proposed = [*changes, SeatChange(kind=body.kind, delta=body.delta, on=on)]
    try:
        units_at(initial=subscription.terms.initial(body.kind), changes=proposed,
                 kind=body.kind, day=date.max)
    except ValueError:
        raise Invalid(f"removing {-body.delta} {body.kind.value} would leave fewer than none",
                      field="delta") from None


def _out(deps: Deps, subscription_id: str) -> SubscriptionOut:
    with deps.uow_factory() as uow:
        subscription = find_subscription(uow, subscription_id)
        changes = uow.seat_changes.list_for(subscription_id=subscription.id)
    return SubscriptionOut.of(subscription, changes=changes, today=deps.clock.today())
