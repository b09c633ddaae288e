"""Real databases for integration tests: SQLite and PostgreSQL, migrated with Alembic.

Each test run migrates one fresh SQLite file and one fresh PostgreSQL schema (a random name,
reached through `search_path`, dropped at the end), so repeated or concurrent runs never see
each other. Every test then starts from empty tables.

Fixtures: `database_url` (parametrized: sqlite, postgresql), `engine`, `uow_factory`, `clock`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from adapters.db.engine import create_engine, session_factory
from adapters.db.migrate import upgrade
from adapters.db.tables import METADATA
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def with_search_path(server_url: str, schema: str) -> str:
    """`server_url` with every connection's search_path set to `schema` (psycopg options)."""
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


class MigratedDatabases:
    """One migrated database per backend per test run, made on first use."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._urls: dict[str, str] = {}
        self._schemas: list[tuple[str, str]] = []

    def sqlite(self) -> str:
        if "sqlite" not in self._urls:
            url = f"sqlite:///{self._folder / 'paycollect.db'}"
            upgrade(url)
            self._urls["sqlite"] = url
        return self._urls["sqlite"]

    def postgresql(self, server_url: str) -> str:
        if "postgresql" not in self._urls:
            schema = f"paycollect_test_{secrets.token_hex(6)}"
            _execute(server_url, f'CREATE SCHEMA "{schema}"')
            self._schemas.append((server_url, schema))
            url = with_search_path(server_url, schema)
            upgrade(url)
            self._urls["postgresql"] = url
        return self._urls["postgresql"]

    def drop(self) -> None:
        for server_url, schema in self._schemas:
            _execute(server_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _execute(database_url: str, sql: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)
    finally:
        engine.dispose()


def clear_tables(engine: Engine) -> None:
    """Empty every table (children first) so each test starts from nothing."""
    tables = list(reversed(METADATA.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            return
        for table in tables:
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedDatabases]:
    databases = MigratedDatabases(tmp_path_factory.mktemp("db"))
    yield databases
    databases.drop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, migrated_databases: MigratedDatabases) -> str:
    """A migrated, empty database: SQLite, then PostgreSQL (skipped outside CI if absent)."""
    if request.param == "postgresql":
        url = migrated_databases.postgresql(request.getfixturevalue("postgres_url"))
    else:
        url = migrated_databases.sqlite()
    engine = create_engine(url, pool_size=1)
    try:
        clear_tables(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at_utc(2026, 3, 1, 9))


@pytest.fixture
def uow_factory(engine: Engine, clock: ManualClock) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(engine), clock=clock)


@pytest.fixture
def without_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable from the machine's environment (the HTTP tests set their own)."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
