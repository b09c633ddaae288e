"""WirePublisher adds the instructions to a real Redis stream for other systems."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import cast

import pytest
import redis

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.notifier import RecordingNotifier
from adapters.redis_stream import RedisStreamPublisher
from adapters.wire_publisher import WIRE_INSTRUCTIONS_STREAM, WirePublisher
from domain.accounts import Account, MethodType, PaymentMethod
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money

pytestmark = pytest.mark.redis

ACCOUNT = Account(id="acc_1", name="Acme SAS", currency="EUR", language="fr",
                  email="compta@acme.test", payment_method=PaymentMethod(MethodType.WIRE))


def wire_invoice(*, currency: str = "EUR", minor: int = 123456) -> Invoice:
    price = Money(minor, currency)
    return Invoice(id="inv_42", number="INV-2025-0042", account_id="acc_1",
                   subscription_id="sub_1", kind=InvoiceKind.MONTHLY,
                   period=Period(date(2025, 3, 1), date(2025, 4, 1)),
                   issued_on=date(2025, 3, 1), due_on=date(2025, 3, 31), currency=currency,
                   payment_method="wire",
                   lines=(InvoiceLine(section=Section.RECURRING, description="Users",
                                      quantity=1, unit_amount=price, amount=price,
                                      item="users"),))


def entries(client: redis.Redis) -> list[dict[str, str]]:
    # redis-py types cover sync and async clients at once; this one is sync and decodes.
    raw = cast(list[tuple[str, dict[str, str]]], client.xrange(WIRE_INSTRUCTIONS_STREAM))
    return [fields for _, fields in raw]


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.delete(WIRE_INSTRUCTIONS_STREAM)
    yield client
    client.delete(WIRE_INSTRUCTIONS_STREAM)
    client.close()


def test_the_instructions_are_added_to_the_stream_as_strings(client: redis.Redis) -> None:
    # Given a publisher writing to Redis
    notifier = RecordingNotifier()
    wire = WirePublisher(notifier=notifier, stream=RedisStreamPublisher(client=client),
                         bank_details_by_currency=DEMO_BANK_DETAILS)
    # When a wire invoice's instructions are published
    outcome = wire.publish(invoice=wire_invoice(), account=ACCOUNT, due_days=30)
    # Then one entry holds what reconciliation needs to match the transfer
    [fields] = entries(client)
    assert fields == {
        "event_id": "wire_instructions:inv_42", "type": "wire_instructions",
        "account_id": "acc_1", "invoice_id": "inv_42", "invoice_number": "INV-2025-0042",
        "amount_minor": "123456", "currency": "EUR", "reference": outcome.reference,
        "due_on": "2025-03-31", "beneficiary": "Paycollect Demo SAS",
        "bank_name": "Commerzbank", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX",
    }
    assert len(notifier.messages) == 1


def test_usd_instructions_carry_routing_and_account_numbers(client: redis.Redis) -> None:
    wire = WirePublisher(notifier=RecordingNotifier(), stream=RedisStreamPublisher(client=client),
                         bank_details_by_currency=DEMO_BANK_DETAILS)
    account = replace(ACCOUNT, currency="USD", language="en")
    wire.publish(invoice=wire_invoice(currency="USD", minor=9900), account=account, due_days=15)
    [fields] = entries(client)
    assert (fields["amount_minor"], fields["currency"], fields["due_on"]) == (
        "9900", "USD", "2025-03-16")
    assert (fields["routing_number"], fields["account_number"]) == ("011000015", "000123456789")
    assert "iban" not in fields
    assert Money(int(fields["amount_minor"]), fields["currency"]) == Money(9900, "USD")
