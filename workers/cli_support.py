"""What the operators' console commands share: where their dependencies come from, how
errors become exit codes, and how tables and JSON are printed.

Tests (and embedders) pass an `OpsContext` as Click's `obj`
(`CliRunner().invoke(app, args, obj=OpsContext(deps=...))`); otherwise everything is built
from the environment (DATABASE_URL, REDIS_URL) on first use and closed when the command ends.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from workers.config import ConfigError, Settings, load_settings
from workers.handlers.deps import Deps
from workers.operations.errors import OperatorError, ServiceUnavailable

P = ParamSpec("P")
R = TypeVar("R")

#: Exit codes (also in `paycollect --help` of each command): 0 ok, 1 unexpected error,
#: 2 bad arguments, 3 unknown id, 4 refused, 5 wire kept for review, 6 service not configured.
EXIT_CONFIG = 2


@dataclass
class OpsContext:
    deps: Deps | None = None
    settings: Settings | None = None
    redis_client: Any = None
    #: dramatiq's Redis key prefix (RedisBroker `namespace`).
    dramatiq_namespace: str = "dramatiq"
    closers: list[Callable[[], None]] = field(default_factory=list)

    def get_settings(self) -> Settings:
        if self.settings is None:
            self.settings = load_settings()
        return self.settings

    def get_deps(self) -> Deps:
        if self.deps is None:
            from workers.console_deps import build_console_deps

            built = build_console_deps(self.get_settings())
            self.closers.append(built.close)
            self.deps = built.deps
        return self.deps

    def get_redis(self) -> Any:
        if self.redis_client is None:
            url = self.get_settings().redis_url
            if not url:
                raise ServiceUnavailable("REDIS_URL is not set: dead letters live in Redis")
            import redis

            self.redis_client = redis.Redis.from_url(url)
            self.closers.append(self.redis_client.close)
        return self.redis_client

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()


def ops(ctx: typer.Context) -> OpsContext:
    """The command's OpsContext: the caller's `obj`, else one built from the environment."""
    root = ctx.find_root()
    if not isinstance(root.obj, OpsContext):
        root.obj = OpsContext()
        root.call_on_close(root.obj.close)
    return root.obj


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Operator errors become a message on stderr and their exit code (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OperatorError as error:
            typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
            raise typer.Exit(error.exit_code) from None
        except ConfigError as error:
            typer.secho(f"configuration error: {error}", err=True, fg=typer.colors.RED)
            raise typer.Exit(EXIT_CONFIG) from None

    return wrapper


def default_actor() -> str:
    """Who is acting, for the audit log: PAYCOLLECT_OPERATOR, else the login name."""
    try:
        return os.environ.get("PAYCOLLECT_OPERATOR") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def console() -> Console:
    # Wide when not a terminal (pipes, tests): rich would otherwise fold ids across lines.
    return Console(width=None if sys.stdout.isatty() else 200)


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table; None cells print empty."""
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if cell is None else str(cell) for cell in row])
    console().print(table)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
