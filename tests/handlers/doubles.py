"""Hand-written doubles of OUR ports (domain/ports_gateways.py) for the handler tests.

Never a patched SDK: each double implements the Protocol the handlers are typed against.

- `RecordingDispatcher` keeps every message a handler sends; `Worker` delivers them to the real
  handlers, as the dramatiq actors would (or drops them, to play "Redis lost everything").
- `ScriptedCardGateway` / `ScriptedDirectDebitGateway` / `ScriptedWireGateway` answer the
  outcomes they are given, in order, and count (and record) every call. A `during` hook runs
  inside a charge call, e.g. to read the attempt row from the database mid-call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import TracebackType
from typing import Any

from adapters.composer import NoticeComposer
from adapters.db.unit_of_work import SqlUnitOfWork
from domain.accounts import Account
from domain.clock import Clock
from domain.invoices import Invoice
from domain.money import Money
from domain.outcomes import AwaitingTransfer, Charged, NotFound, Outcome, Pending
from domain.ports import UnitOfWorkFactory
from domain.retry_policy import RetryPolicy
from workers.handlers.deps import Deps

# --- Dispatcher -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message a handler sent: `kind` is the Dispatcher method, `args` its arguments."""

    kind: str
    args: tuple[str, ...]

    @property
    def target(self) -> str:
        return self.args[0]


class RecordingDispatcher:
    """`domain.ports_gateways.Dispatcher` that records messages instead of sending them."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        #: The batches sent by route_many / collect_many: (kind, method or "", ids); each
        #: id is also recorded as one message above, as the single calls record it.
        self.batches: list[tuple[str, str, tuple[str, ...]]] = []
        self._lock = threading.Lock()

    def _record(self, kind: str, *args: str) -> None:
        with self._lock:
            self.messages.append(Message(kind, args))

    def route_invoice(self, invoice_id: str) -> None:
        self._record("route_invoice", invoice_id)

    def route_many(self, invoice_ids: Sequence[str]) -> None:
        with self._lock:
            self.batches.append(("route_invoice", "", tuple(invoice_ids)))
        for invoice_id in invoice_ids:
            self.route_invoice(invoice_id)

    def collect(self, attempt_id: str, method: str) -> None:
        self._record("collect", attempt_id, method)

    def collect_many(self, attempt_ids: Sequence[str], method: str) -> None:
        with self._lock:
            self.batches.append(("collect", method, tuple(attempt_ids)))
        for attempt_id in attempt_ids:
            self.collect(attempt_id, method)

    def reconcile(self, attempt_id: str) -> None:
        self._record("reconcile", attempt_id)

    def reconcile_many(self, attempt_ids: Sequence[str]) -> None:
        with self._lock:
            self.batches.append(("reconcile", "", tuple(attempt_ids)))
        for attempt_id in attempt_ids:
            self.reconcile(attempt_id)

    def send_notification(self, notification_id: str) -> None:
        self._record("send_notification", notification_id)

    def retry_open_balances(self, account_id: str) -> None:
        self._record("retry_open_balances", account_id)

    def take(self) -> list[Message]:
        """The messages sent since the last `take` (they leave the dispatcher)."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken

    def of(self, kind: str) -> list[Message]:
        return [message for message in self.messages if message.kind == kind]

    def work(self) -> list[Message]:
        """The messages that make payment work happen (everything but notifications)."""
        return [message for message in self.messages if message.kind != "send_notification"]


# --- Gateways -------------------------------------------------------------------------------

#: A scripted answer: the outcome itself, or a function of the call that builds it.
Script = Outcome | Callable[["Call"], Outcome]


@dataclass(frozen=True)
class Call:
    """One gateway call, as the gateway saw it."""

    operation: str  # "charge", "collect", "find_payment", "payment_status", "publish"
    attempt_id: str | None = None
    invoice_id: str | None = None
    amount: Money | None = None
    provider_ref: str | None = None


def charged(call: Call) -> Outcome:
    """The provider took exactly what was asked."""
    assert call.amount is not None
    assert call.attempt_id is not None
    return Charged(provider_ref=f"pi_{call.attempt_id[:8]}", amount=call.amount)


