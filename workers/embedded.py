"""The embedded mode: dramatiq's in-process StubBroker with worker threads, running the very same
actors as the distributed mode. Used by `make demo`, `paycollect simulate` and the tests."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from adapters.broker import QUEUES


class EmbeddedWorker:
    """Worker threads consuming the stub broker's queues inside this process."""

    def __init__(self, broker: dramatiq.Broker, *, threads: int = 4) -> None:
        if not isinstance(broker, StubBroker):
            raise TypeError("the embedded worker runs on the in-process StubBroker only")
        self.broker = broker
        self._worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=50)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def drain(self, *, timeout_ms: int = 120_000) -> None:
        """Wait until every queue is empty, including work that enqueued more work.

        A failed message is dead-lettered (and logged), not raised: the database keeps its state
        and the sweeper re-drives it, exactly as in the distributed mode.
        """
        assert isinstance(self.broker, StubBroker)
        while True:
            for queue in QUEUES:
                self.broker.join(queue, timeout=timeout_ms, fail_fast=False)
            if all(self._idle(queue) for queue in QUEUES):
                return

    def _idle(self, queue: str) -> bool:
        assert isinstance(self.broker, StubBroker)
        return all(self.broker.queues[name].unfinished_tasks == 0
                   for name in (queue, f"{queue}.DQ"))

    def dead_letters(self) -> list[Any]:
        assert isinstance(self.broker, StubBroker)
        return list(self.broker.dead_letters)
