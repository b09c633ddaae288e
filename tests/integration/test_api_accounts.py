"""/v1/accounts over HTTP: create, read, change; balance and ledger (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.accounts import Standing
from domain.clock import at_utc
from tests.integration import api_world
from tests.integration.api_world import ApiWorld

api = api_world.api

ADDRESS = {"line1": "10 rue de la Paix", "city": "Paris", "postal_code": "75002",
           "country": "FR"}


def test_an_account_is_created_with_its_external_id_and_paying_by_wire_until_set_up(
        api: ApiWorld) -> None:
    # When
    created = api.account(external_id="crm-42", email="finance@acme.example", language="fr",
                          billing_address=ADDRESS)
    # Then
    assert created["id"].startswith("acc_")
    assert {k: created["payment_method"][k] for k in ("type", "scheme", "usable")} == {
        "type": "wire", "scheme": None, "usable": True}
    assert created["payment_method"]["last4"] is None
    assert created["standing"] == "active"
    assert created["billing_address"] == {**ADDRESS, "line2": None, "region": None}
    for ident in (created["id"], "crm-42"):
        assert api.http.get(f"/accounts/{ident}").json() == created


def test_a_second_account_with_the_same_external_id_is_refused_with_409(api: ApiWorld) -> None:
    api.account(external_id="crm-42")
    response = api.http.post("/accounts", json={"name": "Other", "currency": "EUR",
                                                "external_id": "crm-42"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "external_id"
    assert api.row_counts()["accounts"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Acme", "currency": "XYZ"}, "currency"),
    ({"name": "Acme", "currency": "eur"}, "currency"),
    ({"name": "", "currency": "EUR"}, "name"),
    ({"currency": "EUR"}, "name"),
    ({"name": "Acme", "currency": "EUR", "language": "de"}, "language"),
    ({"name": "Acme", "currency": "EUR", "email": "not-an-address"}, "email"),
    ({"name": "Acme", "currency": "EUR", "billing_address": {**ADDRESS, "country": "France"}},
     "billing_address.country"),
    ({"name": "Acme", "currency": "EUR", "standing": "active"}, "standing"),
])
def test_an_invalid_account_is_refused_with_422_naming_the_field(
        api: ApiWorld, body: dict[str, object], field: str) -> None:
    response = api.http.post("/accounts", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert api.row_counts()["accounts"] == 0


def test_an_unknown_account_is_404_on_every_account_path(api: ApiWorld) -> None:
    for response in (api.http.get("/accounts/acc_nope"),
                     api.http.patch("/accounts/acc_nope", json={"name": "X"}),
                     api.http.get("/accounts/acc_nope/balance"),
                     api.http.get("/accounts/acc_nope/ledger")):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found"


def test_patch_changes_only_what_is_sent_and_null_clears_the_email(api: ApiWorld) -> None:
    created = api.account(email="a@acme.example", external_id="crm-1")
    # When
    response = api.http.patch(f"/accounts/{created['id']}",
                              json={"name": "Acme SAS", "language": "fr", "email": None,
                                    "billing_address": ADDRESS, "currency": "GBP"})
    # Then
    assert response.status_code == 200
    changed = response.json()
    assert (changed["name"], changed["language"], changed["email"], changed["currency"],
            changed["external_id"]) == ("Acme SAS", "fr", None, "GBP", "crm-1")
    assert api.http.get("/accounts/crm-1").json() == changed


def test_the_currency_is_fixed_once_the_account_is_invoiced(api: ApiWorld) -> None:
    account = api.account()
    api.subscription(account["id"])
    api.renew()
    response = api.http.patch(f"/accounts/{account['id']}", json={"currency": "USD"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "currency"
    assert api.http.get(f"/accounts/{account['id']}").json()["currency"] == "EUR"


def test_an_external_id_taken_by_another_account_is_409_on_patch(api: ApiWorld) -> None:
    api.account(external_id="crm-1")
    second = api.account(external_id="crm-2")
    response = api.http.patch(f"/accounts/{second['id']}", json={"external_id": "crm-1"})
    assert response.status_code == 409
    assert api.http.get("/accounts/crm-2").status_code == 200


def test_the_balance_is_what_the_ledger_says_is_owed(api: ApiWorld) -> None:
    account = api.account()
    assert api.http.get(f"/accounts/{account['id']}/balance").json() == {
        "account": account["id"], "amount": 0, "currency": "EUR", "standing": "active"}
    api.subscription(account["id"])  # 2 users x 1000 + 1 number x 500
    api.renew()
    balance = api.http.get(f"/accounts/{account['id']}/balance").json()
    assert (balance["amount"], balance["standing"]) == (2500, Standing.ACTIVE.value)


def test_the_ledger_is_paginated_with_a_running_balance(api: ApiWorld) -> None:
    # Given three monthly invoices (2500 each, the earlier ones carried forward)
    account = api.account()
    api.subscription(account["id"])
    for month in (3, 4, 5):
        api.clock.set(at_utc(2026, month, 1, 9))
        api.renew()
    path = f"/accounts/{account['id']}/ledger"
    # When
    first = api.http.get(path, params={"limit": 2}).json()
    second = api.http.get(path, params={"limit": 2,
                                        "starting_after": first["next_starting_after"]}).json()
    # Then
    entries = first["data"] + second["data"]
    assert [e["position"] for e in entries] == [1, 2, 3]
    assert [e["balance"] for e in entries] == [2500, 5000, 7500]
    assert {e["kind"] for e in entries} == {"invoice_issued"}
    assert (first["has_more"], second["has_more"], second["next_starting_after"]) == (
        True, False, None)


def test_a_ledger_cursor_that_names_no_entry_is_422(api: ApiWorld) -> None:
    account = api.account()
    response = api.http.get(f"/accounts/{account['id']}/ledger",
                            params={"starting_after": "7"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "starting_after"
    assert api.http.get(f"/accounts/{account['id']}/ledger",
                        params={"limit": 0}).json()["error"]["field"] == "limit"
