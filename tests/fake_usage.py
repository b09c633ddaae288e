"""In-memory call records and rate cards for `tests.fakes.FakeUnitOfWork`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.rate_cards import RateCard
from domain.usage import CallRecord, ClassUsage, Direction, started_minutes


@dataclass(frozen=True)
class StoredCall:
    record: CallRecord
    rate_prefix: str
    invoice_id: str | None = None


class FakeCallRecordRepository:
    def __init__(self, calls: dict[str, StoredCall], subscriptions: Collection[str]) -> None:
        self._calls = calls
        self._subscriptions = subscriptions

    def lock_subscriptions(self, *, subscription_ids: Sequence[str]) -> set[str]:
        return {s for s in subscription_ids if s in self._subscriptions}

    def add_many(self, *, records: Sequence[CallRecord], rate_prefixes: Sequence[str],
                 received_at: datetime) -> int:
        new = 0
        for record, prefix in zip(records, rate_prefixes, strict=True):
            if record.id not in self._calls:
                self._calls[record.id] = StoredCall(record, prefix)
                new += 1
        return new

    def _unbilled(self, subscription_ids: Sequence[str], before: datetime) -> list[StoredCall]:
        return [c for c in self._calls.values() if c.invoice_id is None
                and c.record.subscription_id in subscription_ids
                and c.record.started_at < before]

    def minutes_for(self, *, subscription_ids: Sequence[str],
                    before: datetime) -> dict[str, list[ClassUsage]]:
        sums: dict[tuple[str, str, str], tuple[int, int]] = {}
        for call in self._unbilled(subscription_ids, before):
            r = call.record
            key = (r.subscription_id, r.direction.value, call.rate_prefix)
            seconds, minutes = sums.get(key, (0, 0))
            sums[key] = (seconds + r.duration_seconds, minutes + started_minutes(
                r.duration_seconds))
        result: dict[str, list[ClassUsage]] = {}
        for (subscription_id, direction, prefix), (seconds, minutes) in sums.items():
            result.setdefault(subscription_id, []).append(ClassUsage(
                Direction(direction), prefix, seconds, minutes))
        return result

    def mark_billed(self, *, invoices: Mapping[str, str], before: datetime) -> int:
        due = self._unbilled(list(invoices), before)
        for call in due:
            self._calls[call.record.id] = replace(
                call, invoice_id=invoices[call.record.subscription_id])
        return len(due)

    def invoice_of(self, *, record_ids: Sequence[str]) -> dict[str, str | None]:
        return {i: self._calls[i].invoice_id for i in record_ids if i in self._calls}


class FakeRateCardRepository:
    def __init__(self, cards: dict[str, RateCard], calls: dict[str, StoredCall]) -> None:
        self._cards = cards
        self._calls = calls

    def put(self, *, subscription_id: str, card: RateCard) -> None:
        self._cards[subscription_id] = card
        for call_id, call in list(self._calls.items()):
            r = call.record
            if (r.subscription_id == subscription_id and call.invoice_id is None
                    and r.direction.value == "outbound"):
                self._calls[call_id] = replace(call, rate_prefix=card.classify(r.destination))

    def prefixes_for(self, *, subscription_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        return {s: frozenset(d.prefix for d in self._cards[s].destinations)
                for s in subscription_ids if s in self._cards and self._cards[s].destinations}

    def get(self, *, subscription_id: str) -> RateCard | None:
        return self._cards.get(subscription_id)

    def get_many(self, *, subscription_ids: Sequence[str]) -> dict[str, RateCard]:
        return {s: self._cards[s] for s in subscription_ids if s in self._cards}
