"""The engine and sessions for `DATABASE_URL`: SQLite (embedded default) or PostgreSQL.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout so concurrent
worker threads wait for the write lock instead of failing, and every transaction opened with
`BEGIN IMMEDIATE`: a transaction that reads then writes would otherwise fail with "database is
locked" when another thread committed in between (SQLite cannot upgrade a stale read lock).
PostgreSQL: psycopg 3, a pool sized for the worker threads, pre-ping to survive restarts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

#: The embedded default (workers/config.py uses the same).
DEFAULT_DATABASE_URL = "sqlite:///paycollect.db"
#: How long a SQLite writer waits for the lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

SessionFactory = Callable[[], Session]


def create_engine(database_url: str = DEFAULT_DATABASE_URL, *, pool_size: int = 10,
                  echo: bool = False) -> Engine:
    """An Engine for `database_url` (`sqlite:///path`, `sqlite://` in memory, or
    `postgresql+psycopg://user@host/db`).

    Parameters: `pool_size` is the number of connections kept open; size it to the worker
    threads of the process (a thread holds one connection per unit of work).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size=pool_size, echo=echo)
    if url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    engine = sa_create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                              # No ping per checkout (a round trip per unit of work): a dead
                              # connection fails its transaction, which the actor retries.
                              pool_pre_ping=False, pool_recycle=1800, echo=echo,
                              json_deserializer=json_from_postgres)
    event.listen(engine, "before_cursor_execute", _note_writes)
    return engine


_decode_json = json.JSONDecoder().decode


def json_from_postgres(data: bytes) -> Any:
    """A JSON(B) column's value as psycopg hands it over (bytes). Most stored documents are
    empty (payment-method details, invoice metadata, reversal refs): those skip the parser,
    and the rest skip `json.loads`' encoding sniffing (PostgreSQL sends UTF-8)."""
    if data == b"{}":
        return {}
    if data == b"[]":
        return []
    return _decode_json(data.decode())


def _sqlite_engine(url: URL, *, pool_size: int, echo: bool) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        # One shared connection, or every thread would see its own empty database.
        options["poolclass"] = StaticPool
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size)
    engine = sa_create_engine(url, echo=echo, **options)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    event.listen(engine, "before_cursor_execute", _note_writes)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see `begin`).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


#: Set on a connection's `info` when a statement that may write runs in its transaction.
WROTE = "paycollect.wrote"
_READS = re.compile(r"\s*(SELECT|BEGIN|SAVEPOINT|RELEASE|PRAGMA)\b", re.IGNORECASE)


def _note_writes(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    # Lets a unit of work that only read end with COMMIT rather than ROLLBACK: the same for
    # the data, but psycopg discards every prepared statement of the connection on a
    # rollback, so read-only units of work kept PostgreSQL re-planning every query.
    if not _READS.match(statement):
        connection.info[WROTE] = True


def session_factory(engine: Engine) -> SessionFactory:
    """Sessions bound to `engine`. Objects stay readable after commit (no lazy reloads)."""

    def new_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return new_session
