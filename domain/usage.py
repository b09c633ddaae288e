"""Call minutes: call records rated by destination class, billed once on the next invoice.

A call record is billed by the first invoice that carries minutes and is dated after the
call started (UTC), whatever period the call belongs to: a record that arrives after its
period was invoiced goes on the next invoice, never lost, never billed twice (the storage
keeps, on each record, the invoice that billed it).

Rounding, once per invoice line (`minute_line`), in integer arithmetic:

- per started minute: each call counts ceil(seconds / 60) minutes; the line is
  minutes x rate, exact. 61 s + 30 s + 120 s = 2 + 1 + 2 = 5 minutes; at 0.12/min: 60.
- per second: a line sums the seconds of its calls; the amount is rate x seconds / 60
  rounded half-up, once for the line (never per call). 754 s at 0.12/min:
  12 x 754 / 60 = 150.8 -> 151. 45 s at 0.02/min: 2 x 45 / 60 = 1.5 -> 2 (half up).
  125 s at 0.02/min: 250 / 60 = 4.17 -> 4.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from domain.invoices import InvoiceLine, Section
from domain.money import Money
from domain.proration import round_half_up
from domain.rate_cards import RateCard, Rounding


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND_TOLL_FREE = "inbound_toll_free"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as the telephony platform reports it; `id` is the platform's, unique forever."""

    id: str
    subscription_id: str
    number: str
    direction: Direction
    destination: str
    started_at: datetime
    duration_seconds: int


@dataclass(frozen=True, slots=True, order=True)
class ClassUsage:
    """The unbilled calls of one class: outbound to one prefix ("" = default), or toll-free.

    Both totals are kept so the card's rounding rule picks one when the invoice is built.
    """

    direction: Direction
    prefix: str
    seconds: int
    started_minutes: int


def usage_since(total: Iterable[ClassUsage], earlier: Iterable[ClassUsage]) -> list[ClassUsage]:
    """`total` less `earlier`, class by class: the calls summed up to a later day less those
    up to an earlier one (both sums are additive, so the difference is exact)."""
    before = {(u.direction, u.prefix): u for u in earlier}
    left = []
    for u in total:
        e = before.get((u.direction, u.prefix))
        seconds = u.seconds - (e.seconds if e else 0)
        minutes = u.started_minutes - (e.started_minutes if e else 0)
        if seconds or minutes:
            left.append(ClassUsage(u.direction, u.prefix, seconds, minutes))
    return left


def cutoff(day: date) -> datetime:
    """The instant an invoice dated `day` bills calls started before: midnight UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def started_minutes(seconds: int) -> int:
    """ceil(seconds / 60): a call of 61 s counts 2 minutes, 0 s counts none."""
    return -(-seconds // 60)


def rate_key(card: RateCard, direction: Direction, destination: str) -> str:
    """The class a call is rated in: its prefix on the card ("" for default and toll-free)."""
    return card.classify(destination) if direction is Direction.OUTBOUND else ""


def usage_of(records: Iterable[CallRecord], card: RateCard) -> list[ClassUsage]:
    """Sum records per class (what the SQL repository does with GROUP BY)."""
    totals: dict[tuple[Direction, str], tuple[int, int]] = {}
    for record in records:
        key = (record.direction, rate_key(card, record.direction, record.destination))
        seconds, minutes = totals.get(key, (0, 0))
        totals[key] = (seconds + record.duration_seconds,
                       minutes + started_minutes(record.duration_seconds))
    return [ClassUsage(direction, prefix, seconds, minutes)
            for (direction, prefix), (seconds, minutes) in totals.items()]


_RULE_TEXT = {Rounding.PER_STARTED_MINUTE: "per started minute",
              Rounding.PER_SECOND: "per second, rounded half-up per line"}


def minute_lines(*, card: RateCard, usage: Iterable[ClassUsage]) -> tuple[InvoiceLine, ...]:
    """The MINUTES section: one line per destination class, then other destinations, then
    toll-free. A class without a rate on the card, or with nothing to bill, has no line."""
    classes: dict[tuple[int, str], tuple[str, str, Money, int]] = {}
    for part in usage:
        quantity = part.seconds if card.rounding is Rounding.PER_SECOND else part.started_minutes
        found = _class_of(card, part)
        if found is None:
            continue
        order, item, label, rate = found
        known = classes.get((order, label))
        classes[(order, label)] = (item, label, rate, quantity + (known[3] if known else 0))
    return tuple(minute_line(card=card, item=item, label=label, rate=rate, quantity=quantity)
                 for _, (item, label, rate, quantity) in sorted(classes.items())
                 if quantity > 0)


def _class_of(card: RateCard, part: ClassUsage) -> tuple[int, str, str, Money] | None:
    seconds = card.rounding is Rounding.PER_SECOND
    if part.direction is Direction.INBOUND_TOLL_FREE:
        if card.toll_free is None:
            return None
        item = "toll_free_seconds" if seconds else "toll_free_minutes"
        return 2, item, "Inbound minutes on toll-free numbers", card.toll_free
    destination = card.destination(part.prefix) if part.prefix else None
    if destination is not None:
        first = min(d.prefix for d in card.destinations if d.label == destination.label)
        return 0, f"outbound:{first}", destination.label, destination.per_minute
    if card.default_outbound is None:
        return None
    item = "outbound_seconds" if seconds else "outbound_minutes"
    label = ("Outbound calls, other destinations" if card.destinations
             else "Outbound call minutes")
    return 1, item, label, card.default_outbound


def minute_line(*, card: RateCard, item: str, label: str, rate: Money,
                quantity: int) -> InvoiceLine:
    """One class's line; `quantity` is minutes (per started minute) or seconds (per second)."""
    if card.rounding is Rounding.PER_SECOND:
        amount = Money(round_half_up(rate.minor * quantity, 60), rate.currency)
        description = f"{label} — {quantity} s, billed {_RULE_TEXT[card.rounding]}"
    else:
        amount = rate * quantity
        description = f"{label} — billed {_RULE_TEXT[card.rounding]}"
    return InvoiceLine(section=Section.MINUTES, description=description, quantity=quantity,
                       unit_amount=rate, amount=amount, item=item)
