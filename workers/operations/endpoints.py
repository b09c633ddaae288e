"""The business's webhook endpoints: add (the secret is shown once), list, show, disable.
Shared by `paycollect endpoints …` and `/v1/webhook-endpoints`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from domain.outgoing_events import (
    UnknownEventType,
    WebhookEndpoint,
    new_endpoint_id,
    parse_event_types,
)
from domain.records import AuditEntry
from workers.handlers.deps import Deps
from workers.operations.errors import BadArgument, NotFoundError


class InvalidEndpoint(BadArgument):
    """Bad input; `field` names it (`url`, `events`)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint(f"not an http(s) URL with a host: {url!r}", field="url")
    return url.strip()


def check_events(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    try:
        return parse_event_types(names)
    except UnknownEventType as error:
        raise InvalidEndpoint(str(error), field="events") from None


@dataclass(frozen=True)
class Created:
    endpoint: WebhookEndpoint
    #: The signing secret: shown to the caller now and never again.
    secret: str


def summary(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as listed: everything but the secret. `paused_until`: after failures in a
    row (`failures`), nothing is sent to it before then (None: not paused)."""
    return {"id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events),
            "description": endpoint.description, "status": endpoint.status.value,
            "created": endpoint.created_at.isoformat(),
            "paused_until": endpoint.paused_until.isoformat() if endpoint.paused_until
            else None,
            "failures": endpoint.failures}


def add(deps: Deps, *, url: str, events: list[str] | tuple[str, ...], description: str = "",
        actor: str) -> Created:
    """Store a new endpoint with a fresh secret; it receives events written from now on."""
    endpoint = WebhookEndpoint(id=new_endpoint_id(), url=check_url(url),
                               events=check_events(events),
                               secret=f"whsec_{secrets.token_hex(24)}",
                               created_at=deps.clock.now(), description=description)
    with deps.uow_factory() as uow:
        uow.webhook_endpoints.add(endpoint=endpoint)
        uow.audit.add(entry=AuditEntry(at=endpoint.created_at, actor=actor,
                                       action="webhook_endpoint.add", target=endpoint.id,
                                       details={"url": endpoint.url,
                                                "events": list(endpoint.events)}))
        uow.commit()
    return Created(endpoint=endpoint, secret=endpoint.secret)


def listed(deps: Deps) -> list[WebhookEndpoint]:
    with deps.uow_factory() as uow:
        return uow.webhook_endpoints.all()


def get(deps: Deps, *, endpoint_id: str) -> WebhookEndpoint:
    with deps.uow_factory() as uow:
        found = uow.webhook_endpoints.get(endpoint_id=endpoint_id)
    if found is None:
        raise NotFoundError(f"no webhook endpoint {endpoint_id!r}")
    return found


def disable(deps: Deps, *, endpoint_id: str, actor: str) -> WebhookEndpoint:
    """It receives nothing more (its pending deliveries are not sent); audited."""
    with deps.uow_factory() as uow:
        if not uow.webhook_endpoints.disable(endpoint_id=endpoint_id):
            raise NotFoundError(f"no webhook endpoint {endpoint_id!r}")
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                       action="webhook_endpoint.disable", target=endpoint_id))
        uow.commit()
    return get(deps, endpoint_id=endpoint_id)
