"""Dunning notices travel from the outbox to a real SMTP server (aiosmtpd on loopback), in the
account's language, each exactly once however often its message is delivered."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.notifier import SmtpNotifier
from domain.clock import ManualClock
from domain.dunning import DunningPolicy
from domain.outcomes import Declined, DeclineKind
from tests.handlers.doubles import Doubles
from tests.handlers.world import card_account, renew, subscribe
from tests.integration.test_smtp_notifier import Inbox, smtp_server  # noqa: F401
from workers.handlers.collection import collect_attempt, route_invoice
from workers.handlers.dunning import advance_dunning
from workers.handlers.notifications import DrainReport, send_pending


@pytest.mark.parametrize(("language", "subject_word"), [("fr", "Rappel"), ("en", "Reminder")])
def test_a_first_notice_reaches_the_mailbox_once_in_the_account_language(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles,
        smtp_server: tuple[Inbox, int], language: str, subject_word: str) -> None:  # noqa: F811
    inbox, port = smtp_server
    notifier = SmtpNotifier(smtp_url=f"smtp://mailer:s3cr%3At@127.0.0.1:{port}",
                            sender="billing@paycollect.test")
    # Given a card invoice declined (soft) on its issue day and never paid
    subscribe(uow_factory, account=card_account(language=language), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    doubles.card.script(*[Declined(DeclineKind.SOFT, "insufficient_funds")] * 5)
    route_invoice(doubles.deps, invoice_id=invoice_id)
    for message in doubles.dispatch.take():
        if message.kind == "collect":
            collect_attempt(doubles.deps, attempt_id=message.target)
    # When it is 3 days overdue and dunning runs twice (two scheduler ticks)
    clock.advance(days=3)
    for _ in range(2):
        advance_dunning(doubles.deps, today=clock.today(), policy=DunningPolicy())
    with uow_factory() as uow:
        queued = uow.session.execute(text(  # type: ignore[attr-defined]
            "SELECT id FROM notifications WHERE kind = 'first_notice'")).scalars().all()
    # Then one first notice is queued, and draining the outbox twice sends one e-mail
    assert len(queued) == 1
    first = send_pending(doubles.deps, notifier=notifier)
    assert first.sent >= 1  # the first notice, and the decline notices before it
    assert send_pending(doubles.deps, notifier=notifier) == DrainReport(sent=0, more=False)
    notices = [m for m in inbox.messages if subject_word in str(m["Subject"])]
    assert len(notices) == 1
    assert notices[0]["Message-ID"]
