"""`POST /v1/subscriptions/{id}/cancel` through a real HTTP client against the served /v1 app
(uvicorn in a thread), on SQLite and PostgreSQL. Every monthly invoice charges 95.00
(tests/handlers/world.py: 3 users x 30.00 + 1 number x 5.00)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.simulators.server import serve_in_thread
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceKind
from tests.handlers.doubles import Doubles, make_doubles
from tests.handlers.world import MONTHLY, card_account, invoices_of, renew, subscribe
from workers.api.app import create_api
from workers.config import Settings

KEY = "pk_test_cancel"
AUTH = {"Authorization": f"Bearer {KEY}"}
MARCH_1 = date(2026, 3, 1)


@pytest.fixture
def doubles(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> Doubles:
    return make_doubles(uow_factory=uow_factory, clock=clock)


@pytest.fixture
def api(doubles: Doubles, database_url: str) -> Iterator[httpx.Client]:
    settings = Settings(database_url=database_url, api_keys=(KEY,))
    server = serve_in_thread(create_api(doubles.deps, settings))
    try:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as client:
            yield client
    finally:
        server.stop()


@pytest.fixture
def subscription_id(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> str:
    # A subscription anchored on 03-01, March billed (unpaid), today 03-21
    found = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    clock.set(at_utc(2026, 3, 21, 9))
    return found


def test_canceling_now_ends_today_with_a_final_invoice(
        api: httpx.Client, subscription_id: str, uow_factory: SqlUnitOfWorkFactory) -> None:
    # When
    response = api.post(f"/subscriptions/{subscription_id}/cancel",
                        json={"at": "now", "reason": "moving to another provider"})
    # Then the subscription has ended today, and its final invoice is named
    assert response.status_code == 200, response.text
    body = response.json()
    _march, final = invoices_of(uow_factory, "acc_card")
    assert body == {"id": subscription_id, "account": "acc_card", "status": "ended",
                    "started_on": "2026-03-01", "ends_on": "2026-03-21",
                    "end_reason": "moving to another provider", "final_invoice": final.id}
    # And it brings March's unpaid 95.00 forward (nothing added, no minutes: no line)
    assert (final.kind, final.charges.minor, final.previous) == (InvoiceKind.FINAL, 0, MONTHLY)


def test_canceling_at_the_period_end_keeps_it_running_until_the_next_renewal_date(
        api: httpx.Client, subscription_id: str, uow_factory: SqlUnitOfWorkFactory) -> None:
    # When, twice
    first = api.post(f"/subscriptions/{subscription_id}/cancel", json={"at": "period_end"})
    second = api.post(f"/subscriptions/{subscription_id}/cancel", json={"at": "period_end"})
    # Then it is canceling, ending on 04-01, with no final invoice yet, and nothing changed
    # the second time
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {
        "id": subscription_id, "account": "acc_card", "status": "canceling",
        "started_on": "2026-03-01", "ends_on": "2026-04-01", "end_reason": "canceled",
        "final_invoice": None}
    assert len(invoices_of(uow_factory, "acc_card")) == 1


def test_an_unknown_subscription_is_404_and_an_ended_one_409(
        api: httpx.Client, subscription_id: str) -> None:
    missing = api.post("/subscriptions/sub_nope/cancel", json={"at": "now"})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"
    assert api.post(f"/subscriptions/{subscription_id}/cancel",
                    json={"at": "now"}).status_code == 200
    for at in ("now", "period_end"):
        again = api.post(f"/subscriptions/{subscription_id}/cancel", json={"at": at})
        assert again.status_code == 409
        assert again.json()["error"] == {
            "type": "conflict", "message": f"subscription {subscription_id} has already ended",
            "field": None}


def test_a_bad_body_is_422_naming_the_field_and_changes_nothing(
        api: httpx.Client, subscription_id: str, uow_factory: SqlUnitOfWorkFactory) -> None:
    for body, field in (({"at": "tomorrow"}, "at"), ({}, "at"),
                        ({"at": "now", "reason": ""}, "reason"),
                        ({"at": "now", "refund": True}, "refund")):
        response = api.post(f"/subscriptions/{subscription_id}/cancel", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == field
    assert [inv.kind for inv in invoices_of(uow_factory, "acc_card")] == [InvoiceKind.MONTHLY]


def test_canceling_needs_an_api_key(api: httpx.Client, subscription_id: str) -> None:
    response = api.post(f"/subscriptions/{subscription_id}/cancel", json={"at": "now"},
                        headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


def test_the_openapi_document_describes_the_cancel_endpoint(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    operation = doc["paths"]["/subscriptions/{subscription_id}/cancel"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "404", "409", "422"}
    assert doc["components"]["schemas"]["CancelRequest"]["properties"]["at"]["enum"] == [
        "period_end", "now"]
