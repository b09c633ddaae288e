"""The operators' console: `paycollect payments|invoices|accounts|renewals|wires …`.

Each command is a thin shell over `workers.operations` (the HTTP operator API calls the same
functions): it parses arguments, prints a rich table or `--json`, and maps errors to exit codes
(see `workers.cli_support`). Commands that change something take `--actor` for the audit log.
"""

from __future__ import annotations

import typer
from rich.progress import Progress

from domain.accounts import MethodType
from domain.invoices import InvoiceStatus
from workers.cli_support import console, default_actor, handled, ops, print_json, print_table
from workers.operations import actions, queries, reactivation
from workers.operations.errors import BadArgument, Refused
from workers.operations.parsing import parse_amount, parse_choice, parse_date, parse_since

payments_app = typer.Typer(no_args_is_help=True, help="Failed payments: list and re-queue.")
invoices_app = typer.Typer(no_args_is_help=True, help="Invoices: list and show.")
accounts_app = typer.Typer(no_args_is_help=True, help="Accounts: ledger, standing, method.")
renewals_app = typer.Typer(no_args_is_help=True, help="Renewals: issue due invoices now.")
wires_app = typer.Typer(no_args_is_help=True, help="Bank wires received.")

ACTOR = typer.Option(None, "--actor", help="Who acts (audit log); default: login name")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table")
ATTEMPT_IDS = typer.Argument(None, help="attempt ids")


@payments_app.command("failed")
@handled
def payments_failed(ctx: typer.Context,
                    method: str | None = typer.Option(None, help="card, direct_debit or wire"),
                    reason: str | None = typer.Option(
                        None, help="failure class (soft, hard, customer_action) or code"),
                    since: str | None = typer.Option(None, help="failed on or after YYYY-MM-DD"),
                    account: str | None = typer.Option(None, help="one account only"),
                    as_json: bool = JSON) -> None:
    """Failed payments of open invoices, newest first."""
    rows = queries.failed_payments(ops(ctx).get_deps(),
                                   method=parse_choice(MethodType, method, name="--method"),
                                   reason=reason, since=parse_since(since), account_id=account)
    if as_json:
        print_json(rows)
        return
    print_table("Failed payments",
                ["attempt", "account", "invoice", "amount", "method", "class", "code",
                 "attempts", "next retry"],
                [[r["attempt"], r["account"], r["invoice"], r["amount"], r["method"],
                  r["failure_class"], r["failure_code"], r["attempts"], r["next_retry"] or "-"]
                 for r in rows])


@payments_app.command("requeue")
@handled
def payments_requeue(ctx: typer.Context,
                     attempt_ids: list[str] | None = ATTEMPT_IDS,
                     all_failed: bool = typer.Option(False, "--all-failed",
                                                     help="every re-queueable failed payment"),
                     method: str | None = typer.Option(None, help="with --all-failed"),
                     dry_run: bool = typer.Option(False, "--dry-run",
                                                  help="show what would happen"),
                     reason: str = typer.Option(..., help="why (written to the audit log)"),
                     force: bool = typer.Option(False, "--force",
                                                help="re-queue hard declines too"),
                     actor: str | None = ACTOR, as_json: bool = JSON) -> None:
    """Re-queue failed payments now. Hard declines are refused without --force.

    Exit code 4 when any payment was refused.
    """
    deps = ops(ctx).get_deps()
    targets = actions.requeue_targets(deps, attempt_ids=attempt_ids or [],
                                      all_failed=all_failed,
                                      method=parse_choice(MethodType, method, name="--method"))
    who = actor or default_actor()
    if len(targets) > 1 and not as_json:
        with Progress(console=console(), transient=True) as progress:
            task = progress.add_task("re-queueing", total=len(targets))
            results = actions.requeue(deps, targets=targets, reason=reason, actor=who,
                                      force=force, dry_run=dry_run,
                                      progress=lambda _r: progress.advance(task))
    else:
        results = actions.requeue(deps, targets=targets, reason=reason, actor=who, force=force,
                                  dry_run=dry_run)
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        print_table("Re-queue" + (" (dry run)" if dry_run else ""),
                    ["attempt", "outcome", "new attempt", "why"],
                    [[r.attempt, r.outcome, r.new_attempt or "-", r.message] for r in results])
        if not results:
            typer.echo("nothing to re-queue")
    refused = [r for r in results if r.outcome in ("refused", "would_refuse")]
    if refused:
        raise Refused(f"{len(refused)} of {len(results)} refused: " +
                      "; ".join(f"{r.attempt}: {r.message}" for r in refused))


