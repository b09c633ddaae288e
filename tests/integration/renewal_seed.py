"""Many subscriptions in a few statements (INSERT … SELECT generate_series), for the renewal
benchmark and the two-process renewal test: a million rows take seconds.

The first `due` subscriptions (ids `sub_00000001`…, one card account each) started on
1 February, were billed that day and are due on 1 March (`TODAY`): each invoice has a
recurring part, a minutes line from one call record and, for one in ten, a user added on
10 February (prorated). The others renew on 20 March.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

TODAY, STARTED, LATER = date(2026, 3, 1), date(2026, 2, 1), date(2026, 3, 20)

_ACCOUNTS = """
INSERT INTO accounts (id, name, language, currency, email, standing, method_type,
                      method_customer, method_ref, method_usable, method_details,
                      created_at, updated_at)
SELECT 'acc_' || n, 'Account ' || n, 'en', 'EUR', NULL, 'active', 'card', 'cus_' || n,
       'pm_card_visa', true, '{}', now(), now()
FROM generate_series(1, %(total)s) AS n
"""
#: Due ones (n <= due) started on 1 February, billed that day, next due 1 March.
_SUBSCRIPTIONS = """
INSERT INTO subscriptions (id, account_id, interval, currency, user_price_minor,
                           number_price_minor, minimum_users, minimum_numbers,
                           outbound_per_minute_minor, toll_free_per_minute_minor, started_on,
                           initial_users, initial_numbers, status, next_renewal_on,
                           billed_through, created_at, updated_at)
SELECT 'sub_' || lpad(n::text, 8, '0'), 'acc_' || n, 'monthly', 'EUR', 3000, 500, 1, 1, 2,
       NULL,
       CASE WHEN n <= %(due)s THEN CAST(%(started)s AS date) ELSE CAST(%(later)s AS date) END,
       3, 1, 'active',
       CASE WHEN n <= %(due)s THEN CAST(%(today)s AS date) ELSE CAST(%(later)s AS date) END,
       CASE WHEN n <= %(due)s THEN CAST(%(started)s AS date) ELSE NULL END, now(), now()
FROM generate_series(1, %(total)s) AS n
"""
_USAGE = """
INSERT INTO call_records (id, subscription_id, number, direction, destination, started_at,
                          duration_seconds, rate_prefix, invoice_id, received_at)
SELECT 'call_' || n, 'sub_' || lpad(n::text, 8, '0'), '+33100000000', 'outbound',
       '+33612345678', TIMESTAMPTZ '2026-02-15 10:00:00+00', (120 + n %% 60) * 60, '', NULL,
       now()
FROM generate_series(1, %(due)s) AS n
"""
_SEATS = """
INSERT INTO seat_changes (subscription_id, kind, delta, effective_on)
SELECT 'sub_' || lpad(n::text, 8, '0'), 'users', 1, DATE '2026-02-10'
FROM generate_series(10, %(due)s, 10) AS n
"""


def subscription_id(n: int) -> str:
    return f"sub_{n:08d}"


def seed(engine: Engine, *, total: int, due: int) -> None:
    """`total` subscriptions on PostgreSQL, the first `due` of them due on `TODAY`."""
    params = {"total": total, "due": due, "today": TODAY.isoformat(),
              "started": STARTED.isoformat(), "later": LATER.isoformat()}
    with engine.begin() as connection:
        for statement in (_ACCOUNTS, _SUBSCRIPTIONS, _USAGE, _SEATS):
            connection.exec_driver_sql(statement, params)
        # Only these tables: a bare ANALYZE takes in every schema of the database (other
        # runs' too) and can deadlock with a schema being dropped.
        connection.exec_driver_sql("ANALYZE accounts, subscriptions, call_records, seat_changes")
