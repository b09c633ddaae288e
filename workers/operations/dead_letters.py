"""dramatiq's dead letters in Redis: messages that exhausted their retries.

dramatiq's Redis broker (dramatiq/brokers/redis/dispatch.lua) keeps them per queue in the
sorted set `<namespace>:<queue>.XQ` (redis message id → time it died, ms) and the hash
`<namespace>:<queue>.XQ.msgs` (redis message id → encoded message), for a week. Re-queueing
puts the message back on its queue with its retry count reset, then removes the dead copy
(in that order: a crash in between re-delivers twice, which idempotent actors absorb, rather
than losing the message).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from adapters.broker import QUEUES
from workers.operations.errors import BadArgument, NotFoundError

NAMESPACE = "dramatiq"


def _keys(queue: str, namespace: str) -> tuple[str, str]:
    xq = f"{namespace}:{queue}.XQ"
    return xq, f"{xq}.msgs"


def _queues(queue: str | None) -> Iterable[str]:
    if queue is None:
        return QUEUES
    if queue not in QUEUES:
        raise BadArgument(f"--queue: {queue!r} is not one of {', '.join(QUEUES)}")
    return (queue,)


def list_dead_letters(client: redis.Redis, *, queue: str | None = None,
                      namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Every dead message, oldest death first, across `queue` (default: all of ours)."""
    found: list[dict[str, Any]] = []
    for name in _queues(queue):
        xq, msgs = _keys(name, namespace)
        entries: list[tuple[bytes, float]] = client.zrange(  # type: ignore[assignment]
            xq, 0, -1, withscores=True)
        for redis_id, died_ms in entries:
            data = _bytes(client.hget(msgs, redis_id))
            if data is None:
                continue
            message = dramatiq.Message.decode(data)
            found.append(_row(name, _text(redis_id), float(died_ms), message))
    return sorted(found, key=lambda row: row["died_at"])


def _bytes(value: Any) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _row(queue: str, redis_id: str, died_ms: float,
         message: dramatiq.Message[Any]) -> dict[str, Any]:
    options = message.options
    return {"id": redis_id, "message_id": message.message_id, "queue": queue,
            "actor": message.actor_name, "args": list(message.args),
            "retries": options.get("retries", 0),
            "error": (options.get("traceback") or "").strip().splitlines()[-1:] or None,
            "died_at": datetime.fromtimestamp(died_ms / 1000, tz=UTC).isoformat()}


def requeue_dead_letters(client: redis.Redis, *, ids: Sequence[str] = (),
                         all_dead: bool = False, queue: str | None = None,
                         namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Put dead messages back on their queues with `retries` reset; returns what was moved.

    `ids` are the redis message ids or dramatiq message ids shown by `list_dead_letters`.
    Raises NotFoundError naming an id that is not a dead letter.
    """
    if bool(ids) == all_dead:
        raise BadArgument("give dead-letter ids or --all (one or the other)")
    dead = list_dead_letters(client, queue=queue, namespace=namespace)
    if not all_dead:
        wanted = set(ids)
        known = {row["id"] for row in dead} | {row["message_id"] for row in dead}
        missing = sorted(wanted - known)
        if missing:
            raise NotFoundError(f"no dead letter {', '.join(missing)}")
        dead = [row for row in dead if row["id"] in wanted or row["message_id"] in wanted]
    broker = RedisBroker(client=client, namespace=namespace,  # type: ignore[no-untyped-call]
                         middleware=[])
    moved = []
    for row in dead:
        xq, msgs = _keys(row["queue"], namespace)
        data = _bytes(client.hget(msgs, row["id"]))
        if data is None:
            continue  # someone re-queued it meanwhile
        message = dramatiq.Message.decode(data)
        options = {k: v for k, v in message.options.items()
                   if k not in ("retries", "traceback", "eta", "redis_message_id")}
        fresh = message.copy(queue_name=row["queue"], options={**options, "retries": 0})
        # copy() merges options; drop the dead copy's bookkeeping explicitly.
        for stale in ("traceback", "eta"):
            fresh.options.pop(stale, None)
        broker.enqueue(fresh)
        client.zrem(xq, row["id"])
        client.hdel(msgs, row["id"])
        moved.append(row)
    return moved
