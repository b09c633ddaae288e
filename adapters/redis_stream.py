"""Events for other systems on Redis streams (XADD), e.g. wire instructions for reconciliation.

Delivery is at least once: a retried publish adds a second entry, so every event carries an
`event_id` that consumers deduplicate on.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis
from redis.typing import EncodableT, FieldT

#: Keep roughly this many entries per stream (approximate trimming is O(1) for Redis).
DEFAULT_MAXLEN = 100_000


class RedisStreamPublisher:
    def __init__(self, *, client: redis.Redis, maxlen: int | None = DEFAULT_MAXLEN) -> None:
        self._client = client
        self._maxlen = maxlen

    @classmethod
    def from_url(cls, url: str, *, maxlen: int | None = DEFAULT_MAXLEN) -> RedisStreamPublisher:
        return cls(client=redis.Redis.from_url(url), maxlen=maxlen)

    def publish(self, *, stream: str, fields: Mapping[str, str]) -> str:
        """XADD `fields` (all strings: streams store bytes) to `stream`; returns the entry id."""
        entry: dict[FieldT, EncodableT] = dict(fields.items())
        entry_id = self._client.xadd(stream, entry, maxlen=self._maxlen,
                                     approximate=True)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
