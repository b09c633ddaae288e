"""`paycollect usage import FILE.csv`, on the test databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from tests.handlers.doubles import RecordingDispatcher
from tests.handlers.world import card_account, subscribe
from workers.cli import app
from workers.cli_support import OpsContext
from workers.config import Settings
from workers.console_deps import build_console_deps

HEADER = "id,subscription,number,direction,destination,started_at,duration_seconds\n"


@pytest.fixture
def context(database_url: str, uow_factory: SqlUnitOfWorkFactory,
            clock: ManualClock) -> Iterator[OpsContext]:
    subscribe(uow_factory, account=card_account("acme"), started_on=date(2026, 3, 1))
    console = build_console_deps(Settings(database_url=database_url), clock=clock,
                                 dispatch=RecordingDispatcher())
    yield OpsContext(deps=console.deps, settings=Settings(database_url=database_url))
    console.close()


def run(context: OpsContext, *args: str) -> Result:
    return CliRunner().invoke(app, ["usage", "import", *args], obj=context)


def test_a_csv_is_imported_with_duplicates_counted_and_bad_lines_refused_by_line_number(
        context: OpsContext, tmp_path: Path, uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given a file whose line 3 has a bad duration and line 5 repeats line 2's id
    csv_file = tmp_path / "calls.csv"
    csv_file.write_text(
        HEADER
        + "c1,sub_acme,+33198765432,outbound,+33612345678,2026-03-02T10:00:00Z,61\n"
        + "c2,sub_acme,+33198765432,outbound,+33612345678,2026-03-02T11:00:00Z,sixty\n"
        + "c3,sub_acme,+33198765432,inbound_toll_free,+33800123456,2026-03-03T09:00:00+01:00,5\n"
        + "c1,sub_acme,+33198765432,outbound,+33612345678,2026-03-02T10:00:00Z,61\n")
    # When it is imported
    result = run(context, str(csv_file), "--json")
    # Then two are new, one duplicate, line 3 refused (exit 4: refused, the rest stored)
    assert result.exit_code == 4, result.output
    summary = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert (summary["new"], summary["duplicates"]) == (2, 1)
    assert [(r["line"], r["field"]) for r in summary["refused"]] == [(3, "duration_seconds")]
    with uow_factory() as uow:
        assert sorted(uow.call_records.invoice_of(record_ids=["c1", "c2", "c3"])) == ["c1", "c3"]
    # And importing it again stores nothing new
    again = run(context, str(csv_file))
    assert "0 new, 3 duplicates (already stored), 1 refused" in again.stdout


def test_a_file_without_the_header_is_refused_with_exit_2(context: OpsContext,
                                                          tmp_path: Path) -> None:
    csv_file = tmp_path / "calls.csv"
    csv_file.write_text("id,subscription\nc1,sub_acme\n")
    result = run(context, str(csv_file))
    assert result.exit_code == 2
    assert "lacks number, direction" in result.output


def test_a_missing_file_is_refused_with_exit_2(context: OpsContext, tmp_path: Path) -> None:
    result = run(context, str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "cannot read" in result.output
