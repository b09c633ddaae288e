"""Cursor pagination shared by the list endpoints: `limit` and `starting_after`.

A page holds at most `limit` items after the one whose cursor is `starting_after`;
`next_starting_after` is the cursor to ask for the next page (None on the last one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from workers.api.errors import Invalid

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]


class Page(BaseModel, Generic[M]):
    data: list[M]
    has_more: bool
    next_starting_after: str | None = None


def page_of(items: Sequence[T], *, cursor: Callable[[T], str], limit: int,
            starting_after: str | None) -> tuple[list[T], bool, str | None]:
    """The page of `items` (already in their order), whether more follow, the next cursor.

    Raises Invalid (field starting_after) for a cursor that names no item.
    """
    start = 0
    if starting_after is not None:
        cursors = [cursor(item) for item in items]
        if starting_after not in cursors:
            raise Invalid(f"starting_after {starting_after!r} names no item of this list",
                          field="starting_after")
        start = cursors.index(starting_after) + 1
    page = list(items[start:start + limit])
    has_more = start + limit < len(items)
    return page, has_more, cursor(page[-1]) if has_more and page else None
