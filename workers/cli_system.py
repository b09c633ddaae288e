"""`paycollect worker`, `paycollect scheduler` and `paycollect dead-letters`: running the
system's processes and looking after the broker."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from types import FrameType

import typer

from adapters.broker import QUEUES
from domain.dunning import DunningPolicy, InvalidDunningSchedule
from workers.cli_support import handled, ops, print_json, print_table
from workers.config import Settings
from workers.operations import dead_letters
from workers.operations.errors import BadArgument, ServiceUnavailable

DEAD_LETTER_IDS = typer.Argument(None, help="dead-letter ids")
QUEUE_OPTION = typer.Option(None, "--queue", help="only these queues (repeatable)")

dead_letters_app = typer.Typer(no_args_is_help=True,
                               help="Messages that exhausted their retries (Redis).")


@dead_letters_app.command("list")
@handled
def dead_letters_list(ctx: typer.Context,
                      queue: str | None = typer.Option(None, help=", ".join(QUEUES)),
                      as_json: bool = typer.Option(False, "--json")) -> None:
    """Dead-lettered messages, oldest first."""
    context = ops(ctx)
    rows = dead_letters.list_dead_letters(context.get_redis(), queue=queue,
                                          namespace=context.dramatiq_namespace)
    if as_json:
        print_json(rows)
        return
    print_table("Dead letters", ["id", "queue", "actor", "args", "retries", "died at", "error"],
                [[r["id"], r["queue"], r["actor"], ", ".join(map(str, r["args"])), r["retries"],
                  r["died_at"], " ".join(r["error"] or [])] for r in rows])


@dead_letters_app.command("requeue")
@handled
def dead_letters_requeue(ctx: typer.Context,
                         ids: list[str] | None = DEAD_LETTER_IDS,
                         all_dead: bool = typer.Option(False, "--all", help="every one"),
                         queue: str | None = typer.Option(None, help="only this queue"),
                         as_json: bool = typer.Option(False, "--json")) -> None:
    """Put dead messages back on their queue with their retry count reset."""
    context = ops(ctx)
    moved = dead_letters.requeue_dead_letters(context.get_redis(), ids=ids or [],
                                              all_dead=all_dead, queue=queue,
                                              namespace=context.dramatiq_namespace)
    if as_json:
        print_json(moved)
    else:
        typer.echo(f"{len(moved)} message(s) re-queued")


def dramatiq_command(*, processes: int, threads: int, queues: list[str]) -> list[str]:
    command = [sys.executable, "-m", "dramatiq", "workers.actors",
               "--processes", str(processes), "--threads", str(threads)]
    if queues:
        command += ["--queues", *queues]
    return command


@handled
def worker(ctx: typer.Context,
           processes: int = typer.Option(2, min=1, help="worker processes"),
           threads: int = typer.Option(8, min=1, help="threads per process"),
           queues: list[str] | None = QUEUE_OPTION,
           dry_run: bool = typer.Option(False, "--dry-run", help="print the command only")
           ) -> None:
    """Run dramatiq worker processes on workers.actors (needs REDIS_URL)."""
    unknown = sorted(set(queues or []) - set(QUEUES))
    if unknown:
        raise BadArgument(f"--queue: unknown {', '.join(unknown)}; queues: {', '.join(QUEUES)}")
    if not ops(ctx).get_settings().redis_url:
        raise ServiceUnavailable("REDIS_URL is not set: workers consume Redis queues "
                                 "(without it, `paycollect simulate` runs everything embedded)")
    command = dramatiq_command(processes=processes, threads=threads, queues=queues or [])
    # The processes size their provider pool from WORKER_THREADS: the threads they run.
    threads_env = {"WORKER_THREADS": str(threads)}
    if dry_run:
        typer.echo(shlex.join([f"{k}={v}" for k, v in threads_env.items()] + command))
        return
    env = {**os.environ, **threads_env}
    raise typer.Exit(subprocess.call(command, env=env))  # noqa: S603 (our interpreter, module)


def _dunning_policy(settings: Settings) -> DunningPolicy:
    try:
        return DunningPolicy.from_config(settings.dunning_schedule_days)
    except InvalidDunningSchedule as error:
        raise BadArgument(f"DUNNING_SCHEDULE_DAYS: {error}") from None


@handled
def scheduler(ctx: typer.Context,
              once: bool = typer.Option(False, "--once", help="one tick, then exit"),
              tick_seconds: float | None = typer.Option(
                  None, "--tick-seconds", min=0.1, help="default SCHEDULER_TICK_SECONDS")
              ) -> None:
    """Renewals, due retries, the sweeper and dunning, every tick (several replicas are safe)."""
    from workers.scheduler import SchedulerSettings, run, tick
    from workers.scheduler_lock import RedisTickLock

    context = ops(ctx)
    settings = context.get_settings()
    interval = tick_seconds or settings.scheduler_tick_seconds
    config = SchedulerSettings(tick_seconds=interval, dunning=_dunning_policy(settings),
                               batch_size=settings.renewal_batch_size)
    if context.deps is None and not settings.redis_url:
        # No broker: run the whole system in this process (workers on the in-process broker).
        from domain.clock import SystemClock
        from workers.bootstrap import start_embedded

        embedded = start_embedded(settings, clock=SystemClock(), migrate=False)
        context.closers.append(embedded.close)
        context.deps = embedded.runtime.deps
    deps = context.get_deps()
    if once:
        report = tick(deps, settings=config)
        typer.echo(f"issued {report.issued}, notices {report.dunning.notices}")
        return
    lock = None
    if settings.redis_url:
        # The lock outlives a normal tick; a crashed replica blocks the others this long.
        ttl = int(max(interval * 2, timedelta(minutes=5).total_seconds()) * 1000)
        lock = RedisTickLock.from_url(settings.redis_url, ttl_ms=ttl)
        context.closers.append(lock.close)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"scheduler: a tick every {interval:g} s"
               + (" (Redis lock)" if lock else " (no REDIS_URL: embedded, single replica)"))
    run(deps, settings=config, stop=stop, lock=lock)
