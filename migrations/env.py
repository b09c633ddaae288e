"""Alembic environment: the target is the SQLModel metadata in adapters/db/tables.py.

The database comes from, in order: a connection handed over in `config.attributes`
(tests), `config.attributes["database_url"]` (adapters.db.migrate.upgrade), the
DATABASE_URL environment variable, then the embedded default.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from adapters.db.engine import DEFAULT_DATABASE_URL, create_engine
from adapters.db.tables import METADATA

config = context.config


def _database_url() -> str:
    return str(config.attributes.get("database_url")
               or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        compare_type=True,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=METADATA,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_database_url(), pool_size=1)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
