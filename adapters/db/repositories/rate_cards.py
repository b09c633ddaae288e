"""Rate cards: one per subscription (or none: the plan's per-minute rates apply)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from adapters.db.repositories._sql import among, run, table_of
from adapters.db.repositories.call_records import SqlCallRecordRepository
from adapters.db.tables import RateCardDestinationRow, RateCardRow
from domain.money import Money
from domain.rate_cards import DestinationRate, RateCard, Rounding

_CARDS = table_of(RateCardRow)
_DESTINATIONS = table_of(RateCardDestinationRow)


class SqlRateCardRepository:
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._now = clock

    def put(self, *, subscription_id: str, card: RateCard) -> None:
        """Replace the subscription's card; its unbilled calls are re-rated by the new one."""
        run(self._session, _DESTINATIONS.delete().where(
            _DESTINATIONS.c.subscription_id == subscription_id))
        run(self._session, _CARDS.delete().where(_CARDS.c.subscription_id == subscription_id))
        run(self._session, _CARDS.insert(), {
            "subscription_id": subscription_id, "currency": card.currency,
            "rounding": card.rounding.value,
            "default_outbound_minor": _minor(card.default_outbound),
            "toll_free_minor": _minor(card.toll_free), "updated_at": self._now()})
        if card.destinations:
            run(self._session, _DESTINATIONS.insert(), [
                {"subscription_id": subscription_id, "prefix": d.prefix, "label": d.label,
                 "per_minute_minor": d.per_minute.minor} for d in card.destinations])
        SqlCallRecordRepository(self._session).reclassify(subscription_id=subscription_id)

    def prefixes_for(self, *, subscription_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """The card prefixes of each subscription that has some (ingestion rates by them;
        one query, no card objects built: it runs for every batch of calls)."""
        if not subscription_ids:
            return {}
        found: dict[str, set[str]] = {}
        query = select(_DESTINATIONS.c.subscription_id, _DESTINATIONS.c.prefix).where(
            among(self._session, _DESTINATIONS.c.subscription_id, subscription_ids))
        for subscription_id, prefix in run(self._session, query):
            found.setdefault(subscription_id, set()).add(prefix)
        return {key: frozenset(value) for key, value in found.items()}

    def get(self, *, subscription_id: str) -> RateCard | None:
        return self.get_many(subscription_ids=[subscription_id]).get(subscription_id)

    def get_many(self, *, subscription_ids: Sequence[str]) -> dict[str, RateCard]:
        """The cards of those subscriptions that have one (two queries, however many)."""
        if not subscription_ids:
            return {}
        ids = list(set(subscription_ids))
        cards = list(run(self._session, select(_CARDS).where(_CARDS.c.subscription_id.in_(ids))))
        if not cards:
            return {}
        destinations: dict[str, list[DestinationRate]] = {}
        rows = run(self._session, select(_DESTINATIONS)
                   .where(_DESTINATIONS.c.subscription_id.in_([c.subscription_id for c in cards]))
                   .order_by(_DESTINATIONS.c.subscription_id, _DESTINATIONS.c.prefix))
        currency = {card.subscription_id: card.currency for card in cards}
        for row in rows:
            destinations.setdefault(row.subscription_id, []).append(DestinationRate(
                row.prefix, row.label, Money(row.per_minute_minor,
                                             currency[row.subscription_id])))
        return {card.subscription_id: RateCard(
            currency=card.currency,
            destinations=tuple(destinations.get(card.subscription_id, ())),
            default_outbound=_money(card.default_outbound_minor, card.currency),
            toll_free=_money(card.toll_free_minor, card.currency),
            rounding=Rounding(card.rounding)) for card in cards}


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else amount.minor


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(minor, currency)
