"""POST /v1/usage and the rate-card endpoints, through a real HTTP client, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from domain.invoices import Section
from tests.handlers.world import invoices_of
from tests.integration.usage_world import AUTH, UsageWorld, call, serve_api

#: Per started minute; +33 France, +336/+337 France mobile, +1 North America, the rest 0.50.
CARD = {"rounding": "per_started_minute", "default_outbound_per_minute": 50,
        "toll_free_per_minute": 8,
        "destinations": [{"prefix": "+33", "label": "France", "per_minute": 10},
                         {"prefix": "+336", "label": "France mobile", "per_minute": 20},
                         {"prefix": "+337", "label": "France mobile", "per_minute": 20},
                         {"prefix": "+1", "label": "North America", "per_minute": 5}]}


@pytest.fixture
def world(database_url: str, uow_factory: SqlUnitOfWorkFactory,
          clock: ManualClock) -> Iterator[UsageWorld]:
    yield from serve_api(database_url, uow_factory, clock)


def minutes_lines(world: UsageWorld, issued_on: date) -> list[tuple[str, int, int, int]]:
    (invoice,) = [i for i in invoices_of(world.uow_factory, "acme") if i.issued_on == issued_on]
    return [(line.description.split(" — ")[0], line.quantity, line.unit_amount.minor,
             line.amount.minor) for line in invoice.lines_in(Section.MINUTES)]


def test_a_record_sent_twice_in_two_batches_is_counted_once(world: UsageWorld) -> None:
    # Given a first batch of two calls
    first = world.post_usage([call("c1"), call("c2")])
    # When the platform resends c2 (after a timeout) with a new c3
    second = world.post_usage([call("c2"), call("c3")])
    # Then c2 is a duplicate, and it is billed once: 3 calls x 1 minute x 0.02 = 0.06
    assert (first["new"], first["duplicates"]) == (2, 0)
    assert (second["new"], second["duplicates"], second["accepted"]) == (1, 1, 2)
    world.renew(date(2026, 4, 1))
    assert minutes_lines(world, date(2026, 4, 1)) == [("Outbound call minutes", 3, 2, 6)]


def test_a_bad_record_is_refused_with_its_index_and_field_and_the_rest_is_accepted(
        world: UsageWorld) -> None:
    # Given a batch whose second record has no E.164 destination and fourth an unknown
    # subscription
    body = world.post_usage([call("ok1"), call("bad1", destination="0612345678"),
                             call("ok2"), call("bad2", subscription="sub_nobody")])
    # Then those two are refused, named, and the other two stored
    assert (body["received"], body["accepted"], body["new"]) == (4, 2, 2)
    assert [(r["index"], r["field"]) for r in body["refused"]] == [(1, "destination"),
                                                                  (3, "subscription")]
    assert "E.164" in body["refused"][0]["message"]
    with world.uow_factory() as uow:
        stored = uow.call_records.invoice_of(record_ids=["ok1", "bad1", "ok2", "bad2"])
    assert sorted(stored) == ["ok1", "ok2"]


def test_more_than_ten_thousand_records_are_refused_naming_records(world: UsageWorld) -> None:
    response = world.http.post("/usage", json={"records": [call("x")] * 10_001}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "records"


def test_usage_without_the_api_key_is_refused(world: UsageWorld) -> None:
    response = world.http.post("/usage", json={"records": []})
    assert response.status_code == 401


def test_a_late_record_goes_on_the_next_invoice_exactly_once(world: UsageWorld) -> None:
    # Given March billed on 04-01 with one call of 2 minutes
    world.post_usage([call("march", seconds=120)])
    world.renew(date(2026, 4, 1))
    # When a March call of 5 minutes arrives after that invoice
    world.post_usage([call("late", started_at="2026-03-20T23:59:59+00:00", seconds=300)])
    world.renew(date(2026, 6, 1))
    # Then April's invoice had 2 minutes, May 1st's has the late 5, June 1st's none
    assert minutes_lines(world, date(2026, 4, 1)) == [("Outbound call minutes", 2, 2, 4)]
    assert minutes_lines(world, date(2026, 5, 1)) == [("Outbound call minutes", 5, 2, 10)]
    assert minutes_lines(world, date(2026, 6, 1)) == []
    may = next(i for i in invoices_of(world.uow_factory, "acme")
               if i.issued_on == date(2026, 5, 1))
    with world.uow_factory() as uow:
        assert uow.call_records.invoice_of(record_ids=["late"]) == {"late": may.id}


def test_the_minutes_of_a_renewed_invoice_are_one_line_per_destination_class(
        world: UsageWorld) -> None:
    # Given the card, stored through the API
    put = world.http.put("/subscriptions/sub_acme/rate-card", json=CARD, headers=AUTH)
    assert put.status_code == 200, put.text
    # and March's calls (a call on 04-01 00:00 UTC belongs to the next invoice)
    world.post_usage([
        call("fr", destination="+33145678901", seconds=61),    # France: 2 started minutes
        call("mob6", destination="+33612345678", seconds=125),  # France mobile: 3
        call("mob7", destination="+33712345678", seconds=60),   # France mobile: 1
        call("us", destination="+12125550100", seconds=30),     # North America: 1
        call("uk", destination="+442071234567", seconds=90),    # other destinations: 2
        call("tf", direction="inbound_toll_free", destination="+33800123456",
             seconds=300),                                      # toll-free: 5
        call("april", started_at="2026-04-01T00:00:00Z", seconds=600)])
    # When the subscription renews on 04-01
    world.renew(date(2026, 4, 1))
    # Then, computed by hand:
    assert minutes_lines(world, date(2026, 4, 1)) == [
        ("France", 2, 10, 20),                               # 2 x 0.10
        ("France mobile", 4, 20, 80),                        # (3 + 1) x 0.20
        ("North America", 1, 5, 5),                          # 1 x 0.05
        ("Outbound calls, other destinations", 2, 50, 100),  # 2 x 0.50
        ("Inbound minutes on toll-free numbers", 5, 8, 40),  # 5 x 0.08
    ]


def test_a_replaced_rate_card_re_rates_the_calls_not_billed_yet(world: UsageWorld) -> None:
    # Given a call to a French mobile received before the subscription had a card
    world.post_usage([call("mob", destination="+33612345678", seconds=60)])
    # When the card is set, then read back
    world.http.put("/subscriptions/sub_acme/rate-card", json=CARD, headers=AUTH)
    got = world.http.get("/subscriptions/sub_acme/rate-card", headers=AUTH).json()
    world.renew(date(2026, 4, 1))
    # Then it is billed as a French mobile: 1 x 0.20
    assert got["source"] == "rate_card"
    assert [d["prefix"] for d in got["destinations"]] == ["+1", "+33", "+336", "+337"]
    assert minutes_lines(world, date(2026, 4, 1)) == [("France mobile", 1, 20, 20)]


def test_without_a_card_the_plan_rates_are_shown(world: UsageWorld) -> None:
    got = world.http.get("/subscriptions/sub_acme/rate-card", headers=AUTH).json()
    assert (got["source"], got["default_outbound_per_minute"], got["destinations"]) == (
        "plan", 2, [])


@pytest.mark.parametrize(("card", "field"), [
    ({"destinations": [{"prefix": "33", "label": "France", "per_minute": 1}]},
     "destinations.0.prefix"),
    ({"destinations": [{"prefix": "+33", "label": "France", "per_minute": 1},
                       {"prefix": "+33", "label": "France", "per_minute": 1}]},
     "destinations.1.prefix"),
    ({"toll_free_per_minute": -1}, "toll_free_per_minute"),
    ({"default_outbound_per_minute": 1.5}, "default_outbound_per_minute"),
])
def test_a_bad_rate_card_is_refused_naming_the_field(world: UsageWorld, card: dict[str, object],
                                                     field: str) -> None:
    response = world.http.put("/subscriptions/sub_acme/rate-card", json=card, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    got = world.http.get("/subscriptions/sub_acme/rate-card", headers=AUTH).json()
    assert got["source"] == "plan"


def test_the_rate_card_of_an_unknown_subscription_is_404(world: UsageWorld) -> None:
    response = world.http.put("/subscriptions/nope/rate-card", json=CARD, headers=AUTH)
    assert response.status_code == 404


def test_the_openapi_document_describes_a_call_record_and_the_rate_card(
        world: UsageWorld) -> None:
    document = world.http.get("/openapi.json").json()
    records = document["components"]["schemas"]["UsageBatchIn"]["properties"]["records"]
    assert records["maxItems"] == 10_000
    assert set(records["items"]["properties"]) == {
        "id", "subscription", "number", "direction", "destination", "started_at",
        "duration_seconds"}
    assert "/subscriptions/{subscription_id}/rate-card" in document["paths"]


def test_hostile_records_are_refused_one_by_one_never_a_server_error(world: UsageWorld) -> None:
    # Given records no platform should send: not objects, NULs, overflowing instants
    hostile: list[object] = [
        "c1", None, [], {"id": 1}, call("nul\x00"), call("n", subscription="sub\x00"),
        call("far", started_at="0001-01-01T00:00:00+14:00"),
        call("big", seconds=10**30), {**call("neg"), "duration_seconds": -5}]
    # When they are sent with one good record
    response = world.http.post("/usage", json={"records": [*hostile, call("good")]},
                               headers=AUTH)
    # Then every hostile one is refused by index and the good one stored
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["index"] for r in body["refused"]] == list(range(len(hostile)))
    assert body["new"] == 1


def test_a_rate_card_label_with_a_control_character_is_refused(world: UsageWorld) -> None:
    card = {"destinations": [{"prefix": "+33", "label": "Fr\x00", "per_minute": 1}]}
    response = world.http.put("/subscriptions/sub_acme/rate-card", json=card, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "destinations.0.label"
    assert world.http.get("/subscriptions/sub%00/rate-card", headers=AUTH).status_code == 404
