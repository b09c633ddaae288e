"""Gateway ports: what the collection handlers need from each payment provider.

Every method returns a domain outcome (domain/outcomes.py), never a provider object. Transient
faults are retried inside the gateway with the attempt's idempotency key; a gateway that runs
out of retries answers `Unknown`, and the handlers reconcile before anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from domain.accounts import Account
from domain.invoices import Invoice
from domain.money import Money
from domain.outcomes import AwaitingTransfer, Outcome, ProviderEvent
from domain.setups import CardOnFile, MandateOnFile, SetupIncomplete, SetupSession


class CardGateway(Protocol):
    def charge(self, *, attempt_id: str, customer: str, payment_method: str, amount: Money,
               invoice_id: str, account_id: str) -> Outcome: ...

    def find_payment(self, *, attempt_id: str) -> Outcome: ...

    def intent_of_charge(self, *, charge_id: str) -> str | None:
        """The payment (PaymentIntent) a charge belongs to; None if the provider does not know
        the charge or cannot be reached (the caller tries again later)."""
        ...


class DirectDebitGateway(Protocol):
    def collect(self, *, attempt_id: str, mandate_id: str, amount: Money, invoice_id: str,
                account_id: str, charge_date: date | None = None) -> Outcome: ...

    def payment_status(self, *, provider_ref: str) -> Outcome | ProviderEvent:
        """Where the payment stands; a failure after confirmation comes back as a Reversal."""
        ...

    def find_payment(self, *, attempt_id: str,
                     mandate_id: str | None = None) -> Outcome | ProviderEvent:
        """The attempt's payment, looked for under `mandate_id` first when given; NotFound
        only if no payment anywhere names the attempt."""
        ...


class CardSetupGateway(Protocol):
    """Putting a card on file through the provider's hosted page (Stripe Checkout, setup mode).

    Raises `domain.setups.ProviderUnavailable` when the provider cannot be reached."""

    def create_customer(self, *, account_id: str, name: str, email: str | None) -> str: ...

    def start_card_setup(self, *, setup_id: str, account_id: str, customer: str,
                         currency: str, success_url: str, cancel_url: str) -> SetupSession: ...

    def card_of_session(self, *, session_id: str) -> CardOnFile | SetupIncomplete: ...

    def card_of_setup_intent(self, *, setup_intent_id: str) -> CardOnFile | SetupIncomplete: ...


class DirectDebitSetupGateway(Protocol):
    """Putting a mandate on file through a Billing Request and its hosted flow.

    Raises `domain.setups.ProviderUnavailable` when the provider cannot be reached."""

    def start_direct_debit_setup(self, *, setup_id: str, account_id: str, scheme: str,
                                 customer: str | None, name: str, email: str | None,
                                 redirect_uri: str, exit_uri: str) -> SetupSession: ...

    def mandate_of_billing_request(self, *, billing_request_id: str
                                   ) -> MandateOnFile | SetupIncomplete: ...


class WireGateway(Protocol):
    def publish(self, *, invoice: Invoice, account: Account,
                due_days: int) -> AwaitingTransfer: ...


class Dispatcher(Protocol):
    """Sends work to the workers (dramatiq messages); handlers never import actors."""

    def route_invoice(self, invoice_id: str) -> None: ...

    def route_many(self, invoice_ids: Sequence[str]) -> None:
        """Route these invoices, in messages of at most COLLECT_BATCH_SIZE ids."""
        ...

    def collect(self, attempt_id: str, method: str) -> None: ...

    def collect_many(self, attempt_ids: Sequence[str], method: str) -> None:
        """Collect these attempts of one method, in messages of at most COLLECT_BATCH_SIZE
        ids (one message carries a batch: see workers/handlers/collect_batch.py)."""
        ...
    def reconcile(self, attempt_id: str) -> None: ...
    def reconcile_many(self, attempt_ids: Sequence[str]) -> None:
        """`reconcile` for many (the sweeper's debit polls): one message per batch of ids."""
        ...

    def send_notification(self, notification_id: str) -> None: ...
    def retry_open_balances(self, account_id: str) -> None: ...
