"""Alembic migrations build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from adapters.db.migrate import alembic_config, upgrade
from adapters.db.tables import METADATA


def test_the_migrations_produce_the_schema_of_the_tables(engine: Engine) -> None:
    # Given a database migrated to head by `alembic upgrade head` (the database_url fixture)
    with engine.connect() as connection:
        # When Alembic compares it with the SQLModel metadata
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, METADATA)
    # Then there is nothing to migrate
    assert differences == []


def test_upgrading_an_up_to_date_database_changes_nothing(database_url: str,
                                                          engine: Engine) -> None:
    # Given a migrated database, when upgrade runs again
    upgrade(database_url)
    # Then it is still at the single head revision with every table
    with engine.connect() as connection:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert MigrationContext.configure(connection).get_current_revision() == head
        tables = set(inspect(connection).get_table_names())
    assert set(METADATA.tables) <= tables
