"""Attempts and the ledger on real SQLite and PostgreSQL: the guards against paying twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import MethodType
from domain.clock import ManualClock, at_utc
from domain.errors import AttemptAlreadyActive, DuplicateAttempt
from domain.invoices import InvoiceKind, Period
from domain.ledger import EntryKind, entry
from domain.money import CurrencyMismatch, Money
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus
from tests.builders import a_subscription, an_account, an_attempt, an_invoice, eur

NOON = at_utc(2026, 2, 28, 12)


@pytest.fixture
def invoiced(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    """An account, a subscription and two open invoices (inv_1, inv_2), committed."""
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=a_subscription())
        uow.invoices.add_with_lines(invoice=an_invoice())
        uow.invoices.add_with_lines(invoice=an_invoice(
            id="inv_2", number="PC-2026-000002", subscription_id="sub_1",
            period=Period(date(2026, 3, 31), date(2026, 4, 30))))
        uow.commit()
    return uow_factory


def test_an_attempt_round_trips_exactly(invoiced: SqlUnitOfWorkFactory) -> None:
    # Given a reversed attempt using every field, with an instant given in another zone
    paris = timezone(timedelta(hours=1))
    attempt = an_attempt(
        status=AttemptStatus.REVERSED, scheduled_for=datetime(2026, 3, 1, 10, tzinfo=paris),
        provider_ref="pi_1", failure_code="card_declined", failure_class=DeclineKind.SOFT,
        failure_message="insufficient funds", retry_schedule_days=(1, 3, 5, 7),
        first_failed_at=at_utc(2026, 2, 28, 9), amount_reversed=eur(11179),
        reversal_refs=("dp_1", "dp_2"), cancelled_reversal_refs=("dp_2",), reason="retry")
    with invoiced() as uow:
        uow.attempts.add(attempt=attempt)
        uow.commit()
    # When it is read back
    with invoiced() as uow:
        stored = uow.attempts.get(attempt_id="att_1")
        # Then it is equal, and its instants are aware UTC
        assert stored == attempt
        assert stored is not None
        assert stored.scheduled_for is not None
        assert stored.scheduled_for.tzinfo == UTC
        assert uow.attempts.get_for_update(attempt_id="att_1") == attempt
        assert uow.attempts.by_provider_ref(provider_ref="pi_1") == attempt


def test_an_invoice_cannot_have_two_active_attempts(invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given a card charge in flight on inv_1
        uow.attempts.add(attempt=an_attempt())
        # When a second worker writes another active attempt for the same invoice
        with pytest.raises(AttemptAlreadyActive):
            uow.attempts.add(attempt=an_attempt(id="att_2", number=2,
                                                status=AttemptStatus.SCHEDULED))
        # Then the transaction goes on: the same id again is a duplicate, another invoice fine
        with pytest.raises(DuplicateAttempt):
            uow.attempts.add(attempt=an_attempt(status=AttemptStatus.FAILED))
        uow.attempts.add(attempt=an_attempt(id="att_3", invoice_id="inv_2"))
        uow.commit()
    with invoiced() as uow:
        assert uow.attempts.active_for_invoice(invoice_id="inv_1") == an_attempt()
        assert uow.attempts.get(attempt_id="att_2") is None


def test_a_new_attempt_is_allowed_once_the_previous_one_is_terminal(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given the first attempt failed
        first = an_attempt()
        uow.attempts.add(attempt=first)
        failed = an_attempt(status=AttemptStatus.FAILED, updated_at=NOON)
        assert uow.attempts.update(attempt=failed, expected_status=AttemptStatus.PROCESSING)
        # When the retry is scheduled
        retry = an_attempt(id="att_2", number=2, status=AttemptStatus.SCHEDULED,
                           scheduled_for=NOON + timedelta(days=1))
        uow.attempts.add(attempt=retry)
        # Then it is the invoice's active attempt
        assert uow.attempts.active_for_invoice(invoice_id="inv_1") == retry
        assert uow.attempts.list_for_invoice(invoice_id="inv_1") == [failed, retry]
        # And reviving the failed one now collides with the retry
        with pytest.raises(AttemptAlreadyActive):
            uow.attempts.update(attempt=first, expected_status=AttemptStatus.FAILED)
        assert uow.attempts.get(attempt_id="att_1") == failed


def test_an_update_expecting_a_stale_status_changes_nothing(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given an attempt a webhook already moved to succeeded
        uow.attempts.add(attempt=an_attempt())
        succeeded = an_attempt(status=AttemptStatus.SUCCEEDED, provider_ref="pi_1")
        assert uow.attempts.update(attempt=succeeded, expected_status=AttemptStatus.PROCESSING)
        # When the synchronous response, still expecting processing, tries to fail it
        late = an_attempt(status=AttemptStatus.FAILED, failure_code="card_declined")
        moved = uow.attempts.update(attempt=late, expected_status=AttemptStatus.PROCESSING)
        # Then it is told so, and the attempt stays succeeded
        assert moved is False
        assert uow.attempts.get(attempt_id="att_1") == succeeded


def test_in_flight_amounts_count_only_money_that_may_be_moving(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given a pending debit on inv_1 and a scheduled retry on inv_2
        uow.attempts.add(attempt=an_attempt(status=AttemptStatus.PENDING, amount=eur(4000)))
        uow.attempts.add(attempt=an_attempt(id="att_2", invoice_id="inv_2",
                                            status=AttemptStatus.SCHEDULED, scheduled_for=NOON))
        # When balance forward asks what is in flight
        in_flight = uow.attempts.in_flight_amounts(invoice_ids=["inv_1", "inv_2"])
        # Then only the pending debit counts
        assert in_flight == {"inv_1": eur(4000)}
        assert uow.attempts.in_flight_amounts(invoice_ids=[]) == {}


def test_carrying_an_invoice_forward_cancels_its_scheduled_retries(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given a scheduled retry on inv_1 and a pending debit on inv_2
        uow.attempts.add(attempt=an_attempt(status=AttemptStatus.SCHEDULED, scheduled_for=NOON))
        uow.attempts.add(attempt=an_attempt(id="att_2", invoice_id="inv_2",
                                            status=AttemptStatus.PENDING))
        # When both invoices' scheduled attempts are cancelled
        cancelled = uow.attempts.cancel_scheduled(invoice_ids=["inv_1", "inv_2"], now=NOON,
                                                  reason="carried forward")
        # Then only the scheduled one is, and the invoice is free for a new attempt
        assert cancelled == ["att_1"]
        attempt = uow.attempts.get(attempt_id="att_1")
        assert attempt is not None
        assert (attempt.status, attempt.reason, attempt.updated_at) == \
            (AttemptStatus.CANCELED, "carried forward", NOON)
        assert uow.attempts.active_for_invoice(invoice_id="inv_1") is None


def test_the_sweeper_queries_find_due_stuck_and_failed_attempts(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given a retry due at noon, one processing since 9:00 and a hard decline
        due = an_attempt(status=AttemptStatus.SCHEDULED, scheduled_for=NOON)
        stuck = an_attempt(id="att_2", invoice_id="inv_2")
        uow.attempts.add(attempt=due)
        uow.attempts.add(attempt=stuck)
        declined = an_attempt(id="att_3", invoice_id="inv_2", status=AttemptStatus.FAILED,
                              failure_class=DeclineKind.HARD, updated_at=NOON)
        uow.attempts.add(attempt=declined)
        # When the sweeper looks at 12:00
        # Then each query finds exactly its attempt
        assert uow.attempts.due_scheduled(now=NOON, limit=10) == [due]
        assert uow.attempts.due_scheduled(now=NOON - timedelta(seconds=1), limit=10) == []
        assert uow.attempts.stuck(statuses={AttemptStatus.PROCESSING},
                                  older_than=NOON, limit=10) == [stuck]
        assert uow.attempts.failed(account_id="acc_1") == [declined]
        assert uow.attempts.failed(failure_class=DeclineKind.SOFT) == []
        assert uow.attempts.created_times(account_id="acc_1", method=MethodType.CARD,
                                          since=NOON - timedelta(days=30)) == \
            [due.created_at] * 3


def test_an_attempt_the_sweeper_asked_about_waits_until_any_change_or_its_time(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given a pending debit the sweeper asked to poll at noon (ask again at 12:10)
        pending = an_attempt(status=AttemptStatus.PENDING, provider_ref="PM1",
                             updated_at=NOON - timedelta(hours=2))
        uow.attempts.add(attempt=pending)
        uow.attempts.ask_again_at(attempt_ids=["att_1"], at=NOON + timedelta(minutes=10))

        def stuck(now: datetime) -> list[str]:
            return [a.id for a in uow.attempts.stuck(statuses={AttemptStatus.PENDING},
                                                     older_than=NOON, limit=10, now=now)]

        # Then it is left out until then, and found once that time has come
        assert stuck(NOON + timedelta(minutes=9)) == []
        assert stuck(NOON + timedelta(minutes=10)) == ["att_1"]
        # And any change to the attempt ends the wait at once
        uow.attempts.ask_again_at(attempt_ids=["att_1"], at=NOON + timedelta(hours=5))
        assert uow.attempts.update(attempt=replace(pending, failure_message="late"),
                                   expected_status=AttemptStatus.PENDING)
        assert stuck(NOON) == ["att_1"]
        # And an answer that changed nothing counts as a fresh look
        uow.attempts.ask_again_at(attempt_ids=["att_1"], at=NOON + timedelta(hours=5))
        uow.attempts.answered(attempt_id="att_1", now=NOON)
        assert stuck(NOON + timedelta(minutes=1)) == []
        assert uow.attempts.get(attempt_id="att_1").updated_at == NOON  # type: ignore[union-attr]


def test_the_sweeper_finds_open_invoices_that_were_never_routed(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given inv_1 has an attempt, inv_2 none, and a third one is open with nothing due
        uow.attempts.add(attempt=an_attempt(status=AttemptStatus.FAILED))
        uow.invoices.add_with_lines(invoice=an_invoice(
            id="inv_0", number="PC-2026-000000", kind=InvoiceKind.USAGE, lines=()))
        # When the sweeper asks which open invoices were never routed
        # Then only inv_2 is
        assert uow.invoices.open_without_attempts(limit=10) == ["inv_2"]
        # And once the sweeper routed it, not again before the time it set
        uow.invoices.ask_route_again_at(invoice_ids=["inv_2"], at=NOON + timedelta(minutes=5))
        assert uow.invoices.open_without_attempts(limit=10, asked_by=NOON) == []
        assert uow.invoices.open_without_attempts(
            limit=10, asked_by=NOON + timedelta(minutes=5)) == ["inv_2"]
        assert uow.invoices.open_without_attempts(limit=10) == ["inv_2"]


def test_the_ledger_round_trips_and_sums_to_the_balance(invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given an invoice debit and a partial payment credit
        debit = entry(EntryKind.INVOICE_ISSUED, account_id="acc_1", amount=eur(11179),
                      on=date(2026, 2, 28), invoice_id="inv_1", memo="PC-2026-000001")
        uow.attempts.add(attempt=an_attempt())
        credit = entry(EntryKind.PAYMENT_SETTLED, account_id="acc_1", amount=eur(5000),
                       on=date(2026, 3, 2), invoice_id="inv_1", attempt_id="att_1")
        assert uow.ledger.add(entry=debit, dedupe_key="issue:inv_1")
        assert uow.ledger.add(entry=credit)
        uow.commit()
    with invoiced() as uow:
        # When it is read back
        # Then it is the same entries, in order, and the balance is what is owed
        assert uow.ledger.list_for_account(account_id="acc_1") == [debit, credit]
        assert uow.ledger.balance(account_id="acc_1", currency="EUR") == eur(6179)
        assert uow.ledger.balance(account_id="nobody", currency="EUR") == eur(0)
        with pytest.raises(CurrencyMismatch):
            uow.ledger.balance(account_id="acc_1", currency="USD")


def test_the_same_settlement_applied_twice_credits_once(invoiced: SqlUnitOfWorkFactory) -> None:
    settle = entry(EntryKind.PAYMENT_SETTLED, account_id="acc_1", amount=eur(11179),
                   on=date(2026, 3, 1), invoice_id="inv_1")
    with invoiced() as uow:
        # Given the settlement is recorded
        assert uow.ledger.add(entry=settle, dedupe_key="settle:att_1") is True
        uow.commit()
    with invoiced() as uow:
        # When a duplicate webhook applies it again
        added = uow.ledger.add(entry=settle, dedupe_key="settle:att_1")
        # Then nothing is added, and the transaction is still usable
        assert added is False
        uow.accounts.update_payment_method(account_id="acc_1",
                                           method=an_account().payment_method)
        uow.commit()
    with invoiced() as uow:
        assert uow.ledger.balance(account_id="acc_1", currency="EUR") == Money(-11179, "EUR")


# PostgreSQL only: SQLite locks the whole database instead (BEGIN IMMEDIATE).
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_locking_an_attempt_locks_its_invoice_and_itself_but_not_the_account(
        invoiced: SqlUnitOfWorkFactory, engine: Engine) -> None:
    with invoiced() as uow:
        uow.attempts.add(attempt=an_attempt(id="att_1", invoice_id="inv_1"))
        uow.commit()
    # Given a unit of work that locked the attempt for a change
    with invoiced() as uow:
        locked = uow.invoices.lock_for_attempt(attempt_id="att_1")
        assert locked is not None
        assert locked.invoice.id == "inv_1"
        with engine.connect() as other:
            # Then another connection can lock neither the invoice nor the attempt
            for statement in (
                    "SELECT id FROM invoices WHERE id = 'inv_1' FOR UPDATE NOWAIT",
                    "SELECT id FROM payment_attempts WHERE id = 'att_1' FOR UPDATE NOWAIT"):
                with pytest.raises(OperationalError, match="lock"):
                    other.execute(text(statement))
                other.rollback()
            # But the account stays free (a customer may change the method meanwhile), and so
            # do the account's other invoices
            other.execute(text("SELECT id FROM accounts WHERE id = 'acc_1' FOR UPDATE NOWAIT"))
            other.execute(text("SELECT id FROM invoices WHERE id = 'inv_2' FOR UPDATE NOWAIT"))
            other.rollback()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_batch_locks_all_its_attempts_and_the_sweeper_skips_them_instead_of_waiting(
        invoiced: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    with invoiced() as uow:
        for n, invoice_id in ((1, "inv_1"), (2, "inv_2")):
            uow.attempts.add(attempt=an_attempt(id=f"att_{n}", invoice_id=invoice_id))
        uow.commit()
    # Given a collect batch holding the locks of att_1 (and its invoice) in one statement
    with invoiced() as batch:
        locked = batch.invoices.lock_for_attempts(attempt_ids=["att_1", "att_unknown"])
        assert [(one.invoice.id, one.attempt.id) for one in locked] == [("inv_1", "att_1")]
        # When the sweeper marks both attempts as asked about, in another transaction
        with invoiced() as sweeper:
            sweeper.attempts.ask_again_at(attempt_ids=["att_1", "att_2"], at=clock.now())
            sweeper.commit()
    # Then it did not wait for the batch (no deadlock is possible): it marked the free one
    with invoiced() as uow:
        not_marked = uow.attempts.stuck(statuses=[AttemptStatus.PROCESSING],
                                        older_than=clock.now() + timedelta(days=3650),
                                        limit=10, now=clock.now() - timedelta(seconds=1))
    assert [a.id for a in not_marked] == ["att_1"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("written", "kept"), [
    ("UPDATE invoices SET amount_paid_minor = 500 WHERE id = 'inv_2'", [True, False]),
    # both attempts are the one account's
    ("UPDATE accounts SET name = 'Renamed' WHERE id = 'acc_1'", [False, False]),
    ("UPDATE payment_attempts SET provider_ref = 'pi_webhook' WHERE id = 'att_2'",
     [True, False]),
], ids=["invoice", "account", "attempt"])
def test_a_batch_relocked_after_its_claim_reads_again_only_what_was_written_since(
        invoiced: SqlUnitOfWorkFactory, clock: ManualClock, written: str,
        kept: list[bool]) -> None:
    # Given two attempts claimed by a batch (locked, then written by the claim itself)
    with invoiced() as uow:
        for n, invoice_id in ((1, "inv_1"), (2, "inv_2")):
            uow.attempts.add(attempt=an_attempt(id=f"att_{n}", invoice_id=invoice_id,
                                                status=AttemptStatus.SCHEDULED))
        uow.commit()
    with invoiced() as claim:
        locked = claim.invoices.lock_for_attempts(attempt_ids=["att_1", "att_2"])
        amounts = {one.attempt.id: one.invoice.amount_due for one in locked}
        assert claim.attempts.claim_many(amounts=amounts, now=clock.now()) == set(amounts)
        claim.commit()
    known = {one.attempt.id: replace(one, attempt=replace(
        one.attempt, status=AttemptStatus.PROCESSING, updated_at=clock.now()))
        for one in locked}
    # and something else writing a row of the second attempt's while the calls ran
    with invoiced() as other:
        other.session.execute(text(written))  # type: ignore[attr-defined]
        other.commit()

    # When the batch locks its attempts again to record their outcomes
    with invoiced() as record:
        relocked = record.invoices.lock_for_attempts(attempt_ids=["att_1", "att_2"],
                                                     known=known)
        as_stored = record.invoices.lock_for_attempts(attempt_ids=["att_1", "att_2"])

    # Then an attempt none of whose rows was written since is the claim's, not read again;
    # the others are read as they are now; all are what the store holds
    assert [one.attempt.id for one in relocked] == ["att_1", "att_2"]
    assert [one is known[one.attempt.id] for one in relocked] == kept
    assert relocked == as_stored
    changed = {"invoice": relocked[1].invoice.amount_paid == eur(500),
               "account": relocked[1].account.name == "Renamed",
               "attempt": relocked[1].attempt.provider_ref == "pi_webhook"}
    assert [what for what, seen in changed.items() if seen] == [
        next(what for what in changed if what in written.split()[1])]


def test_attempts_inserted_and_claimed_in_one_statement_each_skip_what_clashes(
        invoiced: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given inv_1 with an active attempt
    with invoiced() as uow:
        uow.attempts.add(attempt=an_attempt(id="att_1", status=AttemptStatus.SCHEDULED))
        uow.commit()
    with invoiced() as uow:
        # When a batch inserts a second one for inv_1 and one for inv_2
        added = uow.attempts.add_many(attempts=[
            an_attempt(id="att_2", status=AttemptStatus.SCHEDULED),
            an_attempt(id="att_3", invoice_id="inv_2", status=AttemptStatus.SCHEDULED)])
        # and claims att_1, att_3 and a settled one, at new amounts
        claimed = uow.attempts.claim_many(amounts={"att_1": eur(100), "att_3": eur(200)},
                                          now=clock.now())
        uow.commit()
    # Then the clash was left out, the transaction went on, each amount went to its attempt
    assert (added, claimed) == ({"att_3"}, {"att_1", "att_3"})
    with invoiced() as uow:
        got = {a: uow.attempts.get(attempt_id=a) for a in ("att_1", "att_3")}
        assert uow.attempts.get(attempt_id="att_2") is None
        assert uow.attempts.claim_many(amounts={"att_1": eur(1)}, now=clock.now()) == set()
    assert {a: (x.status, x.amount) for a, x in got.items() if x is not None} == {
        "att_1": (AttemptStatus.PROCESSING, eur(100)),
        "att_3": (AttemptStatus.PROCESSING, eur(200))}
