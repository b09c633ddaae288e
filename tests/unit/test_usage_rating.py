"""Rating call minutes: the rounding rules, with worked examples, one line per class."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.invoices import Section
from domain.money import Money
from domain.rate_cards import DestinationRate, RateCard, Rounding
from domain.usage import (
    CallRecord,
    ClassUsage,
    Direction,
    cutoff,
    minute_lines,
    started_minutes,
    usage_of,
)

OUT, TOLL_FREE = Direction.OUTBOUND, Direction.INBOUND_TOLL_FREE


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def card(rounding: Rounding) -> RateCard:
    return RateCard(currency="EUR", default_outbound=eur(50), toll_free=eur(8), rounding=rounding,
                    destinations=(DestinationRate("+33", "France", eur(12)),
                                  DestinationRate("+336", "France mobile", eur(20)),
                                  DestinationRate("+337", "France mobile", eur(20))))


def call(id: str, destination: str, seconds: int, direction: Direction = OUT) -> CallRecord:
    return CallRecord(id, "sub", "+33198765432", direction, destination,
                      datetime(2026, 3, 2, tzinfo=UTC), seconds)


def lines(rounding: Rounding, calls: list[CallRecord]) -> list[tuple[str, int, int, int]]:
    rates = card(rounding)
    return [(line.item, line.quantity, line.unit_amount.minor, line.amount.minor)
            for line in minute_lines(card=rates, usage=usage_of(calls, rates))]


def test_per_started_minute_rounds_each_call_up_to_whole_minutes() -> None:
    # 61 s -> 2, 30 s -> 1, 120 s -> 2, 0 s -> 0 (a call that never connected)
    assert [started_minutes(s) for s in (61, 30, 120, 0)] == [2, 1, 2, 0]
    calls = [call("a", "+33145678901", 61), call("b", "+33145678901", 30),
             call("c", "+33145678901", 120)]
    # 2 + 1 + 2 = 5 minutes x 0.12 = 0.60, exact
    assert lines(Rounding.PER_STARTED_MINUTE, calls) == [("outbound:+33", 5, 12, 60)]


def test_per_second_sums_seconds_and_rounds_half_up_once_per_line() -> None:
    # 754 s at 0.12/min: 12 x 754 / 60 = 150.8 -> 151 (one rounding for the line)
    calls = [call("a", "+33145678901", 377), call("b", "+33145678901", 377)]
    assert lines(Rounding.PER_SECOND, calls) == [("outbound:+33", 754, 12, 151)]
    # Rounded per call it would be 2 x (12 x 377 / 60 = 75.4 -> 75) = 150: not what we do.


def test_per_second_halves_go_up_and_the_rest_down() -> None:
    rates = RateCard(currency="EUR", default_outbound=eur(2), rounding=Rounding.PER_SECOND)
    # 45 s at 0.02/min: 2 x 45 / 60 = 1.5 -> 2; 125 s: 250 / 60 = 4.17 -> 4
    for seconds, amount in ((45, 2), (125, 4)):
        (line,) = minute_lines(card=rates, usage=[ClassUsage(OUT, "", seconds, 0)])
        assert (line.item, line.quantity, line.amount) == ("outbound_seconds", seconds,
                                                           eur(amount))
        assert "per second, rounded half-up per line" in line.description


def test_prefixes_sharing_a_label_make_one_line_then_other_destinations_then_toll_free() -> None:
    calls = [call("m6", "+33612345678", 60), call("m7", "+33712345678", 90),
             call("uk", "+442071234567", 10), call("fr", "+33145678901", 60),
             call("tf", "+33800123456", 240, TOLL_FREE)]
    assert lines(Rounding.PER_STARTED_MINUTE, calls) == [
        ("outbound:+33", 1, 12, 12),        # France: 1 x 0.12
        ("outbound:+336", 3, 20, 60),       # France mobile: (1 + 2) x 0.20
        ("outbound_minutes", 1, 50, 50),    # other destinations: 1 x 0.50
        ("toll_free_minutes", 4, 8, 32),    # toll-free: 4 x 0.08
    ]


def test_the_rounding_rule_is_written_on_every_line() -> None:
    rates = card(Rounding.PER_STARTED_MINUTE)
    for line in minute_lines(card=rates, usage=usage_of([call("a", "+336", 60)], rates)):
        assert line.section is Section.MINUTES
        assert line.description == "France mobile — billed per started minute"


def test_a_class_without_a_rate_has_no_line() -> None:
    rates = RateCard(currency="EUR", default_outbound=eur(2))
    assert minute_lines(card=rates, usage=[ClassUsage(TOLL_FREE, "", 600, 10)]) == ()


def test_an_invoice_bills_the_calls_started_before_midnight_utc_of_its_date() -> None:
    assert cutoff(date(2026, 4, 1)) == datetime(2026, 4, 1, tzinfo=UTC)