@invoices_app.command("list")
@handled
def invoices_list(ctx: typer.Context, account: str | None = typer.Option(None),
                  status: str | None = typer.Option(None, help="open, paid, carried_forward…"),
                  limit: int | None = typer.Option(None, min=1), as_json: bool = JSON) -> None:
    """Invoices, oldest first."""
    rows = queries.list_invoices(ops(ctx).get_deps(), account_id=account,
                                 status=parse_choice(InvoiceStatus, status, name="--status"),
                                 limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table("Invoices",
                ["number", "account", "issued", "kind", "total", "due", "status", "id"],
                [[r["number"], r["account"], r["issued_on"], r["kind"], r["total"],
                  r["amount_due"], r["status"], r["id"]] for r in rows])


@invoices_app.command("show")
@handled
def invoices_show(ctx: typer.Context, ident: str = typer.Argument(..., help="id or number"),
                  html: bool = typer.Option(False, "--html", help="print the HTML document"),
                  as_json: bool = JSON) -> None:
    """One invoice as the customer sees it (text, or HTML with --html)."""
    doc = queries.show_invoice(ops(ctx).get_deps(), ident=ident, html=html)
    if as_json:
        print_json(doc)
        return
    typer.echo(doc["rendered"])
    if not html:
        typer.echo(f"status: {doc['status']}  amount due: {doc['amount_due']}  "
                   f"attempts: {len(doc['attempts'])}")


@accounts_app.command("show")
@handled
def accounts_show(ctx: typer.Context, account_id: str = typer.Argument(...),
                  as_json: bool = JSON) -> None:
    """An account: standing, payment method, and its ledger with the running balance."""
    doc = queries.show_account(ops(ctx).get_deps(), account_id=account_id)
    if as_json:
        print_json(doc)
        return
    method = doc["payment_method"]
    out = console()
    out.print(f"[bold]{doc['name']}[/bold] ({doc['id']})  standing: [bold]{doc['standing']}"
              f"[/bold]  language: {doc['language']}")
    out.print(f"payment method: {method['type']}"
              + (f" ({method['scheme']})" if method["scheme"] else "")
              + ("" if method["usable"] else "  [red]unusable: a new method is needed[/red]"))
    print_table(f"Ledger ({doc['currency']}, minor units)",
                ["on", "kind", "invoice", "amount", "balance", "memo"],
                [[e["on"], e["kind"], e["invoice"], e["amount_minor"], e["balance_minor"],
                  e["memo"]] for e in doc["ledger"]])
    out.print(f"balance: {doc['balance_minor']}  open invoices: "
              f"{', '.join(doc['open_invoices']) or '-'}")
    for sub in doc["subscriptions"]:
        ending = f"  ends {sub['ends_on']} ({sub['end_reason']})" if sub["ends_on"] else ""
        out.print(f"subscription {sub['id']}: {sub['status']}, started {sub['started_on']}{ending}")


@accounts_app.command("reactivate")
@handled
def accounts_reactivate(ctx: typer.Context, account_id: str = typer.Argument(...),
                        reason: str = typer.Option(..., help="why (written to the audit log)"),
                        on: str | None = typer.Option(
                            None, "--on", help="the new anchor, YYYY-MM-DD; today"),
                        users: int | None = typer.Option(
                            None, help="users of the new subscription; those in use at the end"),
                        numbers: int | None = typer.Option(
                            None, help="numbers of the new subscription; those in use at the end"),
                        force: bool = typer.Option(
                            False, "--force",
                            help="restart an account that was not terminated or still owes"),
                        actor: str | None = ACTOR, as_json: bool = JSON) -> None:
    """Start a new subscription (same plan, new anchor) for a terminated account.

    Exit code 4 when the account is not terminated or still owes money (without --force).
    """
    deps = ops(ctx).get_deps()
    result = reactivation.reactivate(
        deps, account_id=account_id, reason=reason, actor=actor or default_actor(),
        on=parse_date(on, name="--on") if on else None, users=users, numbers=numbers,
        force=force)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"account {account_id}: subscription {result['subscription']} starts on "
                   f"{result['started_on']} ({result['users']} user(s), {result['numbers']} "
                   f"number(s)); its first invoice is issued that day")


