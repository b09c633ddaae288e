"""Renewal throughput, and how it scales with the number of subscriptions that are NOT due.

    python bench/renewals.py [--due 1000] [--totals 10000,100000] [--postgres URL]

For each total, on a fresh PostgreSQL schema: `due` subscriptions are due today, the rest
(bulk-inserted with one INSERT … SELECT generate_series) renew later. The scheduler's renewal
step (`workers.scheduler.renew_due`, batches of 200) then issues the due invoices. The due
query reads the `next_renewal_on` index, so the time should stay nearly flat when the
non-due rows grow tenfold: the ratio printed at the end should be close to 1.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.db.engine import create_engine, session_factory
from adapters.db.migrate import upgrade
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from tests.handlers.doubles import make_doubles
from tests.integration.conftest import with_search_path
from workers.scheduler import renew_due

TODAY = date(2026, 3, 1)
LATER = date(2026, 3, 20)

_ACCOUNTS = """
INSERT INTO accounts (id, name, language, currency, email, standing, method_type,
                      method_customer, method_ref, method_usable, method_details,
                      created_at, updated_at)
SELECT 'acc_' || n, 'Account ' || n, 'en', 'EUR', NULL, 'active', 'card', 'cus_' || n,
       'pm_card_visa', true, '{}', now(), now()
FROM generate_series(1, %(total)s) AS n
"""
_SUBSCRIPTIONS = """
INSERT INTO subscriptions (id, account_id, interval, currency, user_price_minor,
                           number_price_minor, minimum_users, minimum_numbers,
                           outbound_per_minute_minor, toll_free_per_minute_minor, started_on,
                           initial_users, initial_numbers, status, next_renewal_on,
                           billed_through, created_at, updated_at)
SELECT 'sub_' || n, 'acc_' || n, 'monthly', 'EUR', 3000, 500, 1, 1, 2, NULL,
       CASE WHEN n <= %(due)s THEN CAST(%(today)s AS date) ELSE CAST(%(later)s AS date) END,
       3, 1, 'active',
       CASE WHEN n <= %(due)s THEN CAST(%(today)s AS date) ELSE CAST(%(later)s AS date) END,
       NULL, now(), now()
FROM generate_series(1, %(total)s) AS n
"""


def _fresh_schema(server_url: str) -> tuple[str, str]:
    schema = f"paycollect_bench_{secrets.token_hex(4)}"
    engine = create_engine(server_url, pool_size=1)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    url = with_search_path(server_url, schema)
    upgrade(url)
    return schema, url


def _drop(server_url: str, schema: str) -> None:
    engine = create_engine(server_url, pool_size=1)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()


def measure(server_url: str, *, total: int, due: int) -> float:
    """Seconds to renew `due` subscriptions among `total`."""
    schema, url = _fresh_schema(server_url)
    engine = create_engine(url, pool_size=2)
    try:
        params = {"total": total, "due": due, "today": TODAY.isoformat(),
                  "later": LATER.isoformat()}
        with engine.begin() as connection:
            connection.exec_driver_sql(_ACCOUNTS, params)
            connection.exec_driver_sql(_SUBSCRIPTIONS, params)
            connection.exec_driver_sql("ANALYZE")
        clock = ManualClock(datetime(2026, 3, 1, 6, tzinfo=UTC))
        doubles = make_doubles(uow_factory=SqlUnitOfWorkFactory(session_factory(engine),
                                                                clock=clock), clock=clock)
        started = time.perf_counter()
        issued = renew_due(doubles.deps, as_of=TODAY, batch_size=200)
        elapsed = time.perf_counter() - started
        assert issued == due, f"issued {issued}, expected {due}"
        return elapsed
    finally:
        engine.dispose()
        _drop(server_url, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--totals", default="10000,100000")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    totals = [int(t) for t in args.totals.split(",")]
    measure(args.postgres, total=totals[0], due=min(100, args.due))  # warm-up, discarded
    times = {}
    for total in totals:
        seconds = measure(args.postgres, total=total, due=args.due)
        times[total] = seconds
        print(f"{args.due} due among {total:>7} subscriptions: {seconds:6.2f} s "
              f"({args.due / seconds:7.1f} renewals/s)")
    low, high = totals[0], totals[-1]
    print(f"ratio {high} / {low}: {times[high] / times[low]:.2f} (nearly flat is ~1)")


if __name__ == "__main__":
    main()
