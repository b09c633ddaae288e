"""Every operators' console command through typer's CliRunner, on a real SQLite file,
including its error paths and exit codes (see workers/cli_support.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from domain.records import Notification
from tests.integration.ops_world import OpsWorld, build_world
from workers.cli import app


@pytest.fixture
def world(tmp_path: Path) -> Iterator[OpsWorld]:
    built = build_world(f"sqlite:///{tmp_path / 'ops.db'}")
    yield built
    built.console.close()


def run(world: OpsWorld, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), obj=world.context())


def audit(world: OpsWorld) -> list[tuple[str, str, str, str]]:
    with world.deps.uow_factory() as uow:
        return [(e.actor, e.action, e.target, e.reason) for e in uow.audit.list(limit=1000)]


# --- payments failed ------------------------------------------------------------------------

def test_payments_failed_lists_account_invoice_amount_failure_attempts_and_next_retry(
        world: OpsWorld) -> None:
    # Given one soft and one hard decline on open invoices
    # When the operator lists failed payments
    result = run(world, "payments", "failed")
    # Then both appear with their failure class and code, and the soft one's next retry
    assert result.exit_code == 0, result.output
    assert "acc_soft" in result.output
    assert "insufficient_funds" in result.output
    assert "acc_hard" in result.output
    assert "lost_card" in result.output
    assert "2026-03-03" in result.output


def test_payments_failed_filters_by_reason_and_prints_json(world: OpsWorld) -> None:
    # When the operator asks for hard declines only, as JSON
    result = run(world, "payments", "failed", "--reason", "hard", "--json")
    # Then only the lost card is listed, with its attempt count and no retry
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["attempt"], r["failure_class"], r["failure_code"], r["attempts"], r["next_retry"])
            for r in rows] == [("att_hard", "hard", "lost_card", 1, None)]


def test_payments_failed_filters_by_failure_code_method_and_since(world: OpsWorld) -> None:
    by_code = json.loads(run(world, "payments", "failed", "--reason", "insufficient_funds",
                             "--json").output)
    assert [r["attempt"] for r in by_code] == ["att_soft"]
    assert json.loads(run(world, "payments", "failed", "--method", "wire", "--json").output) == []
    assert json.loads(run(world, "payments", "failed", "--since", "2026-03-02",
                          "--json").output) == []


def test_payments_failed_rejects_a_bad_method_or_date_with_exit_code_2(world: OpsWorld) -> None:
    bad_method = run(world, "payments", "failed", "--method", "cheque")
    assert bad_method.exit_code == 2
    assert "--method: 'cheque' is not one of card, direct_debit, wire" in bad_method.stderr
    bad_date = run(world, "payments", "failed", "--since", "yesterday")
    assert bad_date.exit_code == 2
    assert "not a date" in bad_date.stderr


# --- payments requeue -----------------------------------------------------------------------

def test_requeue_re_queues_a_soft_decline_now_and_audits_who_and_why(world: OpsWorld) -> None:
    # When the operator re-queues the soft decline
    result = run(world, "payments", "requeue", "att_soft", "--reason", "customer called",
                 "--actor", "alice")
    # Then a new attempt is sent to the card worker, and the audit log says who and why
    assert result.exit_code == 0, result.output
    assert "requeued" in result.output
    assert [m.kind for m in world.dispatch.of("collect")] == ["collect"]
    assert ("alice", "payment.requeue", "att_soft", "customer called") in audit(world)


def test_requeue_refuses_a_hard_decline_without_force_and_says_why(world: OpsWorld) -> None:
    # When the operator re-queues the lost card without --force
    result = run(world, "payments", "requeue", "att_hard", "--reason", "try again",
                 "--actor", "bob")
    # Then it is refused with exit code 4, the reason names the hard decline, nothing was sent
    assert result.exit_code == 4
    assert "hard decline (lost_card)" in result.stderr
    assert world.dispatch.of("collect") == []
    assert any(action == "payment.requeue_refused" for _a, action, _t, _r in audit(world))


def test_requeue_with_force_re_queues_a_hard_decline(world: OpsWorld) -> None:
    result = run(world, "payments", "requeue", "att_hard", "--reason", "new card on file",
                 "--force", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["outcome"] == "requeued"
    assert row["new_attempt"]


def test_requeue_all_failed_dry_run_changes_nothing(world: OpsWorld) -> None:
    # When the operator previews re-queueing every failed card payment
    result = run(world, "payments", "requeue", "--all-failed", "--method", "card", "--dry-run",
                 "--reason", "bank outage over", "--json")
    # Then the soft one would go and the hard one would be refused (exit 4); nothing moved
    assert result.exit_code == 4
    rows = {r["attempt"]: r["outcome"] for r in json.loads(result.stdout)}
    assert rows == {"att_soft": "would_requeue", "att_hard": "would_refuse"}
    assert world.dispatch.messages == []


def test_requeue_all_failed_shows_a_progress_bar_and_re_queues_the_soft_ones(
        world: OpsWorld) -> None:
    result = run(world, "payments", "requeue", "--all-failed", "--reason", "bank outage over",
                 "--force")
    assert result.exit_code == 0, result.output
    assert len(world.dispatch.of("collect")) == 2


def test_requeue_errors_unknown_id_missing_reason_and_conflicting_arguments(
        world: OpsWorld) -> None:
    unknown = run(world, "payments", "requeue", "att_nope", "--reason", "x")
    assert unknown.exit_code == 3
    assert "no payment attempt 'att_nope'" in unknown.stderr
    no_reason = run(world, "payments", "requeue", "att_soft")
    assert no_reason.exit_code == 2
    assert "--reason" in no_reason.output + no_reason.stderr
    both = run(world, "payments", "requeue", "att_soft", "--all-failed", "--reason", "x")
    assert both.exit_code == 2
    assert "one or the other" in both.stderr
    blank = run(world, "payments", "requeue", "att_soft", "--reason", " ")
    assert blank.exit_code == 2


# --- invoices -------------------------------------------------------------------------------

def test_invoices_list_filters_by_account_and_status(world: OpsWorld) -> None:
    rows = json.loads(run(world, "invoices", "list", "--account", "acc_wire", "--json").output)
    assert [(r["account"], r["status"]) for r in rows] == [("acc_wire", "open")]
    table = run(world, "invoices", "list", "--status", "open")
    assert table.exit_code == 0
    assert "PC-2026-000001" in table.output
    assert "PC-2026-000003" in table.output
    assert json.loads(run(world, "invoices", "list", "--status", "paid", "--json").output) == []


def test_invoices_list_errors(world: OpsWorld) -> None:
    assert run(world, "invoices", "list", "--status", "lost").exit_code == 2
    unknown = run(world, "invoices", "list", "--account", "acc_nope")
    assert unknown.exit_code == 3
    assert "no account 'acc_nope'" in unknown.stderr


def test_invoices_show_prints_the_invoice_as_the_customer_reads_it(world: OpsWorld) -> None:
    # When the operator shows the wire invoice by its number
    with world.deps.uow_factory() as uow:
        wire = uow.invoices.get(invoice_id=world.invoice_ids["acc_wire"])
    assert wire is not None
    result = run(world, "invoices", "show", wire.number)
    # Then the text invoice names it and prints its payment reference
    assert result.exit_code == 0, result.output
    assert wire.number in result.output
    assert wire.payment_reference is not None
    assert wire.payment_reference[:4] in result.output.replace(" ", "")


def test_invoices_show_html_and_json(world: OpsWorld) -> None:
    invoice_id = world.invoice_ids["acc_soft"]
    html = run(world, "invoices", "show", invoice_id, "--html")
    assert html.exit_code == 0
    assert "<html" in html.output.lower()
    doc = json.loads(run(world, "invoices", "show", invoice_id, "--json").output)
    assert doc["id"] == invoice_id
    assert [a["status"] for a in doc["attempts"]] == ["failed", "scheduled"]


def test_invoices_show_an_unknown_invoice_exits_3(world: OpsWorld) -> None:
    result = run(world, "invoices", "show", "PC-1999-000001")
    assert result.exit_code == 3
    assert "no invoice with id or number 'PC-1999-000001'" in result.stderr


# --- accounts -------------------------------------------------------------------------------

def test_accounts_show_prints_the_ledger_with_a_running_balance_standing_and_method(
        world: OpsWorld) -> None:
    doc = json.loads(run(world, "accounts", "show", "acc_hard", "--json").output)
    assert doc["standing"] == "active"
    assert doc["payment_method"] == {"type": "card", "scheme": None, "usable": False,
                                     "provider_customer": "cus_hard",
                                     "provider_method": "pm_lost"}
    assert [(e["kind"], e["amount_minor"], e["balance_minor"]) for e in doc["ledger"]] == [
        ("invoice_issued", 9500, 9500)]
    table = run(world, "accounts", "show", "acc_hard")
    assert table.exit_code == 0
    assert "standing: active" in table.output
    assert "unusable" in table.output


def test_accounts_show_an_unknown_account_exits_3(world: OpsWorld) -> None:
    result = run(world, "accounts", "show", "acc_nope")
    assert result.exit_code == 3
    assert "no account 'acc_nope'" in result.stderr


# --- renewals -------------------------------------------------------------------------------

def test_renewals_run_issues_what_is_due_as_of_a_date_and_routes_it(world: OpsWorld) -> None:
    # When the operator runs the renewals as of 04-01, on 04-01
    world.clock.advance(days=31)
    result = run(world, "renewals", "run", "--as-of", "2026-04-01", "--actor", "carol")
    # Then the three April invoices are issued and routed, and the run is audited
    assert result.exit_code == 0, result.output
    assert "3 invoice(s) issued as of 2026-04-01" in result.output
    assert len(world.dispatch.of("route_invoice")) == 3
    assert ("carol", "renewals.run", "2026-04-01", "") in audit(world)
    # And running it again issues nothing
    again = json.loads(run(world, "renewals", "run", "--as-of", "2026-04-01", "--json").output)
    assert again == {"as_of": "2026-04-01", "issued": 0}


def test_renewals_run_rejects_a_bad_date(world: OpsWorld) -> None:
    result = run(world, "renewals", "run", "--as-of", "01/04/2026")
    assert result.exit_code == 2
    assert "not a date" in result.stderr


# --- wires ----------------------------------------------------------------------------------

def test_wires_receive_settles_the_invoice_carrying_the_reference(world: OpsWorld) -> None:
    with world.deps.uow_factory() as uow:
        wire = uow.invoices.get(invoice_id=world.invoice_ids["acc_wire"])
    assert wire is not None
    assert wire.payment_reference is not None
    result = run(world, "wires", "receive", "--reference", wire.payment_reference,
                 "--amount", "95.00", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "paid"


def test_wires_receive_the_same_bank_transaction_twice_changes_nothing(
        world: OpsWorld) -> None:
    with world.deps.uow_factory() as uow:
        wire = uow.invoices.get(invoice_id=world.invoice_ids["acc_wire"])
    assert wire is not None
    assert wire.payment_reference is not None
    args = ["wires", "receive", "--reference", wire.payment_reference, "--amount", "40.00",
            "--bank-ref", "STMT-2026-03-20-0042"]
    first = run(world, *args, "--json")
    again = run(world, *args)
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert json.loads(first.output)["duplicate"] is False
    assert "already recorded" in again.output
    assert "nothing changed" in again.output
    doc = json.loads(run(world, *args, "--json").output)
    assert (doc["duplicate"], doc["amount_due_minor"]) == (True, 5500)
    assert run(world, "wires", "receive", "--reference", "RF00", "--amount", "1",
               "--bank-ref", " ").exit_code == 2


def test_wires_receive_with_an_unknown_reference_is_kept_for_review_and_exits_5(
        world: OpsWorld) -> None:
    result = run(world, "wires", "receive", "--reference", "RF00NOPE", "--amount", "12.34")
    assert result.exit_code == 5
    assert "kept for review" in result.stderr
    with world.deps.uow_factory() as uow:
        [kept] = uow.unmatched_transfers.list()
    assert (kept.reference, kept.amount.minor) == ("RF00NOPE", 1234)


def test_wires_receive_rejects_bad_amounts_and_currencies(world: OpsWorld) -> None:
    for amount, currency, message in (("ten", "EUR", "not an amount"),
                                      ("1.234", "EUR", "at most 2 decimals"),
                                      ("-5", "EUR", "positive"),
                                      ("5", "XXX", "unknown currency")):
        result = run(world, "wires", "receive", "--reference", "RF00", "--amount", amount,
                     "--currency", currency)
        assert result.exit_code == 2, (amount, result.output)
        assert message in result.stderr


# --- the production wiring (no obj: everything from the environment) ------------------------

def test_commands_read_database_url_from_the_environment(
        world: OpsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only DATABASE_URL (no REDIS_URL: messages are left for the sweeper)
    monkeypatch.setenv("DATABASE_URL", world.url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    # When the operator lists invoices
    result = CliRunner().invoke(app, ["invoices", "list", "--json"])
    # Then the command read that database
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 3


def test_a_malformed_environment_variable_is_a_configuration_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_DUE_DAYS", "thirty")
    result = CliRunner().invoke(app, ["invoices", "list"])
    assert result.exit_code == 2
    assert "WIRE_DUE_DAYS" in result.stderr


# --- worker and scheduler -------------------------------------------------------------------

def test_worker_runs_dramatiqs_cli_on_the_actors(world: OpsWorld) -> None:
    ctx = world.context()
    ctx.settings = type(ctx.get_settings())(database_url=world.url, redis_url="redis://r:6379")
    result = CliRunner().invoke(app, ["worker", "--processes", "3", "--threads", "4",
                                      "--queue", "card", "--dry-run"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert "-m dramatiq workers.actors --processes 3 --threads 4 --queues card" in result.output
    # and tells the processes their thread count (their provider pool is sized from it)
    assert result.output.startswith("WORKER_THREADS=4 ")


def test_worker_needs_redis_and_known_queues(world: OpsWorld) -> None:
    no_redis = run(world, "worker", "--dry-run")
    assert no_redis.exit_code == 6
    assert "REDIS_URL is not set" in no_redis.stderr
    bad_queue = run(world, "worker", "--queue", "cheques", "--dry-run")
    assert bad_queue.exit_code == 2
    assert run(world, "worker", "--processes", "0").exit_code == 2


def test_scheduler_once_runs_one_tick(world: OpsWorld) -> None:
    world.clock.set(world.clock.now().replace(month=4, day=1))
    result = run(world, "scheduler", "--once")
    assert result.exit_code == 0, result.output
    assert "issued 3" in result.output


def test_scheduler_rejects_a_malformed_dunning_schedule(world: OpsWorld) -> None:
    ctx = world.context()
    ctx.settings = type(ctx.get_settings())(database_url=world.url,
                                            dunning_schedule_days="3,2,1")
    result = CliRunner().invoke(app, ["scheduler", "--once"], obj=ctx)
    assert result.exit_code == 2
    assert "DUNNING_SCHEDULE_DAYS" in result.stderr


# --- outbox -----------------------------------------------------------------------------------

def _queue_messages(world: OpsWorld) -> None:
    """Three unsent messages for acc_soft: one waiting, one given up, and one sent."""
    created = world.clock.now()
    with world.deps.uow_factory() as uow:
        for name, tries, sent in (("waiting", 1, False), ("given_up", 10, False),
                                  ("sent", 1, True)):
            uow.outbox.add(notification=Notification(
                id=f"ntf_{name}", account_id="acc_soft", kind="payment_failed",
                dedupe_key=f"payment_failed:{name}", to_address="billing@soft.example",
                subject="Payment failed", body_text="…", created_at=created,
                sent_at=created if sent else None, attempts=tries))
        uow.commit()


def test_outbox_list_shows_unsent_messages_and_which_were_given_up(world: OpsWorld) -> None:
    _queue_messages(world)
    everything = json.loads(run(world, "outbox", "list", "--json").output)
    assert [(r["id"], r["tries"], r["state"]) for r in everything] == [
        ("ntf_given_up", 10, "given up"), ("ntf_waiting", 1, "waiting")]
    given_up = json.loads(run(world, "outbox", "list", "--given-up", "--json").output)
    assert [r["id"] for r in given_up] == ["ntf_given_up"]
    table = run(world, "outbox", "list")
    assert table.exit_code == 0, table.output
    assert "ntf_waiting" in table.output
    assert "given up" in table.output


def test_outbox_resend_starts_a_given_up_message_over_asks_for_a_drain_and_audits(
        world: OpsWorld) -> None:
    # Given a message the drains gave up on (the customer's address was fixed meanwhile)
    _queue_messages(world)
    # When the operator sends it again
    result = run(world, "outbox", "resend", "ntf_given_up", "--reason", "address fixed",
                 "--actor", "ana")
    # Then it starts over (no tries, waiting), a drain is asked for, and it is audited
    assert result.exit_code == 0, result.output
    assert "1 message(s) queued to be sent again: ntf_given_up" in result.output
    rows = json.loads(run(world, "outbox", "list", "--json").output)
    assert {r["id"]: (r["tries"], r["state"]) for r in rows}["ntf_given_up"] == (0, "waiting")
    assert [m.target for m in world.dispatch.of("send_notification")] == ["ntf_given_up"]
    assert ("ana", "notification.resend", "ntf_given_up", "address fixed") in audit(world)


def test_outbox_resend_refuses_a_sent_message_an_unknown_one_and_a_missing_reason(
        world: OpsWorld) -> None:
    _queue_messages(world)
    sent = run(world, "outbox", "resend", "ntf_waiting", "ntf_sent", "--reason", "again")
    assert sent.exit_code == 4
    assert "ntf_sent was sent at" in sent.stderr
    unknown = run(world, "outbox", "resend", "ntf_nope", "--reason", "again")
    assert unknown.exit_code == 3
    assert "no customer message 'ntf_nope'" in unknown.stderr
    blank = run(world, "outbox", "resend", "ntf_waiting", "--reason", " ")
    assert blank.exit_code == 2
    # And a refused command changed nothing and asked for nothing
    rows = json.loads(run(world, "outbox", "list", "--json").output)
    assert {r["id"]: r["tries"] for r in rows} == {"ntf_given_up": 10, "ntf_waiting": 1}
    assert world.dispatch.of("send_notification") == []
