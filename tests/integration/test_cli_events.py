"""`paycollect endpoints …` and `paycollect events …` through typer's CliRunner, on the
console tests' SQLite world (its invoices were issued by the renewal handler: events exist)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.integration.ops_world import OpsWorld, build_world
from workers.cli import app
from workers.handlers.events import emit


@pytest.fixture
def world(tmp_path: Path) -> Iterator[OpsWorld]:
    built = build_world(f"sqlite:///{tmp_path / 'ops.db'}")
    yield built
    built.console.close()


def run(world: OpsWorld, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), obj=world.context())


def test_endpoints_add_prints_the_secret_once_and_list_never_shows_it(world: OpsWorld) -> None:
    added = run(world, "endpoints", "add", "https://platform.example/hook",
                "--events", "invoice.paid,payment.failed", "--description", "platform")
    assert added.exit_code == 0, added.output
    secret = next(word for word in added.output.split() if word.startswith("whsec_"))
    listed = run(world, "endpoints", "list", "--json")
    [row] = json.loads(listed.output)
    assert (row["url"], row["events"], row["status"]) == (
        "https://platform.example/hook", ["invoice.paid", "payment.failed"], "enabled")
    assert secret not in listed.output
    assert secret not in run(world, "endpoints", "list").output
    disabled = run(world, "endpoints", "disable", row["id"], "--actor", "ops")
    assert disabled.exit_code == 0, disabled.output
    assert json.loads(run(world, "endpoints", "list", "--json").output)[0]["status"] == \
        "disabled"


def test_endpoints_list_shows_a_paused_endpoint_until_when_and_after_how_many_failures(
        world: OpsWorld) -> None:
    # Given an endpoint the drains paused after its second failure in a row
    run(world, "endpoints", "add", "https://platform.example/hook", "--events", "invoice.paid")
    [row] = json.loads(run(world, "endpoints", "list", "--json").output)
    assert (row["paused_until"], row["failures"]) == (None, 0)
    until = world.deps.clock.now() + timedelta(minutes=2)
    with world.deps.uow_factory() as uow:
        uow.webhook_endpoints.pause(endpoint_id=row["id"], until=until - timedelta(minutes=1))
        uow.webhook_endpoints.pause(endpoint_id=row["id"], until=until)
        uow.commit()
    # When an operator lists the endpoints
    [paused] = json.loads(run(world, "endpoints", "list", "--json").output)
    table = run(world, "endpoints", "list").output
    # Then they see until when and after how many failures
    assert datetime.fromisoformat(paused["paused_until"]) == until
    assert paused["failures"] == 2
    assert "paused until" in table
    assert until.isoformat()[:16] in table.replace("\n", "")


def test_endpoints_add_refuses_a_bad_url_or_event_name_with_exit_2(world: OpsWorld) -> None:
    for args in (["ftp://x.example", "--events", "invoice.paid"],
                 ["https://x.example", "--events", "invoice.payed"]):
        result = run(world, "endpoints", "add", *args)
        assert result.exit_code == 2, result.output
    assert json.loads(run(world, "endpoints", "list", "--json").output) == []
    assert run(world, "endpoints", "disable", "we_nope").exit_code == 3


def test_events_list_show_and_resend_of_a_delivery_given_up(world: OpsWorld) -> None:
    # Given an endpoint, and an event to it whose delivery was given up
    run(world, "endpoints", "add", "https://platform.example/hook", "--events",
        "account.standing_changed")
    now = world.deps.clock.now()
    with world.deps.uow_factory() as uow:
        event_id = emit(uow, account_id="acc_soft", type="account.standing_changed",
                        data={"from": "active", "to": "restricted"}, occurred_at=now)
        [delivery] = uow.events.deliveries(event_id=event_id)
        event = uow.events.get(event_id=event_id)
        uow.events.record_failure(delivery_id=delivery.id, error="HTTP 500",
                                  next_attempt_at=None)
        uow.commit()
    # Then it is listed as failed, the account's events include it, show has its body
    failed = json.loads(run(world, "events", "list", "--failed", "--json").output)
    assert [r["id"] for r in failed] == [event_id]
    mine = json.loads(run(world, "events", "list", "--account", "acc_soft", "--json").output)
    assert event_id in [r["id"] for r in mine]
    shown = json.loads(run(world, "events", "show", event_id).output)
    assert event is not None
    assert shown["body"]["sequence"] == event.sequence
    assert [(d["status"], d["last_error"]) for d in shown["deliveries"]] == [
        ("failed", "HTTP 500")]
    # When the operator resends it
    resent = run(world, "events", "resend", event_id, "--reason", "platform fixed",
                 "--actor", "ops")
    # Then it is pending again, no longer failed, and the resend is audited
    assert resent.exit_code == 0, resent.output
    assert json.loads(run(world, "events", "list", "--failed", "--json").output) == []
    assert json.loads(run(world, "events", "show", event_id).output)["deliveries"][0][
        "status"] == "pending"
    with world.deps.uow_factory() as uow:
        assert [(e.actor, e.action, e.reason) for e in uow.audit.list(target=event_id)] == [
            ("ops", "event.resend", "platform fixed")]


def test_events_resend_refuses_unknown_ids_a_missing_reason_and_undeliverable_events(
        world: OpsWorld) -> None:
    with world.deps.uow_factory() as uow:
        event_id = emit(uow, account_id="acc_soft", type="invoice.paid", data={},
                        occurred_at=world.deps.clock.now())
        uow.commit()
    assert run(world, "events", "resend", "evt_nope", "--reason", "x").exit_code == 3
    assert run(world, "events", "resend", event_id, "--reason", " ").exit_code == 2
    assert run(world, "events", "resend", event_id, "--reason", "x").exit_code == 4
    assert run(world, "events", "show", "evt_nope").exit_code == 3
