"""Idempotency-Key records of the /v1 API: claim a key, fence its writes, store its answer.

A key moves in_progress → committed → done. `claim` takes a key (or tells why not);
`fence` runs inside the request's own write transaction and fails if the claim was lost
(another request took the key over after the lease), so a write is committed at most once per
key; `record` stores the response to replay; `release` gives an unexecuted key back.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlmodel import Session

from adapters.db.repositories._sql import insert_unless_exists, run, table_of
from adapters.db.tables import IdempotencyKeyRow

_TABLE = table_of(IdempotencyKeyRow)
_C = _TABLE.c
IN_PROGRESS, COMMITTED, DONE = "in_progress", "committed", "done"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    content_type: str
    body: str


@dataclass(frozen=True, slots=True)
class Claimed:
    token: str


@dataclass(frozen=True, slots=True)
class Refused:
    """reused: the key came with another request; in_progress: it is running (or died before
    writing, until its lease ends); executed: it wrote but its response was not stored."""

    reason: str


ClaimResult = Claimed | StoredResponse | Refused


def claim(session: Session, *, owner: str, key: str, fingerprint: str, now: datetime,
          ttl: timedelta, lease: timedelta) -> ClaimResult:
    """Claim `key` for a request, or say what the earlier request with that key became."""
    token = secrets.token_hex(16)
    fresh = {"owner": owner, "key": key, "request_fingerprint": fingerprint,
             "state": IN_PROGRESS, "claim_token": token, "claimed_at": now,
             "expires_at": now + ttl}
    if insert_unless_exists(session, _TABLE, fresh, conflict_on=["owner", "key"]):
        return Claimed(token)
    where = [_C.owner == owner, _C.key == key]
    # An expired key is forgotten: lazily, by taking the row over (atomic: one winner).
    if _taken_over(session, [*where, _C.expires_at <= now], fresh):
        return Claimed(token)
    row = run(session, select(_TABLE).where(*where)).one()
    if row.request_fingerprint != fingerprint:
        return Refused("reused")
    if row.state == DONE:
        return StoredResponse(row.response_status, row.response_content_type or "",
                              row.response_body or "")
    if row.state == COMMITTED:
        return Refused("executed")
    # In progress: a live request, or one that died before writing (nothing committed,
    # so running it again is safe once its lease has ended).
    stale = [*where, _C.state == IN_PROGRESS, _C.claim_token == row.claim_token,
             _C.claimed_at <= now - lease]
    if _taken_over(session, stale, {"claim_token": token, "claimed_at": now}):
        return Claimed(token)
    return Refused("in_progress")


def fence(session: Session, *, owner: str, key: str, token: str) -> bool:
    """Mark the key committed inside the request's write transaction; False if the claim
    was lost (the caller must then not commit)."""
    result = run(session, update(_TABLE).where(
        _C.owner == owner, _C.key == key, _C.claim_token == token,
        _C.state.in_([IN_PROGRESS, COMMITTED])).values(state=COMMITTED))
    return result.rowcount == 1


def record(session: Session, *, owner: str, key: str, token: str,
           response: StoredResponse) -> None:
    run(session, update(_TABLE).where(_C.owner == owner, _C.key == key,
                                      _C.claim_token == token).values(
        state=DONE, response_status=response.status,
        response_content_type=response.content_type, response_body=response.body))


def release(session: Session, *, owner: str, key: str, token: str) -> None:
    """Forget a claim whose request wrote nothing (refused by validation, failed)."""
    run(session, delete(_TABLE).where(_C.owner == owner, _C.key == key,
                                      _C.claim_token == token, _C.state == IN_PROGRESS))


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete every key past its expiry (claims also forget an expired key lazily)."""
    return run(session, delete(_TABLE).where(_C.expires_at <= now)).rowcount


def _taken_over(session: Session, where: Sequence[ColumnElement[bool]],
                values: dict[str, Any]) -> bool:
    return run(session, update(_TABLE).where(*where).values(**values)).rowcount == 1
