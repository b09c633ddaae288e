"""Schema migrations (Alembic), callable from code: `paycollect db upgrade` runs `upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

#: The repository's migrations folder (next to alembic.ini). An installed package (the
#: container image) finds it in the working directory instead, where the image copies it.
_CANDIDATES = (Path(__file__).resolve().parents[2] / "migrations", Path.cwd() / "migrations")
MIGRATIONS = next((path for path in _CANDIDATES if (path / "env.py").exists()), _CANDIDATES[0])


def alembic_config(database_url: str | None = None, *,
                   connection: Connection | None = None) -> Config:
    """An Alembic Config for `database_url` (None: migrations/env.py reads DATABASE_URL).

    The URL travels in `attributes`, not the ini options, so a `%` in a password or in
    connection options is not taken for ini interpolation.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at `database_url` to `revision` (default: the latest)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
