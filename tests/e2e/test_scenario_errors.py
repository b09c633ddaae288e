"""`paycollect simulate FILE` refuses a scenario with an error: exit code 2, a message naming the
field, and nothing written (no database, no temporary simulation directory)."""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from workers.cli import app

#: A valid scenario; each case below breaks one field of a copy.
VALID: dict[str, Any] = {
    "start": "2026-01-15",
    "until": "2026-02-20",
    "accounts": [
        {"id": "acme", "name": "Acme SAS", "language": "fr", "currency": "EUR",
         "plan": {"interval": "monthly", "user_price": 3000, "number_price": 600},
         "users": 2, "numbers": 1,
         "payment_method": {"type": "card", "card": "pm_card_visa"}},
    ],
    "events": [
        {"on": "2026-01-25", "account": "acme", "add": {"users": 1}},
    ],
}


def _account(doc: dict[str, Any]) -> dict[str, Any]:
    account: dict[str, Any] = doc["accounts"][0]
    return account


def _event(doc: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = doc["events"][0]
    return event


#: (case id, how to break the valid scenario, the field the message must name)
BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown account in an event",
     lambda d: _event(d).update(account="nobody"), "events[0].account"),
    ("impossible event date",
     lambda d: _event(d).update(on="2026-02-30"), "events[0].on"),
    ("start that is not a date",
     lambda d: d.update(start="15/01/2026"), "start"),
    ("event outside the scenario's days",
     lambda d: _event(d).update(on="2026-03-01"), "events[0].on"),
    ("negative initial users",
     lambda d: _account(d).update(users=-1), "accounts[0].users"),
    ("negative units added",
     lambda d: _event(d).update(add={"users": -2}), "events[0].add.users"),
    ("negative usage minutes",
     lambda d: d["events"].insert(0, {"on": "2026-01-20", "account": "acme",
                                      "usage": {"outbound_minutes": -5}}),
     "events[0].usage.outbound_minutes"),
    ("unknown currency",
     lambda d: _account(d).update(currency="XYZ"), "accounts[0].currency"),
    ("unknown test card",
     lambda d: _account(d).update(payment_method={"type": "card", "card": "pm_card_nope"}),
     "accounts[0].payment_method.card"),
    ("unknown card in a payment method event",
     lambda d: d["events"].append({"on": "2026-02-01", "account": "acme",
                                   "payment_method": {"type": "card", "card": "4242"}}),
     "events[1].payment_method.card"),
    ("bad plan interval",
     lambda d: _account(d)["plan"].update(interval="weekly"), "accounts[0].plan.interval"),
]


def _simulate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[int, str]:
    """Run `paycollect simulate scenario.json` in an empty cwd, temporary files kept in it."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    (tmp_path / "tmp").mkdir()
    (workdir / "scenario.json").write_text(text)
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    result = CliRunner().invoke(app, ["simulate", "scenario.json"])
    return result.exit_code, result.output


def _written(tmp_path: Path) -> list[Path]:
    """Every file or folder under tmp_path except the scenario itself and the two folders."""
    return [p for p in tmp_path.rglob("*")
            if p.name != "scenario.json" and p not in (tmp_path / "cwd", tmp_path / "tmp")]


@pytest.mark.parametrize(("breakage", "field"),
                         [pytest.param(b, f, id=name) for name, b, f in BROKEN])
def test_a_scenario_with_an_error_is_refused_naming_the_field_and_nothing_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        breakage: Callable[[dict[str, Any]], None], field: str) -> None:
    # Given a valid scenario with one field broken
    doc = copy.deepcopy(VALID)
    breakage(doc)
    # When it is simulated
    code, output = _simulate(tmp_path, monkeypatch, json.dumps(doc))
    # Then it is refused with exit code 2 and a message naming the field
    assert code == 2, output
    assert f"{field}:" in output
    # And no database file (nor anything else) was written
    assert not list(tmp_path.rglob("*.db"))
    assert _written(tmp_path) == []


def test_a_malformed_json_file_is_refused_with_where_the_syntax_breaks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a file that is not JSON (a trailing comma)
    text = '{"start": "2026-01-15", "until": "2026-02-20",}'
    # When it is simulated
    code, output = _simulate(tmp_path, monkeypatch, text)
    # Then it is refused, naming the file and the place of the error
    assert code == 2, output
    assert "file:" in output
    assert "not valid JSON" in output
    assert "line 1" in output
    assert not list(tmp_path.rglob("*.db"))
    assert _written(tmp_path) == []


def test_a_missing_scenario_file_is_refused(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no scenario file at the path
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    # When it is simulated
    result = CliRunner().invoke(app, ["simulate", "missing.json"])
    # Then it is refused and nothing is written
    assert result.exit_code == 2, result.output
    assert "missing.json" in result.output
    assert list(tmp_path.rglob("*")) == [workdir]


def test_the_valid_scenario_used_above_is_accepted(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the unbroken scenario (so each refusal above is due to its one breakage)
    # When it is simulated
    code, output = _simulate(tmp_path, monkeypatch, json.dumps(VALID))
    # Then it runs, prints the invoices, and leaves no database behind in the cwd
    assert code == 0, output
    assert "PC-2026-000001" in output
    assert not list((tmp_path / "cwd").rglob("*.db"))