@renewals_app.command("run")
@handled
def renewals_run(ctx: typer.Context,
                 as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD; today"),
                 actor: str | None = ACTOR, as_json: bool = JSON) -> None:
    """Issue every invoice due on or before --as-of now (dated on its anchor day)."""
    deps = ops(ctx).get_deps()
    day = parse_date(as_of, name="--as-of") if as_of else deps.clock.today()
    result = actions.run_renewals(deps, as_of=day, actor=actor or default_actor())
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{result['issued']} invoice(s) issued as of {result['as_of']}")


@wires_app.command("receive")
@handled
def wires_receive(ctx: typer.Context, reference: str = typer.Option(..., help="as received"),
                  amount: str = typer.Option(..., help="in major units, e.g. 150.00"),
                  currency: str = typer.Option("EUR", help="ISO 4217 code"),
                  on: str | None = typer.Option(None, help="value date YYYY-MM-DD; today"),
                  bank_ref: str | None = typer.Option(
                      None, "--bank-ref",
                      help="the bank's id for this statement line: recording it again "
                           "changes nothing (without it a transfer entered twice counts twice)"),
                  actor: str | None = ACTOR, as_json: bool = JSON) -> None:
    """Record a received bank transfer against the invoice carrying its reference.

    An unknown reference is kept for review and exits with code 5.
    """
    deps = ops(ctx).get_deps()
    received_on = parse_date(on, name="--on") if on else deps.clock.today()
    if bank_ref is not None and not bank_ref.strip():
        raise BadArgument("--bank-ref must not be empty")
    result = actions.receive_wire(deps, reference=reference,
                                  amount=parse_amount(amount, currency=currency),
                                  received_on=received_on, actor=actor or default_actor(),
                                  bank_ref=bank_ref.strip() if bank_ref else None)
    if as_json:
        print_json(result)
    elif result["duplicate"]:
        typer.echo(f"bank transaction {bank_ref} was already recorded on invoice "
                   f"{result['invoice']}: nothing changed (now {result['status']}, "
                   f"amount due {result['amount_due_minor']})")
    else:
        typer.echo(f"recorded on invoice {result['invoice']}: now {result['status']}, "
                   f"amount due {result['amount_due_minor']}")


def register(app: typer.Typer) -> None:
    """Add the operators' commands to the `paycollect` app."""
    from workers.cli_events import endpoints_app, events_app
    from workers.cli_outbox import outbox_app
    from workers.cli_system import dead_letters_app, scheduler, worker

    app.add_typer(payments_app, name="payments")
    app.add_typer(invoices_app, name="invoices")
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(renewals_app, name="renewals")
    app.add_typer(wires_app, name="wires")
    app.add_typer(dead_letters_app, name="dead-letters")
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(endpoints_app, name="endpoints")
    app.add_typer(events_app, name="events")
    app.command(name="worker")(worker)
    app.command(name="scheduler")(scheduler)
