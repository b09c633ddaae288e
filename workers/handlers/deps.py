"""What every handler needs, built once by workers/bootstrap.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.accounts import Account
from domain.clock import Clock
from domain.invoices import Invoice
from domain.payments import PaymentAttempt
from domain.ports import UnitOfWorkFactory
from domain.ports_gateways import (
    CardGateway,
    CardSetupGateway,
    DirectDebitGateway,
    DirectDebitSetupGateway,
    Dispatcher,
    WireGateway,
)
from domain.retry_policy import RetryPolicy


class MessageComposer(Protocol):
    """Renders a customer message (subject, text, html) in the account's language."""

    def compose(self, *, kind: str, account: Account, invoice: Invoice | None,
                attempt: PaymentAttempt | None,
                **extra: Any) -> tuple[str, str, str | None]:
        """`extra`: more template variables (dunning notices pass `termination_on`)."""
        ...


@dataclass(frozen=True)
class Deps:
    uow_factory: UnitOfWorkFactory
    clock: Clock
    card: CardGateway
    direct_debit: DirectDebitGateway
    wire: WireGateway
    dispatch: Dispatcher
    composer: MessageComposer
    retry_policy: RetryPolicy
    wire_due_days: int = 30
    #: Payment-method setups (hosted pages); None where a process never starts one.
    card_setup: CardSetupGateway | None = None
    direct_debit_setup: DirectDebitSetupGateway | None = None
    #: Asks for an outgoing-event delivery drain (the scheduler re-drives due deliveries
    #: with it; commits that queue events ring through the unit of work factory).
    ask_for_event_delivery: Callable[[], None] | None = None
    #: Deletes the /v1 API's idempotency keys expired at the given instant; returns how many
    #: (workers/api_key_purge.py; the scheduler's tick runs it). None: nothing to forget.
    forget_expired_api_keys: Callable[[datetime], int] | None = None
