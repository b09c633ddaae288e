"""The scenario's `setup` event: what it accepts, and the field it names when it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from workers.simulate.scenario import MethodSpec, ScenarioError, parse_scenario


def _scenario(setup: Any) -> dict[str, Any]:
    return {"start": "2026-01-15", "until": "2026-02-20",
            "accounts": [{"id": "acme", "name": "Acme SAS", "currency": "EUR",
                          "plan": {"interval": "monthly", "user_price": 3000,
                                   "number_price": 600},
                          "users": 2, "numbers": 1, "payment_method": {"type": "wire"}}],
            "events": [{"on": "2026-01-20", "account": "acme", "setup": setup}]}


@pytest.mark.parametrize(("setup", "method"), [
    ({"type": "card"}, MethodSpec(type="card", card="pm_card_visa")),
    ({"type": "card", "card": "pm_card_chargeCustomerFail"},
     MethodSpec(type="card", card="pm_card_chargeCustomerFail")),
    ({"type": "direct_debit"}, MethodSpec(type="direct_debit", behaviour="pays")),
    ({"type": "direct_debit", "scheme": "sepa_core", "behaviour": "late_failure"},
     MethodSpec(type="direct_debit", scheme="sepa_core", behaviour="late_failure")),
])
def test_a_setup_event_names_what_the_customer_chooses_on_the_hosted_page(
        setup: dict[str, str], method: MethodSpec) -> None:
    [event] = parse_scenario(_scenario(setup)).events
    assert (event.kind, event.method) == ("setup", method)


@pytest.mark.parametrize(("setup", "field"), [
    ({"type": "wire"}, "events[0].setup.type"),
    ({"type": "card", "card": "pm_card_bogus"}, "events[0].setup.card"),
    ({"type": "direct_debit", "scheme": "becs"}, "events[0].setup.scheme"),
    ({"type": "direct_debit", "behaviour": "vanishes"}, "events[0].setup.behaviour"),
    ("card", "events[0].setup"),
])
def test_a_bad_setup_event_is_refused_naming_its_field(setup: Any, field: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(_scenario(setup))
    assert refused.value.field == field