@dataclass
class _Scripted:
    """Outcomes served in order, then `default` forever; every call recorded, thread-safe."""

    default: Script
    script: list[Script] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    answers: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, call: Call) -> Outcome:
        with self.lock:
            self.calls.append(call)
            script = self.script.pop(0) if self.script else self.default
            outcome = script(call) if callable(script) else script
            self.answers.append(outcome)
        return outcome


class ScriptedCardGateway:
    """`CardGateway`: `charge` answers `charges` in order (default: Charged in full);
    `find_payment` answers `lookups` in order (default: NotFound); `intent_of_charge` reads
    `intents_of_charges` (charge id → PaymentIntent id)."""

    def __init__(self, *charges: Script, lookups: Iterable[Script] = (),
                 during: Callable[[Call], None] | None = None) -> None:
        self._charge = _Scripted(default=charged, script=list(charges))
        self._lookup = _Scripted(default=NotFound(), script=list(lookups))
        self.during = during
        self.order: list[str] = []  # invoice ids, in the order they were charged
        self.intents_of_charges: dict[str, str] = {}

    def script(self, *charges: Script) -> None:
        self._charge.script.extend(charges)

    def script_lookups(self, *lookups: Script) -> None:
        self._lookup.script.extend(lookups)

    @property
    def charges(self) -> list[Call]:
        return self._charge.calls

    @property
    def lookups(self) -> list[Call]:
        return self._lookup.calls

    @property
    def money_taken(self) -> list[Charged]:
        """Every charge the provider accepted: one per paid invoice, never two."""
        return [a for a in self._charge.answers if isinstance(a, Charged)]

    def charge(self, *, attempt_id: str, customer: str, payment_method: str, amount: Money,
               invoice_id: str, account_id: str) -> Outcome:
        call = Call("charge", attempt_id=attempt_id, invoice_id=invoice_id, amount=amount)
        with self._charge.lock:
            self.order.append(invoice_id)
        outcome = self._charge.answer(call)
        if self.during is not None:
            # After the provider has decided: a hook that raises plays a worker killed
            # between the provider's commit and our recording of it.
            self.during(call)
        return outcome

    def find_payment(self, *, attempt_id: str) -> Outcome:
        return self._lookup.answer(Call("find_payment", attempt_id=attempt_id))

    def intent_of_charge(self, *, charge_id: str) -> str | None:
        return self.intents_of_charges.get(charge_id)


class ScriptedDirectDebitGateway:
    """`DirectDebitGateway`: `collect` answers `collects` (default: Pending with a ref);
    `payment_status` answers `statuses` (default: Pending); `find_payment` answers `lookups`
    (default: NotFound)."""

    def __init__(self, *collects: Script, statuses: Iterable[Script] = (),
                 lookups: Iterable[Script] = ()) -> None:
        self._collect = _Scripted(default=_pending, script=list(collects))
        self._status = _Scripted(default=_still_pending, script=list(statuses))
        self._lookup = _Scripted(default=NotFound(), script=list(lookups))

    def script_statuses(self, *statuses: Script) -> None:
        self._status.script.extend(statuses)

    @property
    def collects(self) -> list[Call]:
        return self._collect.calls

    @property
    def polls(self) -> list[Call]:
        return self._status.calls

    @property
    def lookups(self) -> list[Call]:
        return self._lookup.calls

    def collect(self, *, attempt_id: str, mandate_id: str, amount: Money, invoice_id: str,
                account_id: str, charge_date: date | None = None) -> Outcome:
        return self._collect.answer(Call("collect", attempt_id=attempt_id,
                                         invoice_id=invoice_id, amount=amount))

    def payment_status(self, *, provider_ref: str) -> Outcome:
        return self._status.answer(Call("payment_status", provider_ref=provider_ref))

    def find_payment(self, *, attempt_id: str, mandate_id: str | None = None) -> Outcome:
        return self._lookup.answer(Call("find_payment", attempt_id=attempt_id,
                                        provider_ref=mandate_id))


def _pending(call: Call) -> Outcome:
    assert call.amount is not None
    assert call.attempt_id is not None
    return Pending(provider_ref=f"PM_{call.attempt_id[:8]}", amount=call.amount)


def _still_pending(call: Call) -> Outcome:
    assert call.provider_ref is not None
    return Pending(provider_ref=call.provider_ref, amount=Money(0, "EUR"))


