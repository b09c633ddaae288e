"""A fresh PostgreSQL schema for tests that run worker processes against it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.db.engine import create_engine
from adapters.db.migrate import upgrade


@contextmanager
def fresh_postgres_schema(server_url: str) -> Iterator[str]:
    """A migrated schema with a random name; yields a URL whose search_path points at it."""
    schema = f"paycollect_e2e_{secrets.token_hex(5)}"
    admin = create_engine(server_url, pool_size=1)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    database_url = url.render_as_string(hide_password=False)
    try:
        upgrade(database_url)
        yield database_url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
