"""/v1/webhook-endpoints over real HTTP (uvicorn in a thread), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from adapters.simulators.server import serve_in_thread
from workers.api.app import create_api
from workers.config import Settings
from workers.console_deps import build_console_deps

KEY = "sk_api_test"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def client(database_url: str) -> Iterator[httpx.Client]:
    settings = Settings(database_url=database_url, api_keys=(KEY,))
    built = build_console_deps(settings)
    server = serve_in_thread(create_api(built.deps, settings))
    try:
        with httpx.Client(base_url=server.url, timeout=10, headers=AUTH) as http:
            yield http
    finally:
        server.stop()
        built.close()


def test_an_endpoint_is_created_with_its_secret_shown_once(client: httpx.Client) -> None:
    # When an endpoint is created
    created = client.post("/webhook-endpoints", json={
        "url": "https://platform.example/paycollect", "events": ["invoice.paid",
                                                                 "account.standing_changed"],
        "description": "phone platform"})
    # Then the answer holds its signing secret
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert (body["status"], body["events"]) == ("enabled", ["invoice.paid",
                                                            "account.standing_changed"])
    # And no later read shows it
    shown = client.get(f"/webhook-endpoints/{body['id']}").json()
    listed = client.get("/webhook-endpoints").json()["data"]
    assert "secret" not in shown
    assert [e["id"] for e in listed] == [body["id"]]
    assert all("secret" not in e for e in listed)
    assert (listed[0]["paused_until"], listed[0]["failures"]) == (None, 0)  # never failed
    assert body["secret"] not in client.get("/webhook-endpoints").text


def test_deleting_an_endpoint_disables_it(client: httpx.Client) -> None:
    endpoint_id = client.post("/webhook-endpoints", json={
        "url": "http://127.0.0.1:8000/hook", "events": ["payment.failed"]}).json()["id"]
    deleted = client.delete(f"/webhook-endpoints/{endpoint_id}")
    assert (deleted.status_code, deleted.json()["status"]) == (200, "disabled")
    assert client.get(f"/webhook-endpoints/{endpoint_id}").json()["status"] == "disabled"
    for missing in (client.get("/webhook-endpoints/we_nope"),
                    client.delete("/webhook-endpoints/we_nope")):
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://platform.example/x", "events": ["invoice.paid"]}, "url"),
    ({"url": "https://", "events": ["invoice.paid"]}, "url"),
    ({"url": "https://platform.example/x", "events": ["invoice.payed"]}, "events"),
    ({"url": "https://platform.example/x", "events": []}, "events"),
    ({"events": ["invoice.paid"]}, "url"),
])
def test_a_bad_url_or_event_name_is_a_422_naming_the_field(
        client: httpx.Client, body: dict[str, object], field: str) -> None:
    answer = client.post("/webhook-endpoints", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field
    assert client.get("/webhook-endpoints").json()["data"] == []  # nothing stored


def test_the_endpoints_need_an_api_key(client: httpx.Client) -> None:
    assert client.get("/webhook-endpoints", headers={"Authorization": ""}).status_code == 401


def test_the_openapi_document_describes_the_endpoints_resource(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    assert {"/webhook-endpoints", "/webhook-endpoints/{endpoint_id}"} <= set(doc["paths"])
    assert "secret" in doc["components"]["schemas"]["EndpointWithSecret"]["properties"]
    assert "secret" not in doc["components"]["schemas"]["Endpoint"]["properties"]
