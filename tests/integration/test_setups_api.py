"""The /v1 payment-method setup endpoints through a real HTTP client against the served app
(uvicorn), on SQLite and PostgreSQL: started, completed on the hosted page, reported by
webhook, and the open balance retried and paid."""

from __future__ import annotations

import pytest

from domain.accounts import MethodType
from domain.invoices import InvoiceStatus
from tests.integration import setup_world
from tests.integration.setup_world import AUTH, declined_invoice, setup_rows, submit_hosted_page
from tests.integration.webhook_world import World
from workers.api.payment_methods import payment_method_view

world = setup_world.world
SETUPS = "/v1/accounts/{}/payment-method-setups"


def test_a_card_setup_started_by_the_api_and_completed_by_webhook_pays_the_open_invoice(
        world: World) -> None:
    # Given an account whose invoice is open (its card declined)
    account, _ = declined_invoice(world)
    # When the business starts a card setup and the customer completes the hosted page
    created = world.http.post(SETUPS.format(account), headers=AUTH, json={
        "type": "card", "return_url": "https://portal.example/billing"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("type", "provider", "status", "account")} == {
        "type": "card", "provider": "stripe", "status": "open", "account": account}
    assert body["id"].startswith("pms_")
    assert submit_hosted_page(body["url"]).status_code == 303
    world.settle()
    # Then the setup reads completed, the method is stored masked, and the invoice is paid
    read = world.http.get(f"/v1/payment-method-setups/{body['id']}", headers=AUTH)
    assert read.status_code == 200
    assert read.json()["status"] == "completed"
    with world.deps.uow_factory() as uow:
        stored = uow.accounts.get(account_id=account)
    assert stored is not None
    view = payment_method_view(stored.payment_method).model_dump(exclude_none=True)
    assert view == {"type": "card", "usable": True, "brand": "visa", "last4": "4242",
                    "exp_month": 12, "exp_year": 2034}
    assert [i.status for i in world.invoices(account)] == [InvoiceStatus.PAID]


def test_a_direct_debit_setup_defaults_its_scheme_from_the_currency(world: World) -> None:
    # Given an EUR account, when a direct-debit setup names no scheme
    account, _ = declined_invoice(world)
    created = world.http.post(SETUPS.format(account), headers=AUTH,
                              json={"type": "direct_debit"})
    # Then it is a SEPA mandate request at GoCardless, whose flow completes it
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["provider"], body["scheme"]) == ("gocardless", "sepa_core")
    assert submit_hosted_page(body["url"]).status_code == 303
    world.settle()
    with world.deps.uow_factory() as uow:
        stored = uow.accounts.get(account_id=account)
    assert stored is not None
    assert stored.payment_method.type is MethodType.DIRECT_DEBIT
    view = payment_method_view(stored.payment_method)
    assert view.account == "FR** **** **** **06"
    read = world.http.get(f"/v1/payment-method-setups/{body['id']}", headers=AUTH)
    assert read.json()["status"] == "completed"


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "paypal"}, "type"),
    ({"type": "wire"}, "type"),
    ({"type": "direct_debit", "scheme": "becs"}, "scheme"),
    ({"type": "direct_debit", "scheme": "ach"}, "scheme"),  # ach collects USD, not EUR
    ({"type": "card", "scheme": "sepa_core"}, "scheme"),
    ({"type": "card", "return_url": "javascript:alert(1)"}, "return_url"),
    ({}, "type"),
])
def test_a_bad_setup_request_is_422_naming_the_field_and_records_nothing(
        world: World, body: dict[str, str], field: str) -> None:
    account = world.card_customer()
    answer = world.http.post(SETUPS.format(account), headers=AUTH, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert setup_rows(world) == 0


def test_an_unknown_account_or_setup_is_404(world: World) -> None:
    answer = world.http.post(SETUPS.format("acc_nobody"), headers=AUTH, json={"type": "card"})
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "not_found"
    missing = world.http.get("/v1/payment-method-setups/pms_nothing", headers=AUTH)
    assert missing.status_code == 404


def test_setups_without_the_api_key_are_401(world: World) -> None:
    account = world.card_customer()
    assert world.http.post(SETUPS.format(account), json={"type": "card"}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert world.http.get("/v1/payment-method-setups/x", headers=wrong).status_code == 401


def test_the_openapi_document_describes_the_setup_endpoints(world: World) -> None:
    document = world.http.get("/v1/openapi.json").json()
    assert "/accounts/{account_id}/payment-method-setups" in document["paths"]
    assert "/payment-method-setups/{setup_id}" in document["paths"]
