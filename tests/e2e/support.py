"""Helpers for the end-to-end tests: run an example scenario, read its `--json` document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workers.simulate.runner import run_scenario
from workers.simulate.scenario import load_scenario

#: The repository's examples/ folder.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Document = dict[str, Any]


def run_example(name: str) -> Document:
    """Replay examples/`name` through the real system and return the `--json` document."""
    return run_scenario(load_scenario(EXAMPLES / name)).document


def invoices_of(document: Document, account: str) -> list[dict[str, Any]]:
    """The account's invoices in issue order (the report sorts them by date, then number)."""
    return [inv for inv in document["invoices"] if inv["account"] == account]


def payments_of(document: Document, account: str) -> list[dict[str, Any]]:
    return [p for p in document["payments"] if p["account"] == account]


def attempts_on(document: Document, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """The payment attempts made for one invoice, by attempt number."""
    return sorted((p for p in document["payments"] if p["invoice"] == invoice["number"]),
                  key=lambda p: p["attempt"])


def bill(invoice: dict[str, Any]) -> dict[str, Any]:
    """What the customer reads on an invoice: dates, kind, every line, previous amount, total.

    Lines are tuples: recurring and minutes `(item, quantity, unit_amount, amount)`, prorata
    `(item, quantity, unit_amount, amount, from, to)`.
    """
    sections = invoice["sections"]
    plain = [(line["item"], line["quantity"], line["unit_amount"], line["amount"])
             for line in sections["recurring"]]
    prorata = [(line["item"], line["quantity"], line["unit_amount"], line["amount"],
                line["from"], line["to"]) for line in sections["prorata"]]
    minutes = [(line["item"], line["quantity"], line["unit_amount"], line["amount"])
               for line in sections["minutes"]]
    return {"issued_on": invoice["issued_on"], "kind": invoice["kind"],
            "period": (invoice["period"]["start"], invoice["period"]["end"]),
            "recurring": plain, "prorata": prorata, "minutes": minutes,
            "previous_amount_due": invoice["previous_amount_due"], "total": invoice["total"]}


def expected(*, issued_on: str, kind: str, period: tuple[str, str],
             recurring: list[tuple[str, int, int, int]] | None = None,
             prorata: list[tuple[str, int, int, int, str, str]] | None = None,
             minutes: list[tuple[str, int, int, int]] | None = None,
             previous_amount_due: int = 0, total: int) -> dict[str, Any]:
    """The hand-computed counterpart of `bill()`; checks the total adds up before comparing."""
    amounts = [line[3] for line in [*(recurring or []), *(minutes or [])]]
    amounts += [line[3] for line in prorata or []]
    assert sum(amounts) + previous_amount_due == total, \
        "the hand computation does not add up"
    return {"issued_on": issued_on, "kind": kind, "period": period,
            "recurring": recurring or [], "prorata": prorata or [], "minutes": minutes or [],
            "previous_amount_due": previous_amount_due, "total": total}


def open_amount_due(document: Document, account: str) -> int:
    """What the account's open invoices still ask for, together."""
    return sum(inv["amount_due"] for inv in invoices_of(document, account)
               if inv["status"] == "open")
