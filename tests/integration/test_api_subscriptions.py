"""/v1/subscriptions over HTTP: start a plan, read it, change its units (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.accounts import Standing
from domain.clock import at_utc
from tests.integration import api_world
from tests.integration.api_world import ApiWorld

api = api_world.api


def test_a_subscription_starts_on_its_anchor_with_its_prices_and_units(api: ApiWorld) -> None:
    account = api.account(external_id="crm-1")
    # When: created with the account's external id
    created = api.subscription("crm-1", external_id="contract-9", interval="annual",
                               minimum_users=3, outbound_per_minute=2,
                               toll_free_per_minute=5, started_on="2026-02-15")
    # Then
    assert created["id"].startswith("sub_")
    assert {k: created[k] for k in ("account", "interval", "currency", "user_price",
                                    "minimum_users", "users", "numbers", "next_renewal_on",
                                    "outbound_per_minute", "toll_free_per_minute")} == {
        "account": account["id"], "interval": "annual", "currency": "EUR",
        "user_price": 1000, "minimum_users": 3, "users": 2, "numbers": 1,
        "next_renewal_on": "2026-02-15", "outbound_per_minute": 2, "toll_free_per_minute": 5}
    for ident in (created["id"], "contract-9"):
        assert api.http.get(f"/subscriptions/{ident}").json() == created


@pytest.mark.parametrize(("fields", "field"), [
    ({"account": "acc_nope"}, "account"),
    ({"interval": "weekly"}, "interval"),
    ({"user_price": -1}, "user_price"),
    ({"number_price": 1.5}, "number_price"),
    ({"users": -2}, "users"),
    ({"started_on": "2026-01-15"}, "started_on"),  # more than 31 days before today (03-01)
    ({"started_on": "2026-02-30"}, "started_on"),
    ({"rate": 3}, "rate"),
])
def test_an_invalid_subscription_is_refused_with_422_naming_the_field(
        api: ApiWorld, fields: dict[str, object], field: str) -> None:
    account = api.account()
    body = {"account": account["id"], "interval": "monthly", "user_price": 1000,
            "number_price": 500, "started_on": "2026-03-01", **fields}
    response = api.http.post("/subscriptions", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert api.row_counts()["subscriptions"] == 0


CARD = {"rounding": "per_second", "default_outbound_per_minute": 9,
        "toll_free_per_minute": 4,
        "destinations": [{"prefix": "+33", "label": "France", "per_minute": 3},
                         {"prefix": "+336", "label": "France mobile", "per_minute": 12}]}


def test_a_rate_card_given_at_creation_is_stored_with_the_subscription(api: ApiWorld) -> None:
    # Given an account
    account = api.account()
    # When the subscription is created with its rate card
    created = api.subscription(account["id"], rate_card=CARD)
    # Then the card is the subscription's, as the rate-card endpoint shows it
    card = api.http.get(f"/subscriptions/{created['id']}/rate-card").json()
    assert (card["source"], card["rounding"], card["default_outbound_per_minute"],
            card["toll_free_per_minute"]) == ("rate_card", "per_second", 9, 4)
    assert {(d["prefix"], d["per_minute"]) for d in card["destinations"]} == {
        ("+33", 3), ("+336", 12)}


def test_an_invalid_rate_card_refuses_the_whole_subscription(api: ApiWorld) -> None:
    # Given a card whose two prefixes are the same
    account = api.account()
    bad = {**CARD, "destinations": [{"prefix": "+33", "label": "France", "per_minute": 3},
                                    {"prefix": "+33", "label": "Again", "per_minute": 4}]}
    before = api.row_counts()
    # When
    response = api.http.post("/subscriptions", json={
        "account": account["id"], "interval": "monthly", "user_price": 1000,
        "number_price": 500, "started_on": "2026-03-01", "rate_card": bad})
    # Then 422 names a field of the card, and neither the subscription nor the card is kept
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"].startswith("rate_card.")
    assert api.row_counts() == before


def test_a_second_subscription_with_the_same_external_id_is_409(api: ApiWorld) -> None:
    account = api.account()
    api.subscription(account["id"], external_id="contract-9")
    response = api.http.post("/subscriptions", json={
        "account": account["id"], "interval": "monthly", "user_price": 1, "number_price": 1,
        "started_on": "2026-03-01", "external_id": "contract-9"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "external_id"


def test_a_restricted_account_cannot_start_a_subscription(api: ApiWorld) -> None:
    account = api.account()
    _restrict(api, account["id"])
    response = api.http.post("/subscriptions", json={
        "account": account["id"], "interval": "monthly", "user_price": 1, "number_price": 1,
        "started_on": "2026-03-01"})
    assert response.status_code == 409
    assert "restricted" in response.json()["error"]["message"]
    assert api.row_counts()["subscriptions"] == 0


def test_an_unknown_subscription_is_404(api: ApiWorld) -> None:
    assert api.http.get("/subscriptions/sub_nope").status_code == 404
    response = api.http.post("/subscriptions/sub_nope/units",
                             json={"kind": "users", "delta": 1})
    assert response.status_code == 404


def test_a_user_added_mid_period_is_prorated_on_the_next_invoice(api: ApiWorld) -> None:
    # Given a monthly plan from 03-01 (2 users at 10.00), billed on 03-01
    account = api.account()
    subscription = api.subscription(account["id"])
    api.renew()
    # When a user is added on 03-11
    response = api.http.post(f"/subscriptions/{subscription['id']}/units",
                             json={"kind": "users", "delta": 1, "effective_on": "2026-03-11"})
    assert response.status_code == 200
    # Then from 03-11 three users are in use, and the 04-01 invoice prorates the third:
    # 1000 x 21 days (03-11 → 04-01) / 31 days = 677.4 → 677
    api.clock.set(at_utc(2026, 3, 12, 9))
    assert api.http.get(f"/subscriptions/{subscription['id']}").json()["users"] == 3
    api.clock.set(at_utc(2026, 4, 1, 9))
    api.renew()
    invoices = api.http.get("/invoices", params={"account": account["id"]}).json()["data"]
    [prorata] = invoices[-1]["sections"]["prorata"]
    assert (prorata["quantity"], prorata["amount"], prorata["from"], prorata["to"]) == (
        1, 677, "2026-03-11", "2026-04-01")
    assert [line["quantity"] for line in invoices[-1]["sections"]["recurring"]] == [3, 1]


def test_removing_more_units_than_exist_is_422_and_changes_nothing(api: ApiWorld) -> None:
    account = api.account()
    subscription = api.subscription(account["id"])  # 2 users
    response = api.http.post(f"/subscriptions/{subscription['id']}/units",
                             json={"kind": "users", "delta": -3})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "delta"
    removed = api.http.post(f"/subscriptions/{subscription['id']}/units",
                            json={"kind": "users", "delta": -2})
    assert removed.status_code == 200
    assert api.row_counts()["seat_changes"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "users", "delta": 0}, "delta"),
    ({"kind": "seats", "delta": 1}, "kind"),
    ({"kind": "users", "delta": 1, "effective_on": "2026-02-01"}, "effective_on"),
])
def test_an_invalid_unit_change_is_422_naming_the_field(
        api: ApiWorld, body: dict[str, object], field: str) -> None:
    account = api.account()
    subscription = api.subscription(account["id"])
    response = api.http.post(f"/subscriptions/{subscription['id']}/units", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert api.row_counts()["seat_changes"] == 0


def test_a_change_dated_in_a_period_already_invoiced_is_422(api: ApiWorld) -> None:
    account = api.account()
    subscription = api.subscription(account["id"], started_on="2026-02-01")
    api.renew()  # bills 02-01 and 03-01: billed through 03-01
    response = api.http.post(f"/subscriptions/{subscription['id']}/units",
                             json={"kind": "numbers", "delta": 1,
                                   "effective_on": "2026-02-20"})
    assert response.status_code == 422
    assert "already invoiced" in response.json()["error"]["message"]


def test_a_restricted_account_cannot_add_units_but_may_remove_them(api: ApiWorld) -> None:
    account = api.account()
    subscription = api.subscription(account["id"])
    _restrict(api, account["id"])
    path = f"/subscriptions/{subscription['id']}/units"
    refused = api.http.post(path, json={"kind": "users", "delta": 1})
    assert refused.status_code == 409
    assert "restricted" in refused.json()["error"]["message"]
    assert api.row_counts()["seat_changes"] == 0
    assert api.http.post(path, json={"kind": "users", "delta": -1}).status_code == 200
    assert api.http.get(f"/subscriptions/{subscription['id']}").json()["users"] == 1


def _restrict(api: ApiWorld, account_id: str) -> None:
    # What the overdue sequence does to an account that has not paid.
    with api.deps.uow_factory() as uow:
        uow.accounts.update_standing(account_id=account_id, standing=Standing.RESTRICTED)
        uow.commit()
