"""Small SQL helpers shared by the repositories: savepoints, upserts, constraint names, and
writes held back to be sent together (`run_later`)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Index,
    Table,
    any_,
    bindparam,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
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
    Writes held back by `run_later` are sent first, so every statement sees them.
    """
    send_held(session)
    return session.connection().execute(statement, params)


#: `session.info` key of the writes `run_later` holds back.
_HELD = "paycollect.held"


class HeldWriteMissed(RuntimeError):
    """A held UPDATE that had to touch one row per parameter set touched fewer."""


class HeldWriteFailed(RuntimeError):
    """A held write raised when it was sent. Not an IntegrityError on purpose: a caller that
    recovers from its own statement's constraint error must not swallow this one (the held
    writes after it are not sent), so the transaction fails as a whole."""


@dataclass
class _Statement:
    statement: Executable
    rows: list[dict[str, Any]] = field(default_factory=list)
    one_each: bool = False
    #: Told, once sent, the keys `find` finds after the write and not before it.
    told: list[Callable[[set[Any]], None]] = field(default_factory=list)
    find: Callable[[list[dict[str, Any]]], set[Any]] | None = None


@dataclass
class _Held:
    #: By statement, in the order first held: each is sent as one executemany.
    statements: dict[int, _Statement] = field(default_factory=dict)
    #: The row each held write touches, and by which statement: a second statement on the
    #: same row sends what is held first, so writes to one row keep their order.
    rows: dict[Hashable, int] = field(default_factory=dict)


def run_later(session: Session, statement: Executable, params: dict[str, Any], *,
              row: Hashable, one_each: bool = False,
              told: Callable[[set[Any]], None] | None = None,
              find: Callable[[list[dict[str, Any]]], set[Any]] | None = None) -> None:
    """Hold a write back until the session's next statement or commit, then send it with
    the others of the same statement as one executemany (which psycopg pipelines and
    SQLAlchemy runs in one execution context). For writes nobody reads the result of now:
    a batch of 50 outcomes makes 4 statements of its 200 updates and inserts.

    `statement` must be one object reused (a module constant or cached), `row` names what it
    writes (table, id). `one_each`: an UPDATE of a row the caller holds locked, so it must
    touch one row; fewer raise HeldWriteMissed when sent. `told(new)`: called when sent
    with the keys of its statement's rows that `find(rows)` finds after the write and did
    not before it (the rows it inserted).
    Open savepoints with `savepoint`, which sends what is held first."""
    held: _Held = session.info.setdefault(_HELD, _Held())
    key = id(statement)
    if held.rows.get(row, key) != key:
        send_held(session)
        held = session.info.setdefault(_HELD, _Held())
    one = held.statements.setdefault(key, _Statement(statement, one_each=one_each, find=find))
    if one.rows and params.keys() != one.rows[0].keys():
        # An executemany is compiled from its first parameter set: other keys would be lost.
        raise ValueError(f"held parameters {sorted(params)} differ from "
                         f"{sorted(one.rows[0])} for the same statement")
    one.rows.append(params)
    if told is not None:
        one.told.append(told)
    held.rows[row] = key


def send_held(session: OrmSession) -> None:
    """Send the writes `run_later` holds (the unit of work calls it before committing)."""
    held: _Held | None = session.info.pop(_HELD, None)
    if held is None:
        return
    connection = session.connection()
    for one in held.statements.values():
        # Rows whose keys were there before the insert were not inserted by it.
        before = one.find(one.rows) if one.told and one.find is not None else set()
        try:
            result = connection.execute(one.statement, one.rows)
        except Exception as error:
            raise HeldWriteFailed(f"{len(one.rows)} held writes failed: {error}") from error
        if one.one_each and result.rowcount != len(one.rows):
            raise HeldWriteMissed(f"{len(one.rows)} held updates touched {result.rowcount} "
                                  f"rows: {one.statement}")
        if one.told and one.find is not None:
            inserted = one.find(one.rows) - before
            for tell in one.told:
                tell(inserted)