class ScriptedWireGateway:
    """`WireGateway`: publishes nothing, answers AwaitingTransfer for the invoice, counts."""

    def __init__(self) -> None:
        self.published: list[Call] = []

    def publish(self, *, invoice: Invoice, account: Account, due_days: int) -> AwaitingTransfer:
        self.published.append(Call("publish", invoice_id=invoice.id, amount=invoice.amount_due))
        assert invoice.payment_reference is not None
        return AwaitingTransfer(reference=invoice.payment_reference, amount=invoice.amount_due,
                                due_on=invoice.issued_on + timedelta(days=due_days))


# --- Wiring ---------------------------------------------------------------------------------


@dataclass
class Doubles:
    """The handlers' Deps with every port doubled, and the doubles themselves."""

    deps: Deps
    dispatch: RecordingDispatcher
    card: ScriptedCardGateway
    direct_debit: ScriptedDirectDebitGateway
    wire: ScriptedWireGateway

    def with_policy(self, policy: RetryPolicy) -> Doubles:
        """The same doubles under another retry policy (a configuration change)."""
        from dataclasses import replace

        return Doubles(deps=replace(self.deps, retry_policy=policy), dispatch=self.dispatch,
                       card=self.card, direct_debit=self.direct_debit, wire=self.wire)


def make_doubles(*, uow_factory: UnitOfWorkFactory, clock: Clock,
                 card: ScriptedCardGateway | None = None,
                 direct_debit: ScriptedDirectDebitGateway | None = None,
                 policy: RetryPolicy | None = None) -> Doubles:
    dispatch = RecordingDispatcher()
    card = card or ScriptedCardGateway()
    direct_debit = direct_debit or ScriptedDirectDebitGateway()
    wire = ScriptedWireGateway()
    deps = Deps(uow_factory=uow_factory, clock=clock, card=card, direct_debit=direct_debit,
                wire=wire, dispatch=dispatch, composer=NoticeComposer(),
                retry_policy=policy or RetryPolicy(), wire_due_days=30)
    return Doubles(deps=deps, dispatch=dispatch, card=card, direct_debit=direct_debit, wire=wire)


class Worker:
    """Delivers recorded messages to the real handlers, as the actors do (workers/actors.py)."""

    def __init__(self, doubles: Doubles) -> None:
        self.doubles = doubles
        self.delivered: list[Message] = []

    def deliver(self, messages: Iterable[Message]) -> None:
        from workers.handlers.accounts import retry_open_balances
        from workers.handlers.collection import collect_attempt, reconcile_attempt, route_invoice

        deps = self.doubles.deps
        handlers: dict[str, Callable[[Message], Any]] = {
            "route_invoice": lambda m: route_invoice(deps, invoice_id=m.target),
            "collect": lambda m: collect_attempt(deps, attempt_id=m.target),
            "reconcile": lambda m: reconcile_attempt(deps, attempt_id=m.target),
            "retry_open_balances": lambda m: retry_open_balances(
                deps, account_id=m.target, reason="payment method updated"),
            "send_notification": lambda m: None,  # the outbox row is what the tests read
        }
        for message in messages:
            self.delivered.append(message)
            handlers[message.kind](message)

    def run_until_idle(self, *, max_rounds: int = 20) -> None:
        """Deliver everything sent, and everything that sends, until nothing is left."""
        for _ in range(max_rounds):
            messages = self.doubles.dispatch.take()
            if not messages:
                return
            self.deliver(messages)
        raise AssertionError(f"still busy after {max_rounds} rounds of messages")


class _LedgerDown:
    """A ledger that refuses every write: the last writes of a batch."""

    def add(self, **_: Any) -> bool:
        raise RuntimeError("ledger unavailable")

    def add_many(self, **_: Any) -> None:
        raise RuntimeError("ledger unavailable")


class FailingLedgerUnitOfWork:
    """A SQL unit of work whose ledger refuses every write (an abort on the last writes)."""

    def __init__(self, inner: SqlUnitOfWork) -> None:
        self._inner = inner

    def __enter__(self) -> SqlUnitOfWork:
        uow = self._inner.__enter__()
        uow.ledger = _LedgerDown()  # type: ignore[assignment]
        return uow

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._inner.__exit__(exc_type, exc, traceback)
