"""Small SQL helpers shared by the repositories: savepoints, upserts, constraint names."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Collection, Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Executable, Index, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select
from sqlalchemy.sql.schema import ColumnCollectionConstraint
from sqlmodel import Session, SQLModel

_S = TypeVar("_S", bound=Select[Any])


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class (Core inserts skip ORM overhead)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # set by the metaclass


def run(session: Session, statement: Executable,
        params: dict[str, Any] | list[dict[str, Any]] | None = None,
        ) -> CursorResult[*tuple[Any, ...]]:
    """Execute a Core statement on the session's connection, inside its transaction.

    The repositories read and write plain rows, never ORM entities: this skips the ORM's
    execution path and identity map, which cost more than the round trip on hot paths.
    """
    return session.connection().execute(statement, params)


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for the batch reads: on PostgreSQL `column = ANY(:array)`, one
    parameter whatever the count, so the statement's text stays the same and short (psycopg
    parses a long text anew on every execution: 500 placeholders cost more than the query)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[bool], column == any_(
            bindparam(None, list(values), type_=ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(list(values)))


def fresh(statement: _S) -> _S:
    """Overwrite identity-map objects with what the database says now.

    The repositories write through Core UPDATEs and other transactions write too; without
    this a second read in the same session would return the first read's stale attributes.
    """
    return statement.execution_options(populate_existing=True)


def insert(session: Session, table: Table, values: dict[str, Any]) -> None:
    """INSERT one row. Values go in as parameters, not into the statement: the statement is
    then the same every time and SQLAlchemy compiles it once (much faster in hot paths)."""
    run(session, table.insert(), values)


def insert_unless_exists(session: Session, table: Table, values: dict[str, Any],
                         *, conflict_on: Sequence[str] | None = None) -> bool:
    """INSERT … ON CONFLICT [(conflict_on)] DO NOTHING; True when the row was inserted.

    No error is raised and the transaction is not aborted when the row exists. Without
    `conflict_on`, a clash with any unique constraint or index counts (no savepoint needed,
    which saves two round trips in hot paths); other errors (foreign keys…) still raise.
    """
    statement = _insert_unless_exists(session.get_bind().dialect.name, table,
                                      None if conflict_on is None else tuple(conflict_on))
    return run(session, statement, values).first() is not None


def insert_many_unless_exists(session: Session, table: Table,
                              rows: Sequence[dict[str, Any]]) -> list[Any]:
    """`insert_unless_exists` for many rows: the primary keys of those inserted. Run as one
    executemany of the cached statement, which SQLAlchemy sends as multi-row INSERTs
    ("insertmanyvalues"); a `.values([...])` statement is compiled anew for every batch,
    which cost more than the insert (48 ms for 50 attempts)."""
    if not rows:
        return []
    statement = _insert_unless_exists(session.get_bind().dialect.name, table, None)
    return list(run(session, statement, list(rows)).scalars())


@functools.cache
def _insert_unless_exists(dialect: str, table: Table,
                          conflict_on: tuple[str, ...] | None) -> Executable:
    # Built once per table: building and hashing the statement costs more than running it.
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return (build(table)
            .on_conflict_do_nothing(index_elements=None if conflict_on is None
                                    else list(conflict_on))
            # rowcount is unreliable with RETURNING (PostgreSQL adds it for serial keys).
            .returning(*table.primary_key.columns))


def violates(error: IntegrityError, constraint: Index | ColumnCollectionConstraint) -> bool:
    """Whether `error` is a violation of `constraint` (by name on PostgreSQL; SQLite only
    names the columns: "UNIQUE constraint failed: table.col1, table.col2")."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:
        return bool(getattr(diag, "constraint_name", None) == constraint.name)
    table = cast(Table, constraint.table)
    columns = ", ".join(f"{table.name}.{column.name}" for column in constraint.columns)
    return str(error.orig).endswith(f"UNIQUE constraint failed: {columns}")


@contextlib.contextmanager
def unique_or(error: Exception | None, *, table: Table, index: str) -> Iterator[None]:
    """Raise `error` instead of the IntegrityError when the statement in the block violates
    the unique `index` (None: the row has no value there, so it cannot be the cause)."""
    try:
        yield
    except IntegrityError as integrity:
        if error is not None and violates(integrity, unique_index(table, index)):
            raise error from None
        raise


def unique_index(table: Table, name: str) -> Index:
    for index in table.indexes:
        if index.name == name:
            return index
    raise LookupError(f"{table.name} has no index {name}")
