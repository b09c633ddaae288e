"""`POST /v1/subscriptions/{id}/cancel`: end a subscription now, or at the end of its term.

`{"at": "now"}` ends it today with a final invoice (prorata and minutes up to today, the
unpaid balance brought forward: workers/handlers/ending.py); `{"at": "period_end"}` lets it
run to the end of the current term (the next monthly renewal date, or the next anniversary
of an annual plan), where a final invoice is issued instead of the renewal, and nothing after.
Canceling at the period end twice changes nothing; `now` after `period_end` ends it today.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from domain.errors import UnknownSubscription
from domain.final_invoice import CannotEndThere
from domain.subscriptions import Subscription
from workers.api.context import ApiContext, api_context
from workers.api.errors import Conflict, NotFound
from workers.handlers.cancellation import AlreadyEnded, CancelAt, cancel_subscription
from workers.handlers.ending import final_invoice_of

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: Literal["period_end", "now"] = Field(
        description="`now`: ends today with a final invoice; `period_end`: at the end of the "
                    "current term, with a final invoice instead of the renewal")
    reason: str | None = Field(default=None, min_length=1, max_length=500,
                               description="why (kept in the audit log)")


class CanceledSubscription(BaseModel):
    id: str
    account: str
    status: Literal["active", "canceling", "ended"]
    started_on: date
    ends_on: date | None = Field(description="the first day without service (the final "
                                             "invoice's date)")
    end_reason: str | None
    final_invoice: str | None = Field(description="the final invoice's id, once issued")


@router.post("/{subscription_id}/cancel", response_model=CanceledSubscription,
             summary="Cancel a subscription now or at the end of its term")
def cancel(subscription_id: str, body: CancelRequest,
           context: ApiContext = Depends(api_context)) -> CanceledSubscription:
    deps = context.deps
    try:
        subscription = cancel_subscription(deps, subscription_id=subscription_id,
                                           at=CancelAt(body.at), reason=body.reason)
    except UnknownSubscription:
        raise NotFound("subscription", subscription_id) from None
    except AlreadyEnded as error:
        raise Conflict(str(error)) from None
    except CannotEndThere as error:
        raise Conflict(str(error), field="at") from None
    with deps.uow_factory() as uow:
        final = final_invoice_of(uow, subscription) if not subscription.is_live else None
    return _view(subscription, final)


def _view(subscription: Subscription, final_invoice: str | None) -> CanceledSubscription:
    return CanceledSubscription(
        id=subscription.id, account=subscription.account_id,
        status=subscription.state.value, started_on=subscription.started_on,
        ends_on=subscription.ends_on, end_reason=subscription.end_reason,
        final_invoice=final_invoice)
