"""`paycollect dead-letters list|requeue` against a real Redis (dramatiq's own dead-letter keys)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from typer.testing import CliRunner, Result

from workers.cli import app
from workers.cli_support import OpsContext
from workers.config import Settings

pytestmark = pytest.mark.redis


#: Our own key prefix: other tests (and other people's runs) share this Redis database.
NAMESPACE = f"paycollect-test-{secrets.token_hex(4)}"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    keys = list(client.scan_iter(f"{NAMESPACE}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def dead_letter(client: redis.Redis, *, queue: str, actor: str, args: tuple[Any, ...]) -> str:
    """Enqueue a message and nack it, as a worker does when its retries are exhausted."""
    broker = RedisBroker(client=client, middleware=[], namespace=NAMESPACE)
    broker.declare_queue(queue)
    sent = broker.enqueue(dramatiq.Message(queue_name=queue, actor_name=actor, args=args,
                                           kwargs={}, options={"retries": 20,
                                                               "traceback": "Boom: provider down"}))
    consumer = broker.consume(queue, timeout=1000)
    message = next(consumer)
    assert message is not None
    consumer.nack(message)
    consumer.close()
    return str(sent.options["redis_message_id"])


def run(client: redis.Redis, redis_url: str, *args: str) -> Result:
    ctx = OpsContext(settings=Settings(redis_url=redis_url), redis_client=client,
                     dramatiq_namespace=NAMESPACE)
    return CliRunner().invoke(app, list(args), obj=ctx)


def test_dead_letters_list_shows_each_dead_message_with_its_actor_args_and_error(
        client: redis.Redis, redis_url: str) -> None:
    # Given a card collection that exhausted its retries
    dead_id = dead_letter(client, queue="card", actor="collect_card", args=("att_1",))
    # When the operator lists dead letters
    rows = json.loads(run(client, redis_url, "dead-letters", "list", "--json").output)
    # Then it is there with its queue, actor, args, retries and last error line
    assert [(r["id"], r["queue"], r["actor"], r["args"], r["retries"], r["error"])
            for r in rows] == [(dead_id, "card", "collect_card", ["att_1"], 20,
                                ["Boom: provider down"])]
    table = run(client, redis_url, "dead-letters", "list", "--queue", "card")
    assert table.exit_code == 0
    assert "collect_card" in table.output


def test_dead_letters_requeue_puts_the_message_back_with_its_retries_reset(
        client: redis.Redis, redis_url: str) -> None:
    # Given a dead reconcile message
    dead_id = dead_letter(client, queue="maintenance", actor="reconcile_attempt",
                          args=("att_2",))
    # When the operator re-queues it
    result = run(client, redis_url, "dead-letters", "requeue", dead_id)
    # Then it left the dead letters and is back on its queue with retries at 0
    assert result.exit_code == 0, result.output
    assert "1 message(s) re-queued" in result.output
    assert client.zcard(f"{NAMESPACE}:maintenance.XQ") == 0
    [data] = client.hvals(f"{NAMESPACE}:maintenance.msgs")
    message = dramatiq.Message.decode(data)
    assert (message.actor_name, message.args, message.options["retries"]) == (
        "reconcile_attempt", ("att_2",), 0)
    assert "traceback" not in message.options
    assert client.llen(f"{NAMESPACE}:maintenance") == 1


def test_dead_letters_requeue_all(client: redis.Redis, redis_url: str) -> None:
    dead_letter(client, queue="card", actor="collect_card", args=("a",))
    dead_letter(client, queue="wire", actor="publish_wire_instructions", args=("b",))
    result = run(client, redis_url, "dead-letters", "requeue", "--all", "--json")
    assert result.exit_code == 0
    assert sorted(r["queue"] for r in json.loads(result.output)) == ["card", "wire"]


def test_dead_letters_errors(client: redis.Redis, redis_url: str) -> None:
    unknown = run(client, redis_url, "dead-letters", "requeue", "nope")
    assert unknown.exit_code == 3
    assert "no dead letter nope" in unknown.stderr
    assert run(client, redis_url, "dead-letters", "requeue").exit_code == 2
    bad_queue = run(client, redis_url, "dead-letters", "list", "--queue", "cheques")
    assert bad_queue.exit_code == 2
    no_redis = CliRunner().invoke(app, ["dead-letters", "list"],
                                  obj=OpsContext(settings=Settings()))
    assert no_redis.exit_code == 6
    assert "REDIS_URL is not set" in no_redis.stderr
