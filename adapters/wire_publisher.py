"""Bank-wire collection: publish the instructions, then wait for the customer's transfer.

Nothing is charged: the customer's finance team initiates the payment. We e-mail them the
beneficiary's bank details, the amount, an ISO 11649 payment reference and a due date, and
add the same instructions to a Redis stream so bank reconciliation (another system) can
match the incoming transfer by its reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.bank_details import BankDetails
from adapters.composer import invoice_link_context
from adapters.invoice_links import InvoiceLinks
from adapters.notices import NoticeKind, render_notice
from adapters.redis_stream import RedisStreamPublisher
from domain.accounts import Account
from domain.invoices import Invoice
from domain.money import Money
from domain.outcomes import AwaitingTransfer
from domain.ports_notify import Notifier
from domain.wire_reference import format_rf_reference, is_valid_rf_reference, make_rf_reference

#: The stream other systems read wire instructions from.
WIRE_INSTRUCTIONS_STREAM = "paycollect:wire_instructions"


class NoBankDetails(LookupError):
    """No beneficiary account is configured for the invoice's currency."""


class NothingDue(ValueError):
    """The invoice owes nothing: there is no transfer to ask for."""


@dataclass(frozen=True, slots=True)
class WireInstructions:
    account_id: str
    invoice_id: str
    invoice_number: str
    amount: Money
    #: Electronic form, no spaces (e.g. RF18539007547034).
    reference: str
    due_on: date
    bank: BankDetails

    @property
    def event_id(self) -> str:
        # One per invoice: a republished event is a duplicate consumers can drop.
        return f"wire_instructions:{self.invoice_id}"

    def stream_fields(self) -> dict[str, str]:
        """The stream entry: strings only, amounts in minor units, dates in ISO 8601."""
        fields = {
            "event_id": self.event_id, "type": "wire_instructions",
            "account_id": self.account_id, "invoice_id": self.invoice_id,
            "invoice_number": self.invoice_number,
            "amount_minor": str(self.amount.minor), "currency": self.amount.currency,
            "reference": self.reference, "due_on": self.due_on.isoformat(),
            "beneficiary": self.bank.beneficiary, "bank_name": self.bank.bank_name,
        }
        for name in ("iban", "bic", "routing_number", "account_number"):
            value = getattr(self.bank, name)
            if value is not None:
                fields[name] = value
        return fields


def payment_reference(invoice: Invoice) -> str:
    """The invoice's own RF reference if it has one, else one built from its number."""
    if invoice.payment_reference and is_valid_rf_reference(invoice.payment_reference):
        return "".join(invoice.payment_reference.split()).upper()
    return make_rf_reference("".join(c for c in invoice.number if c.isascii() and c.isalnum()))


class WirePublisher:
    def __init__(self, *, notifier: Notifier, stream: RedisStreamPublisher | None,
                 bank_details_by_currency: Mapping[str, BankDetails],
                 links: InvoiceLinks | None = None) -> None:
        self._notifier = notifier
        #: The e-mail links to the invoice's page when set.
        self._links = links
        #: None in the embedded mode: there is no other system to tell.
        self._stream = stream
        self._banks = dict(bank_details_by_currency)

    def instructions_for(self, *, invoice: Invoice, account: Account,
                         due_days: int) -> WireInstructions:
        bank = self._banks.get(invoice.currency)
        if bank is None:
            raise NoBankDetails(f"no wire bank details configured for {invoice.currency} "
                                f"(set WIRE_{invoice.currency}_*)")
        amount = invoice.amount_due
        if not amount.is_positive():
            raise NothingDue(f"invoice {invoice.number} owes {amount}")
        return WireInstructions(
            account_id=account.id, invoice_id=invoice.id, invoice_number=invoice.number,
            amount=amount, reference=payment_reference(invoice),
            due_on=invoice.issued_on + timedelta(days=due_days), bank=bank)

    def publish(self, *, invoice: Invoice, account: Account, due_days: int) -> AwaitingTransfer:
        """Tell reconciliation, then the customer; safe to call again for the same invoice.

        Raises:
            NoBankDetails, NothingDue: nothing was sent.
            NotificationError, redis.RedisError: retry; a repeat carries the same event id
                and Message-ID.
        """
        instructions = self.instructions_for(invoice=invoice, account=account,
                                             due_days=due_days)
        # Stream first: reconciliation must know the reference before the customer can pay.
        if self._stream is not None:
            self._stream.publish(stream=WIRE_INSTRUCTIONS_STREAM,
                                 fields=instructions.stream_fields())
        if account.email:
            self._email(instructions, invoice=invoice, account=account, to=account.email)
        return AwaitingTransfer(reference=instructions.reference, amount=instructions.amount,
                                due_on=instructions.due_on)

    def _email(self, instructions: WireInstructions, *, invoice: Invoice, account: Account,
               to: str) -> None:
        notice = render_notice(kind=NoticeKind.WIRE_INSTRUCTIONS, language=account.language,
                               context={"account_name": account.name,
                                        "invoice_number": instructions.invoice_number,
                                        "amount": instructions.amount,
                                        "due_on": instructions.due_on,
                                        "reference": format_rf_reference(instructions.reference),
                                        "bank": instructions.bank,
                                        **invoice_link_context(self._links, invoice)})
        self._notifier.send(to=to, subject=notice.subject, text=notice.text,
                            idempotency_key=instructions.event_id)
