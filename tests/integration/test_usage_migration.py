"""Migration 0009: per-day usage not invoiced yet becomes call records; invoiced days go."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.db.engine import create_engine
from adapters.db.migrate import downgrade, upgrade
from tests.integration.conftest import BACKENDS, _execute, with_search_path

_ROWS = """
INSERT INTO accounts (id, name, language, currency, standing, method_type, method_usable,
                      method_details, created_at, updated_at)
VALUES ('acc', 'Acme', 'en', 'EUR', 'active', 'wire', true, '{}', :now, :now);
INSERT INTO subscriptions (id, account_id, interval, currency, user_price_minor,
                           number_price_minor, minimum_users, minimum_numbers, started_on,
                           initial_users, initial_numbers, status, next_renewal_on,
                           billed_through, created_at, updated_at)
VALUES ('sub', 'acc', 'monthly', 'EUR', 3000, 500, 0, 0, '2026-01-15', 1, 1, 'active',
        '2026-03-15', '2026-02-15', :now, :now);
INSERT INTO usage_records (subscription_id, used_on, outbound_minutes, toll_free_minutes)
VALUES ('sub', '2026-02-03', 120, 30), ('sub', '2026-02-20', 45, 0);
"""


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server = request.getfixturevalue("postgres_url")
    schema = f"paycollect_mig_{secrets.token_hex(4)}"
    _execute(server, f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(server, schema)
    finally:
        _execute(server, f'DROP SCHEMA "{schema}" CASCADE')


def test_usage_not_invoiced_yet_becomes_unbilled_calls_at_midnight_utc(fresh_url: str) -> None:
    # Given a database at 0007 billed through 2026-02-15, with usage before and after it
    upgrade(fresh_url, "0007")
    engine = create_engine(fresh_url, pool_size=1)
    try:
        with engine.begin() as connection:
            for statement in _ROWS.split(";"):
                if statement.strip():
                    connection.execute(text(statement), {"now": "2026-03-01 00:00:00"})
        # When it is migrated to 0009
        upgrade(fresh_url, "0009")
        with engine.connect() as connection:
            calls = connection.execute(text(
                "SELECT direction, duration_seconds, invoice_id FROM call_records "
                "ORDER BY direction")).all()
        # Then only the 45 minutes of 02-20 remain to bill, as one outbound call of 2,700 s
        assert [tuple(row) for row in calls] == [("outbound", 2700, None)]
        # And the downgrade to the revision before it (0008) puts the table back (empty)
        downgrade(fresh_url, "0008")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM usage_records")).scalar() == 0
    finally:
        engine.dispose()
