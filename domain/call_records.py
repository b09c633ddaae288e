"""Checking one call record as received (JSON object or CSV row) before it is stored.

Each record is checked alone, so one bad record is refused with its field and the rest of
its batch is still accepted. Whether its subscription exists is the caller's question (it
needs the database); everything else is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.rate_cards import E164
from domain.usage import CallRecord, Direction

#: The fields of a record, in the order of a CSV header.
FIELDS = ("id", "subscription", "number", "direction", "destination", "started_at",
          "duration_seconds")
#: Ids are the platform's; long enough for any UUID or composite key.
MAX_ID = 200
#: A call longer than a week is a platform bug, not a call.
MAX_DURATION_SECONDS = 7 * 24 * 3600
#: Calls outside these years are platform bugs (and would overflow some date arithmetic).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_YEAR = 2100
_DIRECTIONS = {direction.value: direction for direction in Direction}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a record was refused: its position in the batch (or file line), field, message."""

    index: int
    field: str
    message: str


def check_record(raw: Any, *, index: int, text_values: bool = False) -> CallRecord | Refusal:
    """The record as a CallRecord, or why not. `text_values`: every value is a string (CSV),
    so `duration_seconds` is read from its digits."""
    if not isinstance(raw, Mapping):
        return Refusal(index, "", "a record is an object with the fields " + ", ".join(FIELDS))
    texts: dict[str, str] = {}
    for name in FIELDS[:6]:
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            return Refusal(index, name, f"{name} is required (a non-empty string)")
        texts[name] = value
    for name in ("id", "subscription"):
        if len(texts[name]) > MAX_ID or not texts[name].isprintable():
            return Refusal(index, name, f"{name} has at most {MAX_ID} printable characters")
    for name in ("number", "destination"):
        if not E164.fullmatch(texts[name]):
            return Refusal(index, name, f"{name} must be an E.164 number (+ and up to 15 "
                                        f"digits), got {texts[name][:40]!r}")
    direction = _DIRECTIONS.get(texts["direction"])
    if direction is None:
        return Refusal(index, "direction", "direction is 'outbound' or 'inbound_toll_free'")
    started_at = _instant(texts["started_at"])
    if started_at is None:
        return Refusal(index, "started_at", "started_at is an ISO 8601 instant with its "
                                            "offset, e.g. 2026-02-03T09:15:00Z, from 2000 "
                                            f"to {LATEST_YEAR - 1}")
    duration = _seconds(raw.get("duration_seconds"), text_values)
    if duration is None:
        return Refusal(index, "duration_seconds", "duration_seconds is a whole number of "
                                                  f"seconds from 0 to {MAX_DURATION_SECONDS}")
    return CallRecord(id=texts["id"], subscription_id=texts["subscription"],
                      number=texts["number"], direction=direction,
                      destination=texts["destination"], started_at=started_at,
                      duration_seconds=duration)


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
        # Naive instants are billing bugs: which day a call belongs to depends on the offset.
        if value.utcoffset() is None:
            return None
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return value if EARLIEST.year <= value.year < LATEST_YEAR else None


def _seconds(value: Any, text_values: bool) -> int | None:
    if text_values and isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is not int or not 0 <= value <= MAX_DURATION_SECONDS:
        return None
    return value
