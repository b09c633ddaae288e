"""Persistence ports for call records and rate cards (the unit of work in domain/ports.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domain.rate_cards import RateCard
from domain.usage import CallRecord, ClassUsage


class CallRecordRepository(Protocol):
    def lock_subscriptions(self, *, subscription_ids: Sequence[str]) -> set[str]:
        """Which of these subscriptions exist, share-locked until the transaction ends (so a
        renewal holding one's row lock never sees a call commit between sum and mark)."""
        ...

    def add_many(self, *, records: Sequence[CallRecord], rate_prefixes: Sequence[str],
                 received_at: datetime) -> int:
        """Store the records whose id is not stored yet; returns how many were new."""
        ...

    def minutes_for(self, *, subscription_ids: Sequence[str],
                    before: datetime) -> dict[str, list[ClassUsage]]:
        """Unbilled calls started before `before`, summed per subscription and class."""
        ...

    def mark_billed(self, *, invoices: Mapping[str, str], before: datetime) -> int:
        """Stamp each subscription's unbilled calls started before `before` with its invoice
        (`invoices`: subscription id -> invoice id); returns how many were stamped."""
        ...

    def invoice_of(self, *, record_ids: Sequence[str]) -> dict[str, str | None]: ...


class RateCardRepository(Protocol):
    def put(self, *, subscription_id: str, card: RateCard) -> None:
        """Replace the card; the subscription's unbilled calls are re-rated by it."""
        ...

    def prefixes_for(self, *, subscription_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """The card prefixes of each subscription that has any (what ingestion rates by)."""
        ...

    def get(self, *, subscription_id: str) -> RateCard | None: ...

    def get_many(self, *, subscription_ids: Sequence[str]) -> dict[str, RateCard]: ...
