"""The simulator's records: resources, ids, events, idempotency keys, scheduled transitions.

Resources are kept as the JSON GoCardless would return. Scheduled transitions sit in a heap
keyed by date, each tagged with its resource's plan version, so a cancelled or replanned
resource simply skips its stale entries. Callers hold `lock` (see state.Store).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from adapters.simulators.gocardless import errors
from adapters.simulators.gocardless.behaviours import SCHEMES, Behaviour, Details, Shift, Step

Json = dict[str, Any]
EventSink = Callable[[Json], None]


@dataclass
class Resource:
    """One customer, bank account, mandate or payment, plus what the simulator knows about it."""

    data: Json
    behaviour: Behaviour = Behaviour.PAYS
    scheme: str = ""
    version: int = 0
    reached: set[str] = field(default_factory=set)
    auto_retries_left: int = 0


def _b36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out.rjust(12, "0")


class StoreBase:
    """Ids, the clock's date, events, idempotency keys and the transition heap."""

    def __init__(self, *, today: date, shift: Shift, on_event: EventSink,
                 auto_retries: int = 0) -> None:
        self.lock = threading.RLock()
        self.today = today
        self.shift = shift
        self.auto_retries = auto_retries
        self._on_event = on_event
        self._counters: dict[str, int] = {}
        self._seq = 0
        self.resources: dict[str, dict[str, Resource]] = {
            "customers": {}, "customer_bank_accounts": {}, "mandates": {}, "payments": {}}
        self.events: list[Json] = []
        self.events_by_id: dict[str, Json] = {}
        self.payments_by_mandate: dict[str, list[str]] = {}
        self._idempotency: dict[tuple[str, str], str] = {}
        self._heap: list[tuple[date, int, str, str, int, str]] = []
        self.counters: dict[str, int] = {"idempotent_conflicts": 0}

    # -- ids and timestamps ---------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return prefix + _b36(self._counters[prefix])

    def timestamp(self, day: date) -> str:
        # Logical days: 09:00 UTC plus a sequence so events sort in the order they happened.
        self._seq += 1
        instant = datetime.combine(day, time(9)) + timedelta(milliseconds=self._seq)
        return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"

    # -- lookups ---------------------------------------------------------------------------
    def find(self, kind: str, resource_id: str) -> Resource:
        found = self.resources[kind].get(resource_id)
        if found is None:
            raise errors.not_found(f"{kind}/{resource_id}")
        return found

    # -- idempotency -----------------------------------------------------------------------
    def check_idempotency(self, kind: str, key: str | None) -> None:
        """A key already used for this resource type: 409 naming the first resource."""
        if key and (kind, key) in self._idempotency:
            self.counters["idempotent_conflicts"] += 1
            raise errors.idempotent_creation_conflict(self._idempotency[(kind, key)])

    def remember_key(self, kind: str, key: str | None, resource_id: str) -> None:
        if key:
            self._idempotency[(kind, key)] = resource_id

    # -- events ----------------------------------------------------------------------------
    def emit(self, *, resource_type: str, action: str, day: date, links: dict[str, str],
             details: Json, resource_metadata: Json | None = None) -> Json:
        event: Json = {
            "id": self.new_id("EV"),
            "created_at": self.timestamp(day),
            "resource_type": resource_type,
            "action": action,
            "links": dict(links),
            "details": details,
            "metadata": {},
            "resource_metadata": dict(resource_metadata or {}),
        }
        self.events.append(event)
        self.events_by_id[event["id"]] = event
        self._on_event(event)
        return event

    def payment_event(self, payment: Resource, action: str, day: date, details: Details,
                      **extra: Any) -> None:
        data = payment.data
        self.emit(resource_type="payments", action=action, day=day,
                  links={"payment": data["id"], "mandate": data["links"]["mandate"]},
                  details=details.as_json(payment.scheme, **extra),
                  resource_metadata=data["metadata"])

    def mandate_event(self, mandate: Resource, action: str, day: date, details: Details) -> None:
        data = mandate.data
        self.emit(resource_type="mandates", action=action, day=day,
                  links={"mandate": data["id"], "customer": data["links"]["customer"]},
                  details=details.as_json(mandate.scheme), resource_metadata=data["metadata"])

    # -- scheduled transitions -------------------------------------------------------------
    def schedule(self, kind: str, resource: Resource, steps: list[Step]) -> None:
        """Replace a resource's plan with `steps` (older heap entries become stale)."""
        resource.version += 1
        for step in steps:
            self._seq += 1
            heapq.heappush(self._heap, (step.on, self._seq, kind, resource.data["id"],
                                        resource.version, step.action))

    def unschedule(self, resource: Resource) -> None:
        resource.version += 1

    def pop_due(self, today: date) -> tuple[date, str, Resource, str] | None:
        """The next transition due on or before `today`, skipping stale ones."""
        while self._heap and self._heap[0][0] <= today:
            on, _, kind, resource_id, version, action = heapq.heappop(self._heap)
            resource = self.resources[kind][resource_id]
            if resource.version == version:
                return on, kind, resource, action
        return None

    # -- shared helpers --------------------------------------------------------------------
    def next_possible_charge_date(self, mandate: Resource) -> date | None:
        if mandate.data["status"] not in ("pending_submission", "submitted", "active"):
            return None
        return self.shift(self.today, SCHEMES[mandate.scheme].lead_days)

    def render_mandate(self, mandate: Resource) -> Json:
        npcd = self.next_possible_charge_date(mandate)
        return {**mandate.data,
                "next_possible_charge_date": npcd.isoformat() if npcd else None}


def check_metadata(value: Any, *, resource: str) -> dict[str, str]:
    """GoCardless metadata: up to 3 string pairs, keys up to 50 and values up to 500 chars."""
    if value is None:
        return {}
    if (not isinstance(value, dict) or len(value) > 3
            or not all(isinstance(k, str) and isinstance(v, str) and len(k) <= 50
                       and len(v) <= 500 for k, v in value.items())):
        raise errors.validation_failed("metadata", "must be up to 3 string key/value pairs",
                                       resource=resource)
    return dict(value)


def page(items: list[Json], params: dict[str, str]) -> Json:
    """Cursor pagination as GoCardless does it: `after`/`before` ids, `limit` up to 500."""
    try:
        limit = min(max(int(params.get("limit", "50")), 1), 500)
    except ValueError:
        raise errors.validation_failed("limit", "must be a number", resource="meta") from None
    ids = [item["id"] for item in items]
    start, end = 0, len(items)
    if params.get("after") in ids:
        start = ids.index(params["after"]) + 1
    if params.get("before") in ids:
        end = ids.index(params["before"])
        start = max(start, end - limit)
    chunk = items[start:end][:limit]
    more_after = start + len(chunk) < len(items)
    return {"records": chunk, "meta": {
        "cursors": {"before": chunk[0]["id"] if chunk and start > 0 else None,
                    "after": chunk[-1]["id"] if chunk and more_after else None},
        "limit": limit}}
