"""Forgetting the /v1 API's expired idempotency keys, on the scheduler's tick.

A key is kept 24 hours (workers/api/idempotency.py). Claiming the same key again takes an
expired row over, but keys are rarely reused, so without this the table grows with every
keyed request. The store is SQL (not behind the unit-of-work port), so the scheduler gets
this as a function in `Deps.forget_expired_api_keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapters.db.repositories import idempotency
from adapters.db.unit_of_work import SqlUnitOfWorkFactory


def expired_key_purge(uow_factory: SqlUnitOfWorkFactory) -> Callable[[datetime], int]:
    """A function deleting every key expired at `now`, in one transaction; returns how many."""

    def purge(now: datetime) -> int:
        with uow_factory() as uow:
            forgotten = idempotency.purge_expired(uow.session, now=now)
            uow.commit()
        return forgotten

    return purge
