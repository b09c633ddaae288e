"""Customer messages leave the outbox through the real actors: the collection scenario in the
embedded mode (stub broker, worker threads), every queued message sent once by drains."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.e2e.support import EXAMPLES
from workers.simulate.runner import run_scenario
from workers.simulate.scenario import load_scenario


def test_every_message_the_collection_scenario_queues_is_sent(tmp_path: Path) -> None:
    # Given the collection scenario (receipts, decline notices, a new-card request, wire
    # instructions) replayed on a database we keep
    url = f"sqlite:///{tmp_path / 'collection.db'}"
    run_scenario(load_scenario(EXAMPLES / "collection.json"), database_url=url)
    # Then every message it queued was sent, once (one try each: nothing failed)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            queued, sent, tries, kinds = connection.execute(text(
                "SELECT count(*), count(sent_at), sum(attempts), count(DISTINCT kind) "
                "FROM notifications")).one()
    finally:
        engine.dispose()
    assert queued > 0
    assert kinds > 1
    assert sent == queued
    assert tries == queued
