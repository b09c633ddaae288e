"""`paycollect endpoints add | list | disable` and `paycollect events list | show | resend`:
the business's webhook endpoints and the events sent to them."""

from __future__ import annotations

import typer

from workers.cli_support import default_actor, handled, ops, print_json, print_table
from workers.operations import endpoints, events

endpoints_app = typer.Typer(no_args_is_help=True,
                            help="The business's webhook endpoints: add, list, disable.")
events_app = typer.Typer(no_args_is_help=True,
                         help="Outgoing events: list, show, send again.")


@endpoints_app.command("add")
@handled
def endpoints_add(ctx: typer.Context, url: str = typer.Argument(..., help="http(s) URL"),
                  event_types: str = typer.Option(..., "--events",
                                                  help="comma-separated event types"),
                  description: str = typer.Option("", "--description"),
                  actor: str | None = typer.Option(None, "--actor")) -> None:
    """Add an endpoint; prints its signing secret, once (it is never shown again)."""
    created = endpoints.add(ops(ctx).get_deps(), url=url, events=event_types.split(","),
                            description=description, actor=actor or default_actor())
    typer.echo(f"endpoint {created.endpoint.id} receives {', '.join(created.endpoint.events)}")
    typer.echo(f"signing secret (shown once, keep it now): {created.secret}")


@endpoints_app.command("list")
@handled
def endpoints_list(ctx: typer.Context,
                   as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Every endpoint, oldest first (never its secret)."""
    rows = [endpoints.summary(e) for e in endpoints.listed(ops(ctx).get_deps())]
    if as_json:
        print_json(rows)
        return
    print_table("Webhook endpoints",
                ["id", "url", "events", "status", "created", "paused until", "failures"],
                [[r["id"], r["url"], ",".join(r["events"]), r["status"], r["created"],
                  r["paused_until"] or "", str(r["failures"])] for r in rows])


@endpoints_app.command("disable")
@handled
def endpoints_disable(ctx: typer.Context, endpoint_id: str = typer.Argument(..., metavar="ID"),
                      actor: str | None = typer.Option(None, "--actor")) -> None:
    """Stop delivering to an endpoint (audited)."""
    endpoints.disable(ops(ctx).get_deps(), endpoint_id=endpoint_id,
                      actor=actor or default_actor())
    typer.echo(f"endpoint {endpoint_id} disabled")


@events_app.command("list")
@handled
def events_list(ctx: typer.Context,
                failed: bool = typer.Option(False, "--failed",
                                            help="only events given up for some endpoint"),
                account: str | None = typer.Option(None, "--account"),
                limit: int = typer.Option(100, "--limit"),
                as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Events, newest first."""
    rows = events.listed(ops(ctx).get_deps(), account_id=account, failed_only=failed,
                         limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table("Events", ["id", "account", "sequence", "type", "created"],
                [[r["id"], r["account"], r["sequence"], r["type"], r["created"]] for r in rows])


@events_app.command("show")
@handled
def events_show(ctx: typer.Context, event_id: str = typer.Argument(..., metavar="ID")) -> None:
    """The event as sent and its deliveries (JSON)."""
    print_json(events.show(ops(ctx).get_deps(), event_id=event_id))


@events_app.command("resend")
@handled
def events_resend(ctx: typer.Context,
                  event_ids: list[str] = typer.Argument(..., metavar="ID..."),
                  reason: str = typer.Option(..., help="why (written to the audit log)"),
                  actor: str | None = typer.Option(None, "--actor")) -> None:
    """Deliver events again from scratch to their enabled endpoints (audited)."""
    deps = ops(ctx).get_deps()
    sent = events.resend(deps, event_ids=event_ids, reason=reason,
                         actor=actor or default_actor())
    typer.echo(f"{len(sent)} event(s) queued to be sent again: {', '.join(sent)}")
