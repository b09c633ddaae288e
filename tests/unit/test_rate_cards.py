"""Rate cards: longest prefix wins, validation, and the plan's equivalent card."""

from __future__ import annotations

import pytest

from domain.money import Money
from domain.rate_cards import DestinationRate, InvalidRateCard, RateCard, Rounding, card_from_plan
from tests.builders import a_plan


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


FRANCE = RateCard(currency="EUR", default_outbound=eur(50), toll_free=eur(8), destinations=(
    DestinationRate("+33", "France", eur(10)),
    DestinationRate("+336", "France mobile", eur(20)),
    DestinationRate("+337", "France mobile", eur(20)),
    DestinationRate("+1", "North America", eur(5))))


@pytest.mark.parametrize(("destination", "prefix"), [
    ("+33612345678", "+336"),   # +336 is longer than +33
    ("+33712345678", "+337"),
    ("+33145678901", "+33"),
    ("+12125550100", "+1"),
    ("+442071234567", ""),      # no prefix: the default rate
    ("+3", ""),                 # shorter than every prefix
])
def test_the_longest_matching_prefix_rates_a_call(destination: str, prefix: str) -> None:
    assert FRANCE.classify(destination) == prefix


@pytest.mark.parametrize(("destinations", "field"), [
    ((DestinationRate("33", "France", eur(1)),), "destinations.0.prefix"),
    ((DestinationRate("+0", "Zero", eur(1)),), "destinations.0.prefix"),
    ((DestinationRate("+3312345678901234", "Long", eur(1)),), "destinations.0.prefix"),
    ((DestinationRate("+33", "France", eur(1)), DestinationRate("+33", "Again", eur(1))),
     "destinations.1.prefix"),
    ((DestinationRate("+33", " ", eur(1)),), "destinations.0.label"),
    ((DestinationRate("+33", "France", eur(-1)),), "destinations.0.per_minute"),
    ((DestinationRate("+33", "France", Money(1, "USD")),), "destinations.0.per_minute"),
    ((DestinationRate("+336", "Mobile", eur(1)), DestinationRate("+337", "Mobile", eur(2))),
     "destinations.1.per_minute"),
])
def test_a_bad_card_is_refused_naming_the_field(destinations: tuple[DestinationRate, ...],
                                                field: str) -> None:
    with pytest.raises(InvalidRateCard) as refused:
        RateCard(currency="EUR", destinations=destinations)
    assert refused.value.field == field


def test_negative_default_and_toll_free_rates_are_refused() -> None:
    with pytest.raises(InvalidRateCard) as refused:
        RateCard(currency="EUR", toll_free=eur(-1))
    assert refused.value.field == "toll_free"


def test_a_plan_without_a_card_is_rated_per_started_minute_at_its_per_minute_fields() -> None:
    card = card_from_plan(a_plan(toll_free_per_minute=eur(3)))
    assert card == RateCard(currency="EUR", default_outbound=eur(2), toll_free=eur(3),
                            rounding=Rounding.PER_STARTED_MINUTE)
    assert card.classify("+33612345678") == ""
