"""/v1/webhook-endpoints: where the business receives its signed events.

The signing secret is in the answer to the POST that creates the endpoint, and never again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from domain.outgoing_events import EVENT_TYPES, WebhookEndpoint
from workers.api.context import ApiContext, api_context
from workers.api.errors import Invalid, NotFound
from workers.operations import endpoints
from workers.operations.errors import NotFoundError

router = APIRouter(prefix="/webhook-endpoints", tags=["webhook endpoints"])

Context = Annotated[ApiContext, Depends(api_context)]


class EndpointCreate(BaseModel):
    url: str = Field(description="http(s) URL the events are POSTed to")
    events: list[str] = Field(min_length=1, description="event types: "
                              + ", ".join(sorted(EVENT_TYPES)))
    description: str = ""


class Endpoint(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    status: str = Field(description="enabled | disabled")
    created: str
    paused_until: str | None = Field(
        default=None, description="after failed deliveries in a row, nothing is sent to it "
        "before this instant (ISO 8601); null when it is not paused")
    failures: int = Field(default=0, description="failed deliveries in a row")


class EndpointWithSecret(Endpoint):
    secret: str = Field(description="the HMAC signing key; shown in this answer only")


class EndpointList(BaseModel):
    data: list[Endpoint]


def _out(endpoint: WebhookEndpoint) -> Endpoint:
    return Endpoint(**endpoints.summary(endpoint))


@router.post("", status_code=201, response_model=EndpointWithSecret)
def create_endpoint(body: EndpointCreate, context: Context) -> EndpointWithSecret:
    try:
        created = endpoints.add(context.deps, url=body.url, events=body.events,
                                description=body.description, actor="api")
    except endpoints.InvalidEndpoint as error:
        raise Invalid(str(error), field=error.field) from None
    return EndpointWithSecret(**endpoints.summary(created.endpoint), secret=created.secret)


@router.get("", response_model=EndpointList)
def list_endpoints(context: Context) -> EndpointList:
    return EndpointList(data=[_out(e) for e in endpoints.listed(context.deps)])


@router.get("/{endpoint_id}", response_model=Endpoint)
def get_endpoint(endpoint_id: str, context: Context) -> Endpoint:
    try:
        return _out(endpoints.get(context.deps, endpoint_id=endpoint_id))
    except NotFoundError:
        raise NotFound("webhook endpoint", endpoint_id) from None


@router.delete("/{endpoint_id}", response_model=Endpoint)
def disable_endpoint(endpoint_id: str, context: Context) -> Endpoint:
    """Disables the endpoint (kept for the record; nothing more is delivered to it)."""
    try:
        return _out(endpoints.disable(context.deps, endpoint_id=endpoint_id, actor="api"))
    except NotFoundError:
        raise NotFound("webhook endpoint", endpoint_id) from None
