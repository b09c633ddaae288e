"""The operator HTTP API, mounted in a Starlette app, on the console tests' SQLite world."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.simulators.server import serve_in_thread
from domain.clock import at_utc
from domain.records import Notification
from tests.integration.ops_world import OpsWorld, build_world
from workers.config import Settings
from workers.handlers.ending import TERMINATED, end_subscription
from workers.operator_api import operator_routes

TOKEN = "s3cret-operator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[OpsWorld]:
    built = build_world(f"sqlite:///{tmp_path / 'ops.db'}")
    yield built
    built.console.close()


@pytest.fixture
def client(world: OpsWorld) -> Iterator[httpx.Client]:
    settings = Settings(database_url=world.url, operator_api_token=TOKEN)
    yield from serve(Starlette(routes=operator_routes(world.deps, settings)))


def serve(app: Starlette) -> Iterator[httpx.Client]:
    server = serve_in_thread(app)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield http
    finally:
        server.stop()


def test_every_route_refuses_a_missing_or_wrong_token_with_401(client: httpx.Client) -> None:
    for method, path in (("GET", "/api/payments/failed"), ("POST", "/api/payments/requeue"),
                         ("GET", "/api/invoices"), ("GET", "/api/accounts/acc_soft"),
                         ("POST", "/api/wires"), ("POST", "/api/renewals/run")):
        assert client.request(method, path).status_code == 401
        wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"


def test_without_a_configured_token_the_api_refuses_everything(world: OpsWorld) -> None:
    app = Starlette(routes=operator_routes(world.deps, Settings(database_url=world.url)))
    for client in serve(app):
        assert client.get("/api/invoices", headers=AUTH).status_code == 401


def test_the_openapi_document_describes_every_route(client: httpx.Client) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/payments/failed", "/api/payments/requeue", "/api/invoices",
        "/api/invoices/{ident}", "/api/accounts/{account_id}",
        "/api/accounts/{account_id}/reactivate", "/api/dead-letters",
        "/api/dead-letters/requeue", "/api/renewals/run", "/api/wires", "/api/outbox",
        "/api/outbox/resend"}
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_failed_payments_are_listed_and_filtered(client: httpx.Client) -> None:
    rows = client.get("/api/payments/failed", params={"reason": "hard"}, headers=AUTH).json()
    assert [(r["attempt"], r["failure_code"]) for r in rows] == [("att_hard", "lost_card")]
    bad = client.get("/api/payments/failed", params={"method": "cheque"}, headers=AUTH)
    assert bad.status_code == 422
    assert "cheque" in bad.json()["error"]


def test_requeue_re_queues_soft_declines_and_refuses_hard_ones_with_409(
        client: httpx.Client, world: OpsWorld) -> None:
    ok = client.post("/api/payments/requeue", headers=AUTH,
                     json={"attempts": ["att_soft"], "reason": "customer called",
                           "actor": "alice"})
    assert ok.status_code == 200
    assert ok.json()[0]["outcome"] == "requeued"
    refused = client.post("/api/payments/requeue", headers=AUTH,
                          json={"attempts": ["att_hard"], "reason": "again"})
    assert refused.status_code == 409
    assert "hard decline" in refused.json()[0]["message"]
    unknown = client.post("/api/payments/requeue", headers=AUTH,
                          json={"attempts": ["att_nope"], "reason": "x"})
    assert unknown.status_code == 404
    no_reason = client.post("/api/payments/requeue", headers=AUTH, json={"attempts": ["att_soft"]})
    assert no_reason.status_code == 422
    not_json = client.post("/api/payments/requeue", headers=AUTH, content=b"[")
    assert not_json.status_code == 422


def test_invoices_are_listed_and_shown_as_json_or_html(client: httpx.Client,
                                                        world: OpsWorld) -> None:
    rows = client.get("/api/invoices", params={"account": "acc_wire"}, headers=AUTH).json()
    assert [r["account"] for r in rows] == ["acc_wire"]
    invoice_id = world.invoice_ids["acc_soft"]
    doc = client.get(f"/api/invoices/{invoice_id}", headers=AUTH).json()
    assert doc["id"] == invoice_id
    page = client.get(f"/api/invoices/{invoice_id}", params={"html": "1"}, headers=AUTH)
    assert page.headers["content-type"].startswith("text/html")
    assert client.get("/api/invoices/nope", headers=AUTH).status_code == 404
    assert client.get("/api/invoices", params={"limit": "x"}, headers=AUTH).status_code == 422


def test_an_account_is_shown_with_its_ledger(client: httpx.Client) -> None:
    doc = client.get("/api/accounts/acc_soft", headers=AUTH).json()
    assert (doc["standing"], doc["balance_minor"]) == ("active", 9500)
    assert client.get("/api/accounts/acc_nope", headers=AUTH).status_code == 404


def test_renewals_run_and_wires(client: httpx.Client, world: OpsWorld) -> None:
    world.clock.advance(days=31)
    run = client.post("/api/renewals/run", headers=AUTH, json={"as_of": "2026-04-01"})
    assert run.json() == {"as_of": "2026-04-01", "issued": 3}
    unmatched = client.post("/api/wires", headers=AUTH,
                            json={"reference": "RF00NOPE", "amount": "10.00"})
    assert unmatched.status_code == 202
    assert "kept for review" in unmatched.json()["error"]
    assert client.post("/api/wires", headers=AUTH, json={"amount": "1"}).status_code == 422


def test_the_outbox_is_listed_and_given_up_messages_sent_again(
        client: httpx.Client, world: OpsWorld) -> None:
    # Given a message the drains gave up on
    with world.deps.uow_factory() as uow:
        uow.outbox.add(notification=Notification(
            id="ntf_1", account_id="acc_soft", kind="payment_failed",
            dedupe_key="payment_failed:x", to_address="billing@soft.example", subject="Failed",
            body_text="…", created_at=world.clock.now(), attempts=10))
        uow.commit()
    listed = client.get("/api/outbox", params={"given_up": "1"}, headers=AUTH).json()
    assert [(r["id"], r["state"]) for r in listed] == [("ntf_1", "given up")]
    # When an operator sends it again, then it waits for a drain with no tries
    resent = client.post("/api/outbox/resend", headers=AUTH,
                         json={"ids": ["ntf_1"], "reason": "mailbox full, emptied"})
    assert resent.json() == {"resent": ["ntf_1"]}
    assert [r["tries"] for r in client.get("/api/outbox", headers=AUTH).json()] == [0]
    # And bad requests say why
    assert client.post("/api/outbox/resend", headers=AUTH,
                       json={"ids": ["ntf_nope"], "reason": "x"}).status_code == 404
    assert client.post("/api/outbox/resend", headers=AUTH,
                       json={"ids": "ntf_1", "reason": "x"}).status_code == 422
    assert client.get("/api/outbox", params={"limit": "many"}, headers=AUTH).status_code == 422


def test_dead_letters_need_redis(client: httpx.Client) -> None:
    response = client.get("/api/dead-letters", headers=AUTH)
    assert response.status_code == 503
    assert "REDIS_URL" in response.json()["error"]


def test_the_served_webhook_app_mounts_the_operator_api_beside_the_webhooks(
        world: OpsWorld) -> None:
    # Given the app `paycollect serve` runs: webhooks plus the operator routes
    from workers.webhook_app import create_webhook_app

    settings = Settings(database_url=world.url, operator_api_token=TOKEN)
    app = create_webhook_app(world.deps, settings, enqueue=lambda provider, event_id: None,
                             extra_routes=operator_routes(world.deps, settings))
    for client in serve(app):
        # Then both answer, and the operator API still wants its token
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/api/invoices").status_code == 401
        assert client.get("/api/invoices", headers=AUTH).status_code == 200


def test_a_terminated_account_that_paid_is_reactivated_through_the_api(
        world: OpsWorld, client: httpx.Client) -> None:
    # Given acc_wire terminated on 03-28, everything paid (its final invoice by wire)
    world.clock.set(at_utc(2026, 3, 28, 9))
    end_subscription(world.deps, subscription_id="sub_acc_wire", ends_on=date(2026, 3, 28),
                     reason=TERMINATED)
    with world.deps.uow_factory() as uow:
        [final] = uow.invoices.list_open_for_account(account_id="acc_wire")
    assert client.post("/api/wires", headers=AUTH, json={
        "reference": final.payment_reference, "amount": "95.00"}).status_code == 200
    # When the operator reactivates it from a given day
    started = client.post("/api/accounts/acc_wire/reactivate", headers=AUTH,
                          json={"reason": "paid up", "on": "2026-04-01", "actor": "bob"})
    # Then a new subscription starts then; again is a conflict; an unknown account a 404
    assert started.status_code == 200, started.text
    assert (started.json()["started_on"], started.json()["users"]) == ("2026-04-01", 3)
    assert client.post("/api/accounts/acc_wire/reactivate", headers=AUTH,
                       json={"reason": "again"}).status_code == 409
    assert client.post("/api/accounts/acc_nope/reactivate", headers=AUTH,
                       json={"reason": "x"}).status_code == 404
    assert client.post("/api/accounts/acc_wire/reactivate", headers=AUTH,
                       json={"reason": "x", "users": "two"}).status_code == 422
