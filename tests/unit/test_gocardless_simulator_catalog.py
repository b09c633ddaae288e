"""The simulator's failure reasons are GoCardless's own: every (origin, cause, scheme,
reason_code, description) it emits exists in GoCardless's event actions reference."""

from __future__ import annotations

import pytest

from adapters.simulators.gocardless import behaviours as b
from tests.conftest import load_provider_fixture


def _catalog_has(resource: str, action: str, details: b.Details, scheme: str) -> bool:
    catalog = load_provider_fixture("gocardless_event_actions_catalog.json")[resource]
    entries = [d for a in catalog if a["action"] == action for d in a["details"]]
    return any(d["origin"] == details.origin and d["cause"] == details.cause
               and d.get("scheme") == (scheme if details.reason_code else None)
               and (details.reason_code or "") in d.get("reason_code", "")
               and d["description"] == details.description for d in entries)


TABLES = [("payments", "failed", b.FAILURES), ("payments", "charged_back", b.CHARGEBACKS),
          ("mandates", "cancelled", b.MANDATE_CLOSED),
          ("mandates", "cancelled", b.MANDATE_CANCELLED_BY_BANK),
          ("payments", "cancelled", b.PAYMENT_CANCELLED_BY_BANK),
          ("payments", "cancelled", b.PAYMENT_CANCELLED_ACCOUNT_CLOSED)]


@pytest.mark.parametrize(("resource", "action", "table"), TABLES,
                         ids=[f"{r}/{a}" for r, a, _ in TABLES])
def test_every_simulated_reason_exists_in_gocardless_event_catalog(resource, action, table):
    for key, details in table.items():
        scheme = key[1] if isinstance(key, tuple) else key
        assert _catalog_has(resource, action, details, scheme), (key, details)


def test_every_plain_event_detail_exists_in_gocardless_event_catalog():
    catalog = load_provider_fixture("gocardless_event_actions_catalog.json")
    known = {(d["origin"], d["cause"], d["description"])
             for resource in ("payments", "mandates") for a in catalog[resource]
             for d in a["details"]}
    missing = [d for d in b.PLAIN.values() if (d.origin, d.cause, d.description) not in known]
    assert not missing

