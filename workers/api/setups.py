"""Payment-method setups: `POST /v1/accounts/{id}/payment-method-setups` gives the URL of the
provider's hosted page (Stripe Checkout in setup mode, a GoCardless Billing Request Flow);
`GET /v1/payment-method-setups/{id}` says whether the customer completed it.

The scheme of a direct debit defaults to the account's currency (EUR → sepa_core, USD → ach,
GBP → bacs); one that does not collect that currency is refused (422, field `scheme`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from domain.accounts import MethodType
from domain.errors import UnknownAccount
from domain.setups import InvalidScheme, PaymentMethodSetup, ProviderUnavailable
from workers.api.context import ApiContext, api_context
from workers.api.errors import ApiError, Invalid, NotFound
from workers.handlers.setups import UnknownSetup, get_setup, start_setup

router = APIRouter(tags=["payment-method setups"])


class SetupRequest(BaseModel):
    type: Literal["card", "direct_debit"]
    scheme: Literal["sepa_core", "ach", "bacs"] | None = Field(
        default=None, description="direct debit only; default: the account currency's scheme")
    return_url: str | None = Field(default=None, max_length=2000,
                                   description="where the hosted page sends the customer back")


class SetupResponse(BaseModel):
    id: str
    type: Literal["card", "direct_debit"]
    url: str
    provider: Literal["stripe", "gocardless"]
    status: Literal["open", "completed", "expired"]
    account: str | None = None
    scheme: str | None = None
    expires_at: datetime | None = None


def _unavailable(error: ProviderUnavailable) -> ApiError:
    return ApiError(503, "provider_unavailable",
                    f"the payment provider could not be reached; nothing was recorded, try "
                    f"again ({error})")


@router.post("/accounts/{account_id}/payment-method-setups", status_code=201,
             response_model=SetupResponse)
def create_setup(account_id: str, body: SetupRequest,
                 context: ApiContext = Depends(api_context)) -> SetupResponse:
    if body.type == "card" and body.scheme is not None:
        raise Invalid("a card setup takes no scheme", field="scheme")
    if body.return_url is not None and not body.return_url.startswith(("https://", "http://")):
        raise Invalid("return_url must be an http(s) URL", field="return_url")
    try:
        started = start_setup(context.deps, account_id=account_id,
                              method=MethodType(body.type), scheme=body.scheme,
                              return_url=body.return_url)
    except UnknownAccount:
        raise NotFound("account", account_id) from None
    except InvalidScheme as error:
        raise Invalid(str(error), field="scheme") from None
    except ProviderUnavailable as error:
        raise _unavailable(error) from None
    return SetupResponse(id=started.id, type=body.type, url=started.url,
                         provider=started.provider,  # type: ignore[arg-type]
                         status=started.status.value,
                         account=account_id, scheme=started.scheme,
                         expires_at=started.expires_at)


def _response(setup: PaymentMethodSetup) -> SetupResponse:
    return SetupResponse(id=setup.id, type=setup.method.value,  # type: ignore[arg-type]
                         url=setup.url, provider=setup.provider,  # type: ignore[arg-type]
                         status=setup.status.value,
                         account=setup.account_id, scheme=setup.scheme,
                         expires_at=setup.expires_at)


@router.get("/payment-method-setups/{setup_id}", response_model=SetupResponse)
def read_setup(setup_id: str, context: ApiContext = Depends(api_context)) -> SetupResponse:
    try:
        return _response(get_setup(context.deps, setup_id=setup_id))
    except UnknownSetup:
        raise NotFound("payment-method setup", setup_id) from None
