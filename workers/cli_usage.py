"""`paycollect usage import FILE.csv`: call records from a file, as `POST /v1/usage` takes them.

The file has a header row naming the fields (`id, subscription, number, direction,
destination, started_at, duration_seconds`; other columns are ignored). Records are checked
one by one and stored in batches of 5,000 with the API's dedupe: a record already stored is a
duplicate, a bad one is refused with its line number and field, the others are stored.
Exit codes: 0 all stored (or already stored), 2 the file cannot be read or has no proper
header, 4 some records were refused (the others are stored).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress

from domain.call_records import FIELDS, Refusal
from workers.cli_support import console, handled, ops, print_json, print_table
from workers.handlers.usage import IngestResult, ingest
from workers.operations.errors import BadArgument, Refused

usage_app = typer.Typer(no_args_is_help=True, help="Call records: import from a file.")

#: Records stored per transaction.
CHUNK = 5000
#: Refusals listed in the summary table (all of them with --json).
SHOWN = 50


@usage_app.command("import")
@handled
def usage_import(ctx: typer.Context,
                 file: Path = typer.Argument(..., help="CSV file with a header row"),
                 as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON")
                 ) -> None:
    """Import call records from FILE.csv (deduplicated by id; bad lines refused)."""
    lines = _count_lines(file)
    deps = ops(ctx).get_deps()
    total = IngestResult()
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in FIELDS if name not in (reader.fieldnames or [])]
        if missing:
            raise BadArgument(f"{file}: the header row lacks {', '.join(missing)} (expected "
                              f"{','.join(FIELDS)})")
        with Progress(console=console(), transient=True, disable=as_json) as progress:
            task = progress.add_task("importing call records", total=max(lines - 1, 0))
            chunk: list[dict[str, Any]] = []
            line_numbers: list[int] = []
            try:
                for row in reader:
                    chunk.append(row)
                    line_numbers.append(reader.line_num)
                    if len(chunk) == CHUNK:
                        total.add(_store(deps, chunk, line_numbers))
                        progress.advance(task, len(chunk))
                        chunk, line_numbers = [], []
            except (csv.Error, UnicodeDecodeError) as error:
                raise BadArgument(f"{file}, line {reader.line_num}: {error}") from None
            total.add(_store(deps, chunk, line_numbers))
            progress.advance(task, len(chunk))
    _report(total, as_json=as_json)
    if total.refused:
        raise Refused(f"{len(total.refused)} record(s) refused; the others were stored")


def _count_lines(file: Path) -> int:
    try:
        with file.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError as error:
        raise BadArgument(f"cannot read {file}: {error.strerror or error}") from None


def _store(deps: Any, chunk: list[dict[str, Any]], line_numbers: list[int]) -> IngestResult:
    if not chunk:
        return IngestResult()
    with deps.uow_factory() as uow:
        result = ingest(uow, raws=chunk, now=deps.clock.now(), text_values=True)
        uow.commit()
    # Refusals name the file's line, not the position in the chunk.
    result.refused = [Refusal(line_numbers[r.index], r.field, r.message)
                      for r in result.refused]
    return result


def _report(total: IngestResult, *, as_json: bool) -> None:
    if as_json:
        print_json({"accepted": total.accepted, "new": total.new,
                    "duplicates": total.duplicates,
                    "refused": [{"line": r.index, "field": r.field, "message": r.message}
                                for r in total.refused]})
        return
    console().print(f"{total.new:,} new, {total.duplicates:,} duplicates (already stored), "
                    f"{len(total.refused):,} refused")
    if total.refused:
        rows = [[r.index, r.field, r.message] for r in total.refused[:SHOWN]]
        more = len(total.refused) - SHOWN
        print_table("Refused records" + (f" (first {SHOWN}; {more:,} more)" if more > 0 else ""),
                    ["line", "field", "why"], rows)
