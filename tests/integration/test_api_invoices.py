"""/v1/invoices over HTTP: listed by account and status, paginated, as JSON and as the
customer's HTML document (SQLite, PostgreSQL)."""

from __future__ import annotations

from domain.clock import at_utc
from domain.wire_reference import format_rf_reference
from tests.integration import api_world
from tests.integration.api_world import ApiWorld

api = api_world.api


def _two_months(api: ApiWorld) -> tuple[str, str]:
    """Two accounts; the first invoiced on 03-01 and 04-01, the second on 03-01."""
    first, second = api.account(external_id="crm-1")["id"], api.account()["id"]
    api.subscription(first)
    api.subscription(second, users=1, numbers=0)
    api.renew()
    api.clock.set(at_utc(2026, 4, 1, 9))
    with api.deps.uow_factory() as uow:
        # only the first account's subscription renews in April
        [other] = uow.subscriptions.list_for_account(account_id=second)
        uow.subscriptions.set_next_renewal(subscription_id=other.id,
                                           billed_through=other.next_renewal_on,
                                           next_renewal_on=at_utc(2026, 5, 1, 9).date())
        uow.commit()
    api.renew()
    return first, second


def test_invoices_are_listed_by_account_and_status(api: ApiWorld) -> None:
    first, second = _two_months(api)
    everything = api.http.get("/invoices").json()["data"]
    assert sorted(inv["account"] for inv in everything) == sorted([first, first, second])
    mine = api.http.get("/invoices", params={"account": "crm-1"}).json()["data"]
    assert [inv["issued_on"] for inv in mine] == ["2026-03-01", "2026-04-01"]
    # the March invoice was carried forward onto April's
    open_ = api.http.get("/invoices", params={"account": first, "status": "open"}).json()
    assert [inv["issued_on"] for inv in open_["data"]] == ["2026-04-01"]
    carried = api.http.get("/invoices", params={"account": first,
                                                "status": "carried_forward"}).json()
    assert [inv["carried_to"] for inv in carried["data"]] == [open_["data"][0]["id"]]


def test_the_invoice_list_is_paginated(api: ApiWorld) -> None:
    _two_months(api)
    first = api.http.get("/invoices", params={"limit": 2}).json()
    rest = api.http.get("/invoices", params={
        "limit": 2, "starting_after": first["next_starting_after"]}).json()
    ids = [inv["id"] for inv in first["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) == 3
    assert (first["has_more"], rest["has_more"]) == (True, False)


def test_invoice_filters_are_validated(api: ApiWorld) -> None:
    bad_status = api.http.get("/invoices", params={"status": "lost"})
    assert (bad_status.status_code, bad_status.json()["error"]["field"]) == (422, "status")
    assert api.http.get("/invoices", params={"account": "acc_nope"}).status_code == 404
    cursor = api.http.get("/invoices", params={"starting_after": "inv_nope"})
    assert cursor.json()["error"]["field"] == "starting_after"


def test_an_invoice_shows_the_articles_sections_totals_and_payment_details(
        api: ApiWorld) -> None:
    first, _ = _two_months(api)
    april = api.http.get("/invoices", params={"account": first}).json()["data"][-1]
    invoice = api.http.get(f"/invoices/{april['id']}").json()
    assert invoice == april
    assert [(line["item"], line["quantity"], line["amount"])
            for line in invoice["sections"]["recurring"]] == [("users", 2, 2000),
                                                              ("numbers", 1, 500)]
    assert (invoice["sections"]["prorata"], invoice["sections"]["minutes"]) == ([], [])
    # March's 2500, unpaid, is brought forward
    assert (invoice["charges"], invoice["previous_amount_due"], invoice["total"],
            invoice["amount_paid"], invoice["amount_due"], invoice["status"]) == (
        2500, 2500, 5000, 0, 5000, "open")
    details = invoice["payment_details"]
    assert details["method"] == "wire"
    assert details["reference"]
    assert details["due_on"] == "2026-05-01"
    assert details["bank"]["iban"].startswith("DE89")


def test_an_invoice_is_rendered_as_the_customers_html_document(api: ApiWorld) -> None:
    first, _ = _two_months(api)
    april = api.http.get("/invoices", params={"account": first}).json()["data"][-1]
    response = api.http.get(f"/invoices/{april['id']}.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert april["number"] in response.text
    assert format_rf_reference(april["payment_details"]["reference"]) in response.text


def test_an_unknown_invoice_is_404_as_json_and_as_html(api: ApiWorld) -> None:
    for path in ("/invoices/inv_nope", "/invoices/inv_nope.html"):
        response = api.http.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found"
