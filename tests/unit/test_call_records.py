"""Checking one call record as received: each refusal names its field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.call_records import Refusal, check_record
from domain.usage import CallRecord, Direction

GOOD: dict[str, Any] = {"id": "c1", "subscription": "sub_1", "number": "+33198765432",
                        "direction": "outbound", "destination": "+33612345678",
                        "started_at": "2026-03-02T10:00:00+01:00", "duration_seconds": 61}


def test_a_good_record_becomes_a_call_record_with_an_aware_start() -> None:
    assert check_record(GOOD, index=0) == CallRecord(
        "c1", "sub_1", "+33198765432", Direction.OUTBOUND, "+33612345678",
        datetime(2026, 3, 2, 9, tzinfo=UTC), 61)


@pytest.mark.parametrize(("change", "field"), [
    ({"id": ""}, "id"),
    ({"id": "x" * 201}, "id"),
    ({"subscription": None}, "subscription"),
    ({"number": "0198765432"}, "number"),
    ({"direction": "inbound"}, "direction"),
    ({"destination": "+0612"}, "destination"),
    ({"started_at": "2026-03-02T10:00:00"}, "started_at"),   # naive: refused
    ({"started_at": "yesterday"}, "started_at"),
    ({"started_at": "0001-01-01T00:00:00+14:00"}, "started_at"),  # would overflow in UTC
    ({"started_at": "2200-01-01T00:00:00Z"}, "started_at"),
    ({"id": "c\x00"}, "id"),
    ({"subscription": "sub\n1"}, "subscription"),
    ({"duration_seconds": -1}, "duration_seconds"),
    ({"duration_seconds": 1.5}, "duration_seconds"),
    ({"duration_seconds": True}, "duration_seconds"),
    ({"duration_seconds": "61"}, "duration_seconds"),       # JSON: a string is not a number
])
def test_a_bad_field_is_refused_by_name(change: dict[str, Any], field: str) -> None:
    checked = check_record({**GOOD, **change}, index=7)
    assert isinstance(checked, Refusal)
    assert (checked.index, checked.field) == (7, field)


def test_csv_values_are_all_text() -> None:
    checked = check_record({**GOOD, "duration_seconds": "61"}, index=0, text_values=True)
    assert isinstance(checked, CallRecord)
    assert checked.duration_seconds == 61


def test_a_record_that_is_not_an_object_is_refused() -> None:
    checked = check_record(["c1"], index=2)
    assert isinstance(checked, Refusal)
    assert (checked.index, checked.field) == (2, "")
