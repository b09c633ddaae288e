"""`paycollect outbox list | resend`: customer messages not sent yet (see
workers/operations/outbox.py)."""

from __future__ import annotations

import typer

from workers.cli_support import default_actor, handled, ops, print_json, print_table
from workers.operations import outbox

outbox_app = typer.Typer(no_args_is_help=True,
                         help="Customer messages not sent yet: list, send again.")


@outbox_app.command("list")
@handled
def outbox_list(ctx: typer.Context,
                given_up: bool = typer.Option(False, "--given-up",
                                              help="only those the drains stopped trying"),
                limit: int = typer.Option(100, "--limit"),
                as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Messages queued and not sent, oldest first, with their tries."""
    rows = outbox.unsent(ops(ctx).get_deps(), given_up_only=given_up, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table("Customer messages not sent",
                ["id", "account", "kind", "to", "queued at", "tries", "state"],
                [[r["id"], r["account"], r["kind"], r["to"], r["queued_at"], r["tries"],
                  r["state"]] for r in rows])


@outbox_app.command("resend")
@handled
def outbox_resend(ctx: typer.Context,
                  notification_ids: list[str] = typer.Argument(
                      ..., metavar="ID...", help="message ids (see `outbox list`)"),
                  reason: str = typer.Option(..., help="why (written to the audit log)"),
                  actor: str | None = typer.Option(None, "--actor",
                                                   help="Who acts; default: login name")
                  ) -> None:
    """Send messages again from scratch (tries reset); a message already sent is refused."""
    sent = outbox.resend(ops(ctx).get_deps(), notification_ids=notification_ids,
                         reason=reason, actor=actor or default_actor())
    typer.echo(f"{len(sent)} message(s) queued to be sent again: {', '.join(sent)}")
