"""Two renewal processes (real OS processes, each with its own engine and connections) over
one burst of 20,000 due subscriptions on PostgreSQL: each invoice is issued once, and the
invoice numbers have no gap and no duplicate."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from adapters.db.engine import create_engine, session_factory
from adapters.db.migrate import upgrade
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from tests.integration.conftest import with_search_path
from tests.integration.processes import race
from tests.integration.renewal_seed import TODAY, seed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DUE = 20_000


def _renew_in_a_process(url: str, start: multiprocessing.synchronize.Event,
                        issued: multiprocessing.Queue[int]) -> None:
    # Imported in the child: a spawned process starts from a fresh interpreter.
    from tests.handlers.doubles import make_doubles
    from workers.scheduler import renew_due

    engine = create_engine(url, pool_size=2)
    try:
        clock = ManualClock(datetime(2026, 3, 1, 6, tzinfo=UTC))
        deps = make_doubles(uow_factory=SqlUnitOfWorkFactory(session_factory(engine),
                                                             clock=clock), clock=clock).deps
        start.wait(timeout=120)
        issued.put(renew_due(deps, as_of=TODAY, batch_size=500))
    finally:
        engine.dispose()


@pytest.fixture
def burst_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema with 20,000 subscriptions due (and 2,000 not), dropped afterwards."""
    schema = f"paycollect_burst_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, pool_size=1)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = with_search_path(postgres_url, schema)
    try:
        upgrade(url)
        engine = create_engine(url, pool_size=1)
        seed(engine, total=DUE + 2_000, due=DUE)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_two_renewal_processes_over_one_burst_issue_each_invoice_once_with_gapless_numbers(
        burst_url: str) -> None:
    # Given 20,000 due subscriptions
    # When two renewal processes started at the same instant renew the burst
    counts = race(_renew_in_a_process, burst_url, timeout=600)

    # Then both ended well and, between them, issued one invoice per due subscription
    assert sum(counts) == DUE
    engine = create_engine(burst_url, pool_size=1)
    try:
        with engine.connect() as connection:
            invoices, periods, numbers, low, high = connection.execute(text(
                "SELECT count(*), count(DISTINCT (subscription_id, kind, period_start)),"
                " count(DISTINCT number), min(number), max(number) FROM invoices")).one()
            debits = connection.execute(text(
                "SELECT count(DISTINCT invoice_id) FROM ledger_entries")).scalar_one()
            counter = connection.execute(text(
                "SELECT last_value FROM invoice_sequences WHERE issuer = 'PC'")).scalar_one()
            still_due = connection.execute(text(
                "SELECT count(*) FROM subscriptions WHERE next_renewal_on <= :today"),
                {"today": TODAY}).scalar_one()
    finally:
        engine.dispose()
    assert (invoices, periods, debits, still_due) == (DUE, DUE, DUE, 0)
    # and the numbers are PC-2026-000001 … PC-2026-020000: contiguous, none twice
    assert (numbers, low, high, counter) == (DUE, "PC-2026-000001", "PC-2026-020000", DUE)
