"""`paycollect webhooks list | show | replay` (the inbox), and `paycollect serve` (the app)."""

from __future__ import annotations

import dataclasses
import json

import typer

from domain.records import WebhookEvent
from workers.config import load_settings
from workers.console_deps import ConsoleDeps, build_console_deps
from workers.handlers.webhooks import describe, process_webhook

webhooks_app = typer.Typer(no_args_is_help=True, help="The provider webhook inbox.")

STATUSES = ("pending", "parked", "processed")


def _console() -> ConsoleDeps:
    return build_console_deps(load_settings())


def _find(console: ConsoleDeps, event_ref: str) -> WebhookEvent:
    """`provider:event id`, or an event id alone (looked up for each provider)."""
    provider, _, event_id = event_ref.rpartition(":")
    providers = (provider,) if provider else ("stripe", "gocardless")
    with console.deps.uow_factory() as uow:
        for name in providers:
            found = uow.webhook_events.get(provider=name, event_id=event_id)
            if found is not None:
                return found
    typer.echo(f"error: no webhook event {event_ref}", err=True)
    raise typer.Exit(1)


@webhooks_app.command("list")
def list_events(status: str | None = typer.Option(None, "--status",
                                                  help="pending, parked or processed"),
                provider: str | None = typer.Option(None, "--provider"),
                limit: int = typer.Option(100, "--limit"),
                as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Stored events, newest first."""
    if status is not None and status not in STATUSES:
        typer.echo(f"error: --status must be one of {', '.join(STATUSES)}", err=True)
        raise typer.Exit(2)
    console = _console()
    try:
        with console.deps.uow_factory() as uow:
            events = uow.webhook_events.list(status=status, provider=provider, limit=limit)
    finally:
        console.close()
    if as_json:
        typer.echo(json.dumps([describe(event) for event in events], indent=2))
        return
    for event in events:
        typer.echo(f"{event.provider}:{event.event_id}  {event.type:<36} {event.status:<9} "
                   f"tries={event.attempts}  {event.note}")


@webhooks_app.command("show")
def show(event_ref: str = typer.Argument(..., metavar="ID",
                                         help="[provider:]event id")) -> None:
    """One stored event, with its payload, as JSON."""
    console = _console()
    try:
        event = _find(console, event_ref)
    finally:
        console.close()
    typer.echo(json.dumps({**describe(event), "payload": event.payload}, indent=2))


@webhooks_app.command("replay")
def replay(event_ref: str = typer.Argument(..., metavar="ID",
                                           help="[provider:]event id")) -> None:
    """Process a stored event again now; its effects still apply only once."""
    console = _console()
    try:
        event = _find(console, event_ref)
        status = process_webhook(console.deps, provider=event.provider,
                                 event_id=event.event_id, force=True)
        with console.deps.uow_factory() as uow:
            after = uow.webhook_events.get(provider=event.provider, event_id=event.event_id)
    finally:
        console.close()
    typer.echo(f"{event.provider}:{event.event_id} {status}: {after.note if after else ''}")


def serve(host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind"),
          port: int = typer.Option(8080, "--port")) -> None:
    """Serve the webhook app (POST /webhooks/stripe, /webhooks/gocardless; /healthz; /metrics),
    the customers' invoice pages (/i/TOKEN)
    and the operator API (/api/…, bearer OPERATOR_API_TOKEN; OpenAPI at /api/openapi.json).

    With REDIS_URL, each stored event is sent to the `process_webhook` actor; without it the
    events wait in the inbox for the scheduler's sweep.
    """
    import uvicorn

    from workers.webhook_app import create_webhook_app

    settings = load_settings()
    if not settings.stripe_webhook_secrets or not settings.gocardless_webhook_secrets:
        typer.echo("warning: STRIPE_WEBHOOK_SECRET / GOCARDLESS_WEBHOOK_SECRET unset: that "
                   "provider's webhooks are all rejected", err=True)
    if not settings.invoice_link_secrets:
        typer.echo("warning: INVOICE_LINK_SECRET unset: every invoice page link answers 404",
                   err=True)
    settings = dataclasses.replace(  # links printed by this process point at this server
        settings, public_base_url=settings.public_base_url or f"http://{host}:{port}")
    console = build_console_deps(settings)  # with REDIS_URL this configures the broker
    from workers.operator_api import operator_routes

    app = create_webhook_app(console.deps, settings,
                             enqueue=None if settings.redis_url else _leave_for_sweeper,
                             extra_routes=operator_routes(console.deps, settings))
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        console.close()


def _leave_for_sweeper(provider: str, event_id: str) -> None:
    """No broker: the scheduler's sweep processes stored events."""
