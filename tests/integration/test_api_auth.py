"""The /v1 API's keys: every route refuses a missing or wrong key, and an unconfigured API
refuses everything; the OpenAPI document describes every route."""

from __future__ import annotations

import httpx
import pytest

from tests.integration import api_world
from tests.integration.api_world import KEY, ROTATED_KEY, ApiWorld, serve_api

api = api_world.api

ROUTES = [("POST", "/accounts"), ("GET", "/accounts/acc_x"), ("PATCH", "/accounts/acc_x"),
          ("GET", "/accounts/acc_x/balance"), ("GET", "/accounts/acc_x/ledger"),
          ("POST", "/subscriptions"), ("GET", "/subscriptions/sub_x"),
          ("POST", "/subscriptions/sub_x/units"), ("GET", "/invoices"),
          ("GET", "/invoices/inv_x"), ("GET", "/invoices/inv_x.html")]


def test_every_route_answers_401_without_a_key_or_with_a_wrong_one(api: ApiWorld) -> None:
    before = api.row_counts()
    with httpx.Client(base_url=api.url) as anonymous:
        for method, path in ROUTES:
            missing = anonymous.request(method, path, json={})
            wrong = anonymous.request(method, path, json={},
                                      headers={"Authorization": "Bearer pk_wrong",
                                               "Idempotency-Key": "k1"})
            assert (missing.status_code, wrong.status_code) == (401, 401), path
            assert wrong.json()["error"]["type"] == "unauthorized"
            assert wrong.headers["www-authenticate"] == "Bearer"
    assert api.row_counts() == before


def test_both_keys_of_a_rotation_are_accepted(api: ApiWorld) -> None:
    for key in (KEY, ROTATED_KEY):
        response = api.http.get("/invoices", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200


@pytest.mark.parametrize(("method", "path"), ROUTES[:3])
def test_without_a_configured_key_the_api_refuses_every_call_with_503(
        database_url: str, method: str, path: str) -> None:
    for world in serve_api(database_url, keys=()):
        response = world.http.request(method, path, json={"name": "Acme", "currency": "EUR"})
        assert response.status_code == 503
        assert "PAYCOLLECT_API_KEYS" in response.json()["error"]["message"]
        assert world.row_counts()["accounts"] == 0


def test_the_openapi_document_describes_every_route_and_the_idempotency_key(
        api: ApiWorld) -> None:
    document = api.http.get("/openapi.json").json()
    assert set(document["paths"]) == {
        "/accounts", "/accounts/{account_id}", "/accounts/{account_id}/balance",
        "/accounts/{account_id}/ledger", "/accounts/{account_id}/payment-method-setups",
        "/payment-method-setups/{setup_id}", "/subscriptions",
        "/subscriptions/{subscription_id}", "/subscriptions/{subscription_id}/units",
        "/subscriptions/{subscription_id}/cancel", "/subscriptions/{subscription_id}/rate-card",
        "/usage", "/invoices", "/invoices/{invoice_id}", "/invoices/{invoice_id}.html",
        "/webhook-endpoints", "/webhook-endpoints/{endpoint_id}"}
    for path, operations in document["paths"].items():
        if "post" in operations:
            names = [p["name"] for p in operations["post"].get("parameters", [])]
            assert "Idempotency-Key" in names, path
