"""`paycollect accounts reactivate` through typer's CliRunner on a real SQLite file (the
console tests' world, tests/integration/ops_world.py: monthly subscriptions started 03-01,
each 3 users + 1 number = 95.00 a month, March's invoices open)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from domain.clock import at_utc
from domain.plans import UnitKind
from tests.integration.ops_world import OpsWorld, build_world
from workers.cli import app
from workers.handlers.ending import TERMINATED, end_subscription
from workers.handlers.subscriptions import add_units

ENDED_ON = date(2026, 3, 28)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[OpsWorld]:
    built = build_world(f"sqlite:///{tmp_path / 'ops.db'}")
    # acc_wire and acc_hard are terminated on 03-28 (acc_wire had a user added on 03-10)
    built.clock.set(at_utc(2026, 3, 10, 9))
    add_units(built.deps, subscription_id="sub_acc_wire", kind=UnitKind.USERS, quantity=1,
              on=date(2026, 3, 10))
    built.clock.set(at_utc(2026, 3, 28, 9))
    for account in ("acc_wire", "acc_hard"):
        end_subscription(built.deps, subscription_id=f"sub_{account}", ends_on=ENDED_ON,
                         reason=TERMINATED)
    yield built
    built.console.close()


def run(world: OpsWorld, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), obj=world.context())


def pay_everything(world: OpsWorld, account_id: str) -> None:
    with world.deps.uow_factory() as uow:
        [final] = uow.invoices.list_open_for_account(account_id=account_id)
    amount = f"{final.amount_due.minor / 100:.2f}"
    paid = run(world, "wires", "receive", "--reference", final.payment_reference or "",
               "--amount", amount)
    assert paid.exit_code == 0, paid.output


def test_reactivating_a_terminated_account_that_paid_starts_a_new_subscription_audited(
        world: OpsWorld) -> None:
    # Given acc_wire terminated on 03-28, then everything owed paid
    pay_everything(world, "acc_wire")
    world.clock.set(at_utc(2026, 4, 2, 9))
    # When the operator reactivates it
    result = run(world, "accounts", "reactivate", "acc_wire", "--reason", "paid up, called us",
                 "--actor", "alice", "--json")
    # Then a new subscription starts today, same plan, with the 4 users and 1 number in use
    # when the old one ended
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["previous"], doc["started_on"], doc["users"], doc["numbers"], doc["forced"]) \
        == ("sub_acc_wire", "2026-04-02", 4, 1, False)
    with world.deps.uow_factory() as uow:
        new = uow.subscriptions.get(subscription_id=doc["subscription"])
        entries = [(e.actor, e.action, e.target, e.reason) for e in uow.audit.list(limit=1000)]
    assert new is not None
    assert new.is_live
    assert (new.started_on, new.next_renewal_on, new.plan.user_price.minor) == (
        date(2026, 4, 2), date(2026, 4, 2), 3000)
    assert ("alice", "account.reactivated", "acc_wire", "paid up, called us") in entries
    # And `accounts show` lists both subscriptions
    shown = run(world, "accounts", "show", "acc_wire")
    assert "subscription sub_acc_wire: ended, started 2026-03-01  ends 2026-03-28 (terminated)" \
        in shown.output
    assert f"subscription {doc['subscription']}: active, started 2026-04-02" in shown.output
    # And reactivating again is refused: it has a subscription running
    again = run(world, "accounts", "reactivate", "acc_wire", "--reason", "twice", "--force")
    assert again.exit_code == 4
    assert "still has subscription" in again.output


def test_reactivating_an_account_that_still_owes_is_refused_unless_forced(
        world: OpsWorld) -> None:
    # Given acc_hard terminated and still owing March's 95.00
    refused = run(world, "accounts", "reactivate", "acc_hard", "--reason", "asked nicely")
    assert refused.exit_code == 4
    assert "still owes 9500" in refused.output
    # When forced, on a given day with given units
    forced = run(world, "accounts", "reactivate", "acc_hard", "--reason", "manager's call",
                 "--force", "--on", "2026-04-15", "--users", "2", "--numbers", "0")
    # Then it starts as asked
    assert forced.exit_code == 0, forced.output
    assert "starts on 2026-04-15 (2 user(s), 0 number(s))" in forced.output


def test_reactivating_an_account_that_was_not_terminated_is_refused_unless_forced(
        world: OpsWorld) -> None:
    # Given acc_soft, whose subscription still runs
    running = run(world, "accounts", "reactivate", "acc_soft", "--reason", "why not")
    assert running.exit_code == 4
    # And a subscription canceled by the customer (not terminated), everything paid
    end_subscription(world.deps, subscription_id="sub_acc_soft", ends_on=ENDED_ON,
                     reason="canceled")
    pay_everything(world, "acc_soft")
    refused = run(world, "accounts", "reactivate", "acc_soft", "--reason", "came back")
    assert refused.exit_code == 4
    assert "was not terminated" in refused.output
    assert run(world, "accounts", "reactivate", "acc_soft", "--reason", "came back",
               "--force").exit_code == 0


def test_reactivate_errors_unknown_id_missing_reason_and_bad_dates(world: OpsWorld) -> None:
    assert run(world, "accounts", "reactivate", "acc_nope", "--reason", "x").exit_code == 3
    assert run(world, "accounts", "reactivate", "acc_wire").exit_code == 2
    assert run(world, "accounts", "reactivate", "acc_wire", "--reason", " ").exit_code == 2
    early = run(world, "accounts", "reactivate", "acc_hard", "--reason", "x", "--force",
                "--on", "2026-03-20")
    assert early.exit_code == 2
    assert "before the old subscription ended" in early.output
    assert run(world, "accounts", "reactivate", "acc_hard", "--reason", "x", "--force",
               "--on", "someday").exit_code == 2
