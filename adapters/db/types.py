"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Dialect, Integer
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC, always read back aware (UTC).

    PostgreSQL keeps `timestamptz`; SQLite has no time zones and would hand back naive values,
    so this type normalises on the way in and re-attaches UTC on the way out. Naive datetimes
    are refused: they are billing bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: An auto-incrementing 64-bit key; SQLite only auto-increments a column typed INTEGER.
BIGINT_PK: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