def drop_held(session: OrmSession) -> None:
    """Forget the held writes (the transaction is rolled back)."""
    session.info.pop(_HELD, None)


@contextlib.contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """`session.begin_nested()`, the held writes sent first: sent inside the savepoint, a
    rollback to it would undo them after they had left the queue (lost, silently)."""
    send_held(session)
    with session.begin_nested():
        yield


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for the batch reads: on PostgreSQL `column = ANY(:array)`, one
    parameter whatever the count, so the statement's text stays the same and short (psycopg
    parses a long text anew on every execution: 500 placeholders cost more than the query)."""
    if dialect_of(session) == "postgresql":
        return cast(ColumnElement[bool], column == any_(
            bindparam(None, list(values), type_=ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(list(values)))


def among_param(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """`among` for a statement built once per dialect, the list given as the parameter
    `name` when it runs: on PostgreSQL `column = ANY(:name)`, one array parameter. An
    expanding IN of a batch's 50 ids makes the statement's text change with the batch's
    size and carry 50 parameters, past what psycopg caches the parsing of (its text is
    split anew on every execution) and what PostgreSQL can keep prepared."""
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(name, type_=ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


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
    statement = _insert_unless_exists(dialect_of(session), table,
                                      None if conflict_on is None else tuple(conflict_on))
    return run(session, statement, values).first() is not None


def insert_many_unless_exists(session: Session, table: Table,
                              rows: Sequence[dict[str, Any]]) -> list[Any]:
    """`insert_unless_exists` for many rows with new primary keys (fresh ids: a key another
    transaction commits meanwhile would read as inserted here): the keys of those inserted.

    One executemany of the cached statement without RETURNING, which psycopg sends
    pipelined as one prepared statement, between two reads of which keys are there. With
    RETURNING, SQLAlchemy sends a batch as one multi-row INSERT ("insertmanyvalues") whose
    text psycopg parses anew every time (over 50 parameters it caches none): that parse
    cost more than the insert."""
    if not rows:
        return []
    key = _key_of(table)
    keys = [row[key] for row in rows]
    before = _present(session, table, keys)
    run(session, _insert_unless_exists(dialect_of(session), table, None, returning=False),
        list(rows))
    return sorted(_present(session, table, keys) - before)


def _key_of(table: Table) -> str:
    [key] = [column.name for column in table.primary_key.columns]
    return key


def _present(session: Session, table: Table, keys: Sequence[Any]) -> set[Any]:
    column = table.c[_key_of(table)]
    return set(run(session, select(column).where(among(session, column, keys))).scalars())


def insert_later_unless_exists(session: Session, table: Table, values: dict[str, Any], *,
                               conflict_on: Sequence[str],
                               inserted: Callable[[bool], None]) -> None:
    """`insert_unless_exists` of a row with a new primary key (a fresh id, as for
    `insert_many_unless_exists`), held back (`run_later`): `inserted(True/False)` is
    called when it is sent, before the commit."""
    statement = _insert_unless_exists(dialect_of(session), table, tuple(conflict_on),
                                      returning=False)
    key = _key_of(table)
    run_later(session, statement, values, row=(table.name, values[key]),
              told=lambda new: inserted(values[key] in new),
              find=lambda rows: _present(session, table, [row[key] for row in rows]))


@functools.cache
def _insert_unless_exists(dialect: str, table: Table, conflict_on: tuple[str, ...] | None,
                          *, returning: bool = True) -> Executable:
    # Built once per table: building and hashing the statement costs more than running it.
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = build(table).on_conflict_do_nothing(
        index_elements=None if conflict_on is None else list(conflict_on))
    # rowcount is unreliable with RETURNING (PostgreSQL adds it for serial keys).
    return statement.returning(*table.primary_key.columns) if returning else statement


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
