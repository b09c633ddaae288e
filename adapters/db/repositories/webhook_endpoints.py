"""The business's webhook endpoints (where outgoing events are delivered)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from adapters.db.repositories._sql import insert, run, table_of
from adapters.db.tables import WebhookEndpointRow
from domain.outgoing_events import EndpointStatus, WebhookEndpoint

_ENDPOINTS = table_of(WebhookEndpointRow)


def endpoint_from_row(row: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(id=row.id, url=row.url, events=tuple(row.events or ()),
                           secret=row.secret, created_at=row.created_at,
                           description=row.description, status=EndpointStatus(row.status),
                           paused_until=row.paused_until, failures=row.failures)


class SqlWebhookEndpointRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        #: The enabled endpoints, read once per unit of work: a transaction emitting several
        #: events (a payment and its paid invoice) asks once.
        self._enabled: list[WebhookEndpoint] | None = None

    def add(self, *, endpoint: WebhookEndpoint) -> None:
        self._enabled = None
        insert(self._session, _ENDPOINTS, {
            "id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events),
            "description": endpoint.description, "secret": endpoint.secret,
            "status": endpoint.status.value, "created_at": endpoint.created_at,
            "paused_until": endpoint.paused_until, "failures": endpoint.failures})

    def get(self, *, endpoint_id: str) -> WebhookEndpoint | None:
        row = run(self._session, _ENDPOINTS.select()
                  .where(_ENDPOINTS.c.id == endpoint_id)).first()
        return None if row is None else endpoint_from_row(row)

    def all(self) -> list[WebhookEndpoint]:
        rows = run(self._session, _ENDPOINTS.select()
                   .order_by(_ENDPOINTS.c.created_at, _ENDPOINTS.c.id)).all()
        return [endpoint_from_row(row) for row in rows]

    def enabled(self) -> list[WebhookEndpoint]:
        if self._enabled is None:
            rows = run(self._session, _ENDPOINTS.select()
                       .where(_ENDPOINTS.c.status == EndpointStatus.ENABLED.value)
                       .order_by(_ENDPOINTS.c.created_at, _ENDPOINTS.c.id)).all()
            self._enabled = [endpoint_from_row(row) for row in rows]
        return list(self._enabled)

    def disable(self, *, endpoint_id: str) -> bool:
        self._enabled = None
        result = run(self._session, _ENDPOINTS.update().where(_ENDPOINTS.c.id == endpoint_id)
                     .values(status=EndpointStatus.DISABLED.value))
        return bool(result.rowcount == 1)

    def pause(self, *, endpoint_id: str, until: datetime) -> None:
        self._enabled = None
        run(self._session, _ENDPOINTS.update().where(_ENDPOINTS.c.id == endpoint_id)
            .values(paused_until=until, failures=_ENDPOINTS.c.failures + 1))

    def resume(self, *, endpoint_ids: Collection[str]) -> None:
        if not endpoint_ids:
            return
        self._enabled = None
        # Only those paused or failing: an endpoint is not rewritten when nothing changes.
        run(self._session, _ENDPOINTS.update()
            .where(_ENDPOINTS.c.id.in_(sorted(endpoint_ids)),
                   (_ENDPOINTS.c.failures > 0) | _ENDPOINTS.c.paused_until.is_not(None))
            .values(paused_until=None, failures=0))
