"""Idempotency-Key on /v1 POSTs, over HTTP (SQLite, PostgreSQL): a retry replays the first
answer and writes nothing; a reused key with another request, or one still running, is 409."""

from __future__ import annotations

import hashlib
import json

from adapters.db.repositories import idempotency as store
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from tests.integration import api_world
from tests.integration.api_world import KEY, ROTATED_KEY, ApiWorld
from workers.api.idempotency import KEY_TTL, LEASE, fingerprint

api = api_world.api

ACME = {"name": "Acme", "currency": "EUR"}


def _keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def test_a_retried_create_replays_the_first_answer_and_creates_one_account(
        api: ApiWorld) -> None:
    # When the same request is sent twice with one key
    first = api.http.post("/accounts", json=ACME, headers=_keyed("create-1"))
    again = api.http.post("/accounts", json=ACME, headers=_keyed("create-1"))
    # Then the second is the first's answer, marked as replayed, and one account exists
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert api.row_counts()["accounts"] == 1


def test_a_retried_unit_change_is_applied_once(api: ApiWorld) -> None:
    subscription = api.subscription(api.account()["id"])
    path = f"/subscriptions/{subscription['id']}/units"
    body = {"kind": "numbers", "delta": 2, "effective_on": "2026-03-05"}
    for _ in range(3):
        response = api.http.post(path, json=body, headers=_keyed("units-1"))
        assert response.status_code == 200
    assert api.row_counts()["seat_changes"] == 1
    # Without a key each call is applied: the documented risk of unkeyed retries
    api.http.post(path, json=body)
    assert api.row_counts()["seat_changes"] == 2


def test_the_endpoints_own_404_and_409_are_replayed_too(api: ApiWorld) -> None:
    api.account(external_id="crm-1")
    duplicate = {**ACME, "external_id": "crm-1"}
    for _ in range(2):
        conflict = api.http.post("/accounts", json=duplicate, headers=_keyed("dup"))
        missing = api.http.post("/subscriptions/sub_nope/units",
                                json={"kind": "users", "delta": 1}, headers=_keyed("missing"))
        assert (conflict.status_code, missing.status_code) == (409, 404)
    assert conflict.headers["idempotent-replayed"] == "true"
    assert missing.headers["idempotent-replayed"] == "true"


def test_a_key_reused_with_another_body_or_path_is_409_and_writes_nothing(
        api: ApiWorld) -> None:
    api.http.post("/accounts", json=ACME, headers=_keyed("k"))
    before = api.row_counts()
    other_body = api.http.post("/accounts", json={**ACME, "name": "Other"},
                               headers=_keyed("k"))
    other_path = api.http.post("/subscriptions", json=ACME, headers=_keyed("k"))
    for response in (other_body, other_path):
        assert response.status_code == 409
        assert response.json()["error"] == {
            "type": "idempotency_key_reused", "field": "Idempotency-Key",
            "message": "this Idempotency-Key was used with another request (method, path or "
                       "body)"}
    assert api.row_counts() == before


def test_a_request_refused_by_validation_leaves_its_key_free(api: ApiWorld) -> None:
    invalid = api.http.post("/accounts", json={"name": "Acme"}, headers=_keyed("k"))
    assert invalid.status_code == 422
    assert api.row_counts()["idempotency_keys"] == 0
    fixed = api.http.post("/accounts", json=ACME, headers=_keyed("k"))
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers


def test_keys_belong_to_the_api_key_that_used_them(api: ApiWorld) -> None:
    first = api.http.post("/accounts", json=ACME, headers=_keyed("k"))
    other = api.http.post("/accounts", json=ACME,
                          headers=_keyed("k", Authorization=f"Bearer {ROTATED_KEY}"))
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_a_key_longer_than_255_characters_is_422(api: ApiWorld) -> None:
    response = api.http.post("/accounts", json=ACME, headers=_keyed("k" * 256))
    assert (response.status_code, response.json()["error"]["field"]) == (422,
                                                                         "Idempotency-Key")
    assert api.row_counts()["accounts"] == 0


