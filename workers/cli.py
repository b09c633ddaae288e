"""`paycollect`: the command line (simulate, db, worker, wires; operators' console to come)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Paycollect: recurring payment collection.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")


def _register() -> None:
    from workers.cli_simulators import simulators

    app.command(name="simulators")(simulators)


_register()


def _register_operators() -> None:
    from workers.cli_ops import register

    register(app)


_register_operators()


def _register_webhooks() -> None:
    from workers.cli_webhooks import serve, webhooks_app

    app.add_typer(webhooks_app, name="webhooks")
    app.command(name="serve")(serve)


_register_webhooks()


def _register_usage() -> None:
    from workers.cli_usage import usage_app

    app.add_typer(usage_app, name="usage")


_register_usage()


@app.command()
def simulate(scenario: Path = typer.Argument(..., help="Scenario JSON file"),
             as_json: bool = typer.Option(False, "--json", help="Print the JSON document")
             ) -> None:
    """Replay a scenario through the real system on a fresh embedded database."""
    from workers.simulate.runner import run_scenario
    from workers.simulate.scenario import ScenarioError, load_scenario

    try:
        parsed = load_scenario(scenario)
    except ScenarioError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    result = run_scenario(parsed)
    if as_json:
        typer.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    else:
        typer.echo(result.text)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the migrations to DATABASE_URL."""
    from adapters.db.migrate import upgrade
    from workers.config import load_settings

    settings = load_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


def main() -> None:
    app(prog_name="paycollect")


if __name__ == "__main__":
    main()
