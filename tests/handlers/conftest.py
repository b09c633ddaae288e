"""Handler tests: the real databases of tests/integration (SQLite and PostgreSQL), doubles of
our own ports (tests/handlers/doubles.py), and a ManualClock."""

from __future__ import annotations

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from tests.handlers.doubles import Doubles, make_doubles

# The database fixtures are shared with the repository tests: `database_url` runs each test on
# SQLite, then on PostgreSQL (skipped outside CI when PostgreSQL is not running).
from tests.integration.conftest import (  # noqa: F401
    clock,
    database_url,
    engine,
    migrated_databases,
    uow_factory,
)


@pytest.fixture
def doubles(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> Doubles:  # noqa: F811
    return make_doubles(uow_factory=uow_factory, clock=clock)