def test_a_retry_while_the_first_request_runs_is_409_until_its_lease_ends(
        api: ApiWorld) -> None:
    # Given a request with this key claimed it and has written nothing yet
    body = json.dumps(ACME).encode()
    _claim(api, "slow", body)
    # When a retry arrives meanwhile, then it is refused
    retry = api.http.post("/accounts", content=body, headers=_keyed(
        "slow", **{"Content-Type": "application/json"}))
    assert retry.status_code == 409
    assert retry.json()["error"]["type"] == "idempotency_key_in_progress"
    assert api.row_counts()["accounts"] == 0
    # When the claimer died without writing and its lease ended, a retry runs it
    api.clock.advance(minutes=int(LEASE.total_seconds() // 60) + 1)
    later = api.http.post("/accounts", content=body, headers=_keyed(
        "slow", **{"Content-Type": "application/json"}))
    assert later.status_code == 201
    assert api.row_counts()["accounts"] == 1


def test_a_request_that_wrote_but_lost_its_answer_is_never_applied_again(
        api: ApiWorld) -> None:
    # Given a request committed its write (the key fenced in it) and crashed before storing
    # its response
    body = json.dumps(ACME).encode()
    token = _claim(api, "crashed", body)
    with _factory(api)() as uow:
        assert store.fence(uow.session, owner=_owner(), key="crashed", token=token)
        uow.commit()
    # When retried, even after the lease, then it is 409, not a second account
    api.clock.advance(hours=1)
    retry = api.http.post("/accounts", content=body, headers=_keyed(
        "crashed", **{"Content-Type": "application/json"}))
    assert retry.status_code == 409
    assert retry.json()["error"]["type"] == "idempotency_key_executed"
    assert api.row_counts()["accounts"] == 0


def test_a_request_whose_key_was_taken_over_cannot_commit(api: ApiWorld) -> None:
    # Given a claim taken over by a retry after its lease
    body = json.dumps(ACME).encode()
    stale = _claim(api, "k", body)
    api.clock.advance(minutes=int(LEASE.total_seconds() // 60) + 1)
    fresh = _claim(api, "k", body)
    # Then the first request's fence fails (its transaction must not commit), the new one's
    # holds
    with _factory(api)() as uow:
        assert not store.fence(uow.session, owner=_owner(), key="k", token=stale)
        assert store.fence(uow.session, owner=_owner(), key="k", token=fresh)


def test_a_key_is_forgotten_after_24_hours(api: ApiWorld) -> None:
    first = api.http.post("/accounts", json=ACME, headers=_keyed("daily"))
    api.clock.advance(hours=int(KEY_TTL.total_seconds() // 3600), minutes=1)
    again = api.http.post("/accounts", json=ACME, headers=_keyed("daily"))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    # and the purge the scheduler's tick runs (on these deps: `paycollect scheduler` builds
    # the same) removes what has expired
    api.clock.advance(hours=25)
    assert api.deps.forget_expired_api_keys is not None
    assert api.deps.forget_expired_api_keys(api.clock.now()) == 1
    assert api.row_counts()["idempotency_keys"] == 0


def _factory(api: ApiWorld) -> SqlUnitOfWorkFactory:
    factory = api.deps.uow_factory
    assert isinstance(factory, SqlUnitOfWorkFactory)
    return factory


def _owner() -> str:
    return hashlib.sha256(KEY.encode()).hexdigest()


def _claim(api: ApiWorld, key: str, body: bytes) -> str:
    with _factory(api)() as uow:
        claimed = store.claim(uow.session, owner=_owner(), key=key,
                              fingerprint=fingerprint("POST", "/v1/accounts", b"", body),
                              now=api.clock.now(), ttl=KEY_TTL, lease=LEASE)
        uow.commit()
    assert isinstance(claimed, store.Claimed)
    return claimed.token


