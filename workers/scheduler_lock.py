"""A Redis lock so one scheduler replica ticks at a time: SET key token NX PX ttl.

The token makes release safe: a replica whose lock expired (a tick longer than the TTL) never
deletes the lock another replica took since. The TTL bounds how long a crashed replica blocks
the others. The lock only saves duplicate work; the database guarantees correctness.
"""

from __future__ import annotations

import secrets
from typing import Protocol

import redis

#: Delete the key only if it still holds our token (atomic in Redis).
_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
end
return 0
"""

LOCK_KEY = "paycollect:scheduler:tick"


class TickLock(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class RedisTickLock:
    def __init__(self, client: redis.Redis, *, ttl_ms: int, key: str = LOCK_KEY) -> None:
        self._client = client
        self._ttl_ms = ttl_ms
        self._key = key
        self._token = secrets.token_hex(16)

    @classmethod
    def from_url(cls, url: str, *, ttl_ms: int, key: str = LOCK_KEY) -> RedisTickLock:
        return cls(redis.Redis.from_url(url), ttl_ms=ttl_ms, key=key)

    def acquire(self) -> bool:
        return bool(self._client.set(self._key, self._token, nx=True, px=self._ttl_ms))

    def release(self) -> None:
        self._client.eval(_RELEASE, 1, self._key, self._token)

    def close(self) -> None:
        self._client.close()
