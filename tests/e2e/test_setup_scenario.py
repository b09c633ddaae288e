"""examples/setups.json: customers complete payment-method setups on the providers' hosted
pages during a scenario; the webhooks change the method and retry the open balance.

Amounts by hand: carte bills 2 users x 2000 + 1 number x 500 = 4500 a month; refus and mandat
bill 1 x 2000 + 1 x 500 = 2500.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import invoices_of, payments_of, run_example

Document = dict[str, Any]


@pytest.fixture(scope="module")
def setups() -> Document:
    return run_example("setups.json")


def _setups_of(document: Document, account: str) -> list[dict[str, Any]]:
    return [s for s in document["setups"] if s["account"] == account]


def test_a_card_set_up_on_the_hosted_page_pays_the_declined_invoice_the_same_day(
        setups: Document) -> None:
    # Given carte's 15 January invoice (4500) declined on its card
    first = invoices_of(setups, "carte")[0]
    assert (first["issued_on"], first["total"]) == ("2026-01-15", 4500)
    # When the customer sets up a visa on 22 January
    [setup] = _setups_of(setups, "carte")
    # Then the setup completed with the card shown masked, and the invoice was paid that day
    assert (setup["status"], setup["completed_on"]) == ("completed", "2026-01-22")
    assert setup["method"] == {"type": "card", "usable": True, "brand": "visa",
                               "last4": "4242", "exp_month": 12, "exp_year": 2034}
    paid = [p for p in payments_of(setups, "carte") if p["status"] == "succeeded"]
    assert (paid[0]["created_on"], paid[0]["amount"]) == ("2026-01-22", 4500)
    assert first["status"] == "paid"
    assert setups["balances"]["carte"] == 0


def test_a_card_refused_at_setup_changes_nothing(setups: Document) -> None:
    [setup] = _setups_of(setups, "refus")
    assert setup["status"] == "open"
    assert "method" not in setup
    assert not any(p["status"] == "succeeded" for p in payments_of(setups, "refus"))
    # January's 2500 is still owed: the legal notice (27 days overdue, 02-11) terminated the
    # account before the 02-15 renewal; its final invoice (no units added, no calls: no
    # lines) brought the 2500 forward, and nothing was issued after it.
    assert setups["balances"]["refus"] == 2500
    kinds = [i["kind"] for i in setups["invoices"] if i["account"] == "refus"]
    assert kinds == ["monthly", "final"]


def test_a_wire_payer_who_sets_up_a_mandate_is_debited_for_the_open_invoice(
        setups: Document) -> None:
    # Given mandat's 15 January wire invoice (2500) awaiting a transfer
    # When the customer sets up a SEPA mandate on 20 January
    [setup] = _setups_of(setups, "mandat")
    # Then the mandate is on file, masked, and the invoice was debited and paid
    assert setup["status"] == "completed"
    assert setup["method"]["account"] == "FR** **** **** **06"
    assert setup["method"]["scheme"] == "sepa_core"
    first = invoices_of(setups, "mandat")[0]
    assert first["status"] == "paid"
    debits = [p for p in payments_of(setups, "mandat") if p["method"] == "direct_debit"]
    assert (debits[0]["created_on"], debits[0]["amount"]) == ("2026-01-20", 2500)
