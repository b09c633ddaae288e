"""Call records in: checked one by one, stored once by id, rated by the subscription's card.

The same path for the API (`POST /v1/usage`), the CLI (`paycollect usage import`) and the
scenario runner's `usage` events: a bad record is refused with its index and field and the
rest of the batch is stored; a record already stored (same id) is counted as a duplicate and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.call_records import Refusal, check_record
from domain.ports import UnitOfWork
from domain.rate_cards import longest_prefix
from domain.usage import CallRecord, Direction

#: The most records one batch may hold (API and CLI chunks alike).
MAX_BATCH = 10_000


@dataclass
class IngestResult:
    accepted: int = 0
    new: int = 0
    duplicates: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.new += other.new
        self.duplicates += other.duplicates
        self.refused += other.refused


def check_batch(raws: Sequence[Any], *, first_index: int = 0, text_values: bool = False
                ) -> tuple[list[tuple[int, CallRecord]], list[Refusal]]:
    """Each raw record checked alone: the good ones with their index, and the refusals."""
    good: list[tuple[int, CallRecord]] = []
    refused: list[Refusal] = []
    for offset, raw in enumerate(raws):
        checked = check_record(raw, index=first_index + offset, text_values=text_values)
        if isinstance(checked, Refusal):
            refused.append(checked)
        else:
            good.append((first_index + offset, checked))
    return good, refused


def store_calls(uow: UnitOfWork, *, records: Sequence[tuple[int, CallRecord]],
                now: datetime) -> IngestResult:
    """Store checked records in the caller's unit of work (the caller commits).

    Records of an unknown subscription are refused (field `subscription`); the others are
    rated by their subscription's card (the prefix that prices them) and inserted unless
    their id is already stored.
    """
    wanted = sorted({record.subscription_id for _, record in records})
    known = uow.call_records.lock_subscriptions(subscription_ids=wanted)
    prefixes_of = uow.rate_cards.prefixes_for(subscription_ids=[s for s in wanted if s in known])
    result = IngestResult()
    accepted: list[CallRecord] = []
    prefixes: list[str] = []
    for index, record in records:
        if record.subscription_id not in known:
            result.refused.append(Refusal(index, "subscription", "unknown subscription "
                                                                 f"{record.subscription_id!r}"))
            continue
        card_prefixes = prefixes_of.get(record.subscription_id)
        outbound = record.direction is Direction.OUTBOUND
        prefixes.append(longest_prefix(record.destination, card_prefixes)
                        if card_prefixes and outbound else "")
        accepted.append(record)
    result.accepted = len(accepted)
    result.new = uow.call_records.add_many(records=accepted, rate_prefixes=prefixes,
                                           received_at=now)
    result.duplicates = result.accepted - result.new
    return result


def ingest(uow: UnitOfWork, *, raws: Sequence[Any], now: datetime, first_index: int = 0,
           text_values: bool = False) -> IngestResult:
    """Check and store one batch (the caller commits); refusals sorted by index."""
    good, refused = check_batch(raws, first_index=first_index, text_values=text_values)
    result = store_calls(uow, records=good, now=now)
    result.refused = sorted([*refused, *result.refused], key=lambda r: r.index)
    return result
