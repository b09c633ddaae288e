"""The collect and route messages the actors' dispatcher sends: batches capped at
COLLECT_BATCH_SIZE ids, and a single attempt as a bare id, which the previous release's
workers read too (a rolling deploy)."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from adapters.broker import QUEUES


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    import workers.actors as actors

    previous = actors.route_invoice.broker
    stub = StubBroker()
    for queue in QUEUES:
        stub.declare_queue(queue)
    actors.rebind(stub)
    try:
        yield stub
    finally:
        actors.rebind(previous)


def _sent(broker: StubBroker, queue: str) -> list[tuple[str, tuple[object, ...]]]:
    messages = []
    while not broker.queues[queue].empty():
        message = dramatiq.Message.decode(broker.queues[queue].get_nowait())
        messages.append((message.actor_name, tuple(message.args)))
    return messages


def test_attempts_are_sent_in_batches_of_at_most_the_batch_size(broker: StubBroker) -> None:
    from workers.actors import ActorDispatcher

    ActorDispatcher(batch_size=2).collect_many(["a1", "a2", "a3"], "card")
    ActorDispatcher(batch_size=2).collect_many(["d1", "d2"], "direct_debit")

    assert _sent(broker, "card") == [("collect_card", (["a1", "a2"],)),
                                     ("collect_card", (["a3"],))]
    assert _sent(broker, "direct_debit") == [("collect_direct_debit", (["d1", "d2"],))]


def test_a_single_attempt_is_sent_as_a_bare_id(broker: StubBroker) -> None:
    from workers.actors import ActorDispatcher

    ActorDispatcher().collect_many(["a1"], "card")
    ActorDispatcher().collect("w1", "wire")

    assert _sent(broker, "card") == [("collect_card", ("a1",))]
    assert _sent(broker, "wire") == [("publish_wire_instructions", ("w1",))]


def test_invoices_are_routed_in_batches_of_at_most_the_batch_size(broker: StubBroker) -> None:
    from workers.actors import ActorDispatcher

    ActorDispatcher(batch_size=3).route_many([f"inv_{n}" for n in range(7)])

    assert [len(args[0]) for actor, args in _sent(broker, "invoices")
            if actor == "route_invoices"] == [3, 3, 1]
