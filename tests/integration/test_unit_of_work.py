"""The unit of work: committed work stays, uncommitted work never lands."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from adapters.db.engine import create_engine, json_from_postgres, session_factory
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import Standing
from tests.builders import a_subscription, an_account, an_invoice


def test_work_left_without_commit_is_rolled_back(uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given a unit of work that adds an account but never commits
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
    # When another unit of work looks
    with uow_factory() as uow:
        # Then there is nothing
        assert uow.accounts.get(account_id="acc_1") is None


def test_an_exception_rolls_back_and_keeps_what_was_committed_before(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given a committed account
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.commit()
    # When a later unit of work changes it and fails before committing
    def fail_half_way() -> None:
        with uow_factory() as uow:
            uow.accounts.update_standing(account_id="acc_1", standing=Standing.TERMINATED)
            uow.accounts.add(account=an_account(id="acc_2"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_half_way()
    # Then the committed account is intact and nothing of the failed work landed
    with uow_factory() as uow:
        assert uow.accounts.get(account_id="acc_1") == an_account()
        assert uow.accounts.get(account_id="acc_2") is None


def test_an_explicit_rollback_discards_only_work_since_the_last_commit(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.commit()
        uow.accounts.add(account=an_account(id="acc_2"))
        uow.rollback()
        assert [a.id for a in uow.accounts.list()] == ["acc_1"]


def test_repositories_are_not_usable_outside_the_block(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError, match="not open"):
        uow.commit()


def test_concurrent_workers_get_gapless_invoice_numbers(uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given eight worker threads each issuing 25 numbers, one transaction per number
    def issue() -> list[int]:
        numbers = []
        for _ in range(25):
            with uow_factory() as uow:
                numbers.append(uow.invoices.next_sequence(issuer="PC", year=2026))
                uow.commit()
        return numbers

    # When they run at once (SQLite: BEGIN IMMEDIATE + busy timeout; PostgreSQL: row lock)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [number for batch in pool.map(lambda _: issue(), range(8)) for number in batch]
    # Then no transaction failed and the numbers are exactly 1..200
    assert sorted(results) == list(range(1, 201))


# PostgreSQL only: SQLite locks the whole database instead (BEGIN IMMEDIATE), tested above.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_get_for_update_locks_the_invoice_until_commit(uow_factory: SqlUnitOfWorkFactory,
                                                       engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=a_subscription())
        uow.invoices.add_with_lines(invoice=an_invoice())
        uow.commit()
    # Given a unit of work holding the invoice for update
    with uow_factory() as uow:
        uow.invoices.get_for_update(invoice_id="inv_1")
        # When another connection tries to lock it without waiting
        # Then it cannot
        with engine.connect() as other, pytest.raises(OperationalError, match="lock"):
            other.execute(text("SELECT id FROM invoices WHERE id = 'inv_1' FOR UPDATE NOWAIT"))


def test_a_unit_of_work_that_only_read_keeps_the_connections_prepared_statements(
        database_url: str) -> None:
    # Given one pooled connection, and the same read done in ten read-only units of work
    engine = create_engine(database_url, pool_size=1)
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    try:
        with factory() as uow:
            uow.accounts.add(account=an_account())
            uow.commit()
        for _ in range(10):
            with factory() as uow:
                assert uow.accounts.get(account_id="acc_1") is not None
        # Then the driver still holds the read prepared (psycopg prepares a statement on its
        # fifth use; a ROLLBACK would have deallocated all of them), and reads and writes
        # still behave: a write left without commit is discarded
        with factory() as uow:
            if engine.dialect.name == "postgresql":
                prepared = uow.session.execute(text(
                    "SELECT count(*) FROM pg_prepared_statements "
                    "WHERE statement LIKE '%FROM accounts%'")).scalar_one()
                assert prepared >= 1
            uow.accounts.update_standing(account_id="acc_1", standing=Standing.TERMINATED)
        with factory() as uow:
            account = uow.accounts.get(account_id="acc_1")
            assert account is not None
            assert account.standing is Standing.ACTIVE
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_json_documents_read_back_as_stored(engine: Engine) -> None:
    # Given JSON and JSONB values, empty and not, with text beyond ASCII
    documents = ["{}", "[]", '{"a": [1, 2.5, null, true], "b": "Zoë €"}', '["x"]', '"s"',
                 "0", "null"]
    assert engine.dialect._json_deserializer is json_from_postgres  # type: ignore[attr-defined]
    with engine.connect() as connection:
        for kind in ("json", "jsonb"):
            # When PostgreSQL sends them back through the engine's driver
            read = [connection.execute(text(f"SELECT CAST(:doc AS {kind})"),
                                       {"doc": doc}).scalar_one() for doc in documents]
            # Then each is the value json.loads makes of it, and an empty one is a new
            # object each time (a caller may fill it)
            assert read == [json.loads(doc) for doc in documents]
            first = connection.execute(text(f"SELECT CAST('{{}}' AS {kind})")).scalar_one()
            first["filled"] = True
            assert connection.execute(text(f"SELECT CAST('{{}}' AS {kind})")).scalar_one() == {}
