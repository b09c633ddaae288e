"""The GoCardless simulator, through the official SDK over real HTTP."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import gocardless_pro
import httpx
import pytest
import requests
from gocardless_pro import errors

from adapters.simulators.gocardless import (
    FaultConfig,
    GoCardlessSimulator,
    SimulatorConfig,
)
from domain.clock import ManualClock
from tests.conftest import load_provider_fixture
from tests.integration.gocardless_fixtures import (
    TOKEN,
    advance,
    gocardless_client,
    gocardless_sim,
    mandate_for,
    pay,
    sim_clock,
)

__all__ = ["gocardless_client", "gocardless_sim", "sim_clock"]


def statuses_by_day(sim: GoCardlessSimulator, clock: ManualClock, client: gocardless_pro.Client,
                    payment_id: str, days: int) -> dict[str, str]:
    """The day each new status was first seen, advancing one day at a time."""
    seen: dict[str, str] = {}
    for _ in range(days):
        today = advance(sim, clock, days=1)
        seen.setdefault(client.payments.get(payment_id).status, today.isoformat())
    return seen


# -- timelines --------------------------------------------------------------------------------

def test_a_paying_sepa_payment_is_submitted_confirmed_then_paid_out_on_working_days(
        gocardless_sim, sim_clock, gocardless_client):
    # Given a sepa_core mandate that pays, on Thursday 15 January 2026
    mandate = mandate_for(gocardless_client)
    # When a payment is created without a charge date
    payment = pay(gocardless_client, mandate)
    # Then it is charged on the next possible date (2 working days: Monday 19th)
    assert (payment.status, payment.charge_date) == ("pending_submission", "2026-01-19")
    # And it moves along its timeline as the clock advances
    assert statuses_by_day(gocardless_sim, sim_clock, gocardless_client, payment.id, 10) == {
        "submitted": "2026-01-16", "confirmed": "2026-01-21", "paid_out": "2026-01-22"}


@pytest.mark.parametrize("scheme", ["bacs", "ach"])
def test_every_scheme_reaches_paid_out(gocardless_sim, sim_clock, gocardless_client, scheme):
    # Given a paying mandate on another scheme
    payment = pay(gocardless_client, mandate_for(gocardless_client, scheme=scheme))
    # When two weeks pass
    seen = statuses_by_day(gocardless_sim, sim_clock, gocardless_client, payment.id, 14)
    # Then the payment went all the way
    assert list(seen) == ["submitted", "confirmed", "paid_out"]


@pytest.mark.parametrize(("behaviour", "scheme", "cause", "reason_code", "mandate_status"), [
    ("fails_insufficient_funds", "sepa_core", "insufficient_funds", "AM04", "active"),
    ("fails_insufficient_funds", "bacs", "refer_to_payer", "ARUDD-0", "active"),
    ("fails_bank_account_closed", "sepa_core", "bank_account_closed", "AC04", "cancelled"),
    ("fails_bank_account_closed", "ach", "bank_account_closed", "ACH_RETURN-R02", "cancelled"),
])
def test_a_failing_behaviour_fails_the_payment_with_the_banks_reason(
        gocardless_sim, sim_clock, gocardless_client, behaviour, scheme, cause, reason_code,
        mandate_status):
    # Given a mandate with a failing behaviour and a payment on it
    mandate = mandate_for(gocardless_client, behaviour, scheme)
    payment = pay(gocardless_client, mandate)
    # When the banks have answered
    seen = statuses_by_day(gocardless_sim, sim_clock, gocardless_client, payment.id, 10)
    # Then the payment failed, with the scheme's cause and reason code in its event
    assert "confirmed" not in seen
    assert "failed" in seen
    failed = gocardless_client.events.list(params={"payment": payment.id,
                                                   "action": "failed"}).records
    assert [(e.details.cause, e.details.scheme, e.details.reason_code,
             e.details.will_attempt_retry) for e in failed] == [
        (cause, scheme, reason_code, False)]
    # And a closed account also cancels the mandate
    assert gocardless_client.mandates.get(mandate.id).status == mandate_status


def test_a_late_failure_fails_a_payment_after_it_was_confirmed(
        gocardless_sim, sim_clock, gocardless_client):
    payment = pay(gocardless_client, mandate_for(gocardless_client, "late_failure"))
    seen = statuses_by_day(gocardless_sim, sim_clock, gocardless_client, payment.id, 12)
    assert list(seen) == ["submitted", "confirmed", "failed"]
    actions = [e.action for e in gocardless_client.events.list(
        params={"payment": payment.id}).records]
    assert actions == ["created", "submitted", "confirmed", "failed", "late_failure_settled"]


def test_a_charged_back_payment_is_taken_back_after_it_was_paid_out(
        gocardless_sim, sim_clock, gocardless_client):
    payment = pay(gocardless_client, mandate_for(gocardless_client, "charged_back", "bacs"))
    seen = statuses_by_day(gocardless_sim, sim_clock, gocardless_client, payment.id, 20)
    assert list(seen) == ["submitted", "confirmed", "paid_out", "charged_back"]
    event = gocardless_client.events.list(params={"payment": payment.id,
                                                  "action": "charged_back"}).records[0]
    assert (event.details.origin, event.details.cause, event.details.reason_code) == (
        "bank", "authorisation_disputed", "DDICA-5")


def test_a_mandate_cancelled_at_the_bank_cancels_its_pending_payments(
        gocardless_sim, sim_clock, gocardless_client):
    # Given a mandate the payer will cancel at their bank, with two payments waiting
    mandate = mandate_for(gocardless_client, "mandate_cancelled", "bacs")
    first = pay(gocardless_client, mandate)
    second = pay(gocardless_client, mandate, charge_date="2026-02-20")
    # When the first payment would be submitted
    advance(gocardless_sim, sim_clock, days=1)
    # Then the mandate and both payments are cancelled, cause mandate_cancelled
    assert gocardless_client.mandates.get(mandate.id).status == "cancelled"
    for payment in (first, second):
        assert gocardless_client.payments.get(payment.id).status == "cancelled"
        event = gocardless_client.events.list(params={"payment": payment.id,
                                                      "action": "cancelled"}).records[0]
        assert (event.details.cause, event.details.reason_code) == ("mandate_cancelled",
                                                                    "ADDACS-1")
    # And the mandate takes no more payments
    with pytest.raises(errors.InvalidStateError, match="cancelled"):
        pay(gocardless_client, mandate)


def test_the_behaviour_can_come_from_the_customers_metadata(gocardless_client):
    customer = gocardless_client.customers.create(params={
        "email": "x@y.test", "metadata": {"behaviour": "late_failure"}})
    account = gocardless_client.customer_bank_accounts.create(params={
        "currency": "GBP", "links": {"customer": customer.id}})
    mandate = gocardless_client.mandates.create(params={"links": {
        "customer_bank_account": account.id}})
    assert (mandate.scheme, mandate.metadata) == ("bacs", {})
    with pytest.raises(errors.ValidationFailedError, match="behaviour"):
        gocardless_client.mandates.create(params={"links": {"customer_bank_account": account.id},
                                                  "metadata": {"behaviour": "sometimes"}})


# -- API rules --------------------------------------------------------------------------------

def test_a_charge_date_before_the_next_possible_one_is_refused(gocardless_client):
    mandate = mandate_for(gocardless_client)
    with pytest.raises(errors.ValidationFailedError, match="charge_date"):
        pay(gocardless_client, mandate, charge_date="2026-01-16")
    assert pay(gocardless_client, mandate, charge_date="2026-02-02").charge_date == "2026-02-02"


def test_the_same_idempotency_key_never_creates_a_second_payment(gocardless_sim,
                                                                 gocardless_client):
    # Given a payment created with a key
    mandate = mandate_for(gocardless_client)
    first = gocardless_client.payments.create(
        params={"amount": 100, "currency": "EUR", "links": {"mandate": mandate.id}},
        headers={"Idempotency-Key": "attempt-1"})
    # When the same key is sent again, the SDK gets 409 and fetches the existing payment
    again = gocardless_client.payments.create(
        params={"amount": 100, "currency": "EUR", "links": {"mandate": mandate.id}},
        headers={"Idempotency-Key": "attempt-1"})
    # Then it is the same payment, and the raw 409 names it as GoCardless does
    assert again.id == first.id
    strict = gocardless_pro.Client(access_token=TOKEN, base_url=gocardless_sim.url,
                                   raise_on_idempotency_conflict=True)
    with pytest.raises(errors.IdempotentCreationConflictError) as conflict:
        strict.payments.create(params={"amount": 100, "currency": "EUR",
                                       "links": {"mandate": mandate.id}},
                               headers={"Idempotency-Key": "attempt-1"})
    assert conflict.value.conflicting_resource_id == first.id
    assert conflict.value.code == 409
    assert gocardless_sim.stats()["payments"]["total"] == 1


def test_an_api_cancelled_mandate_cancels_its_payments_and_can_be_reinstated(gocardless_client):
    mandate = mandate_for(gocardless_client)
    payment = pay(gocardless_client, mandate)
    with pytest.raises(errors.InvalidStateError) as active:
        gocardless_client.mandates.reinstate(mandate.id)
    expected = load_provider_fixture("gocardless_error_invalid_state.json")["error"]
    assert active.value.errors == expected["errors"]
    gocardless_client.mandates.cancel(mandate.id)
    assert gocardless_client.payments.get(payment.id).status == "cancelled"
    assert gocardless_client.mandates.reinstate(mandate.id).status == "pending_submission"


def test_lists_filter_and_page_like_gocardless(gocardless_client):
    mandate = mandate_for(gocardless_client)
    ids = [pay(gocardless_client, mandate).id for _ in range(5)]
    pages = list(gocardless_client.payments.all(params={"mandate": mandate.id, "limit": 2}))
    assert [p.id for p in pages] == ids
    first_page = gocardless_client.payments.list(params={"limit": 2})
    assert first_page.after == ids[1]
    assert gocardless_client.payments.list(params={"mandate": "MD404"}).records == []


def test_unknown_resources_and_tokens_get_gocardless_errors(gocardless_sim, gocardless_client):
    with pytest.raises(errors.InvalidApiUsageError) as missing:
        gocardless_client.payments.get("PM404")
    assert missing.value.code == 404
    stranger = gocardless_pro.Client(access_token="wrong", base_url=gocardless_sim.url)
    with pytest.raises(errors.AuthenticationError):
        stranger.payments.list()


# -- faults -----------------------------------------------------------------------------------

def _raw(sim: GoCardlessSimulator, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, sim.url + path, timeout=5,
                            headers={"Authorization": f"Bearer {TOKEN}"}, **kw)


def test_a_rate_limited_request_gets_429_with_retry_after_in_the_fixtures_shape(gocardless_sim):
    gocardless_sim.faults.configure(FaultConfig(script=("rate_limit",), retry_after_seconds=7))
    response = _raw(gocardless_sim, "GET", "/payments")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    error = response.json()["error"]
    fixture = load_provider_fixture("gocardless_error_rate_limit_exceeded.json")["error"]
    assert {k: error[k] for k in fixture} == fixture


def test_commit_then_drop_creates_the_payment_but_sends_no_response(gocardless_sim,
                                                                    gocardless_client):
    mandate = mandate_for(gocardless_client)
    gocardless_sim.faults.configure(FaultConfig(script=("drop",)))
    with pytest.raises(requests.ConnectionError):
        _raw(gocardless_sim, "POST", "/payments", json={"payments": {
            "amount": 100, "currency": "EUR", "links": {"mandate": mandate.id}}})
    assert gocardless_sim.stats()["payments"]["total"] == 1
    assert gocardless_sim.stats()["faults"]["drop"] == 1


def test_latency_is_added_to_every_api_request_but_not_to_the_admin_ones(gocardless_sim):
    # (a latency long enough that a loaded machine cannot blur the two)
    gocardless_sim.faults.configure(FaultConfig(latency_ms=1500))
    started = time.monotonic()
    _raw(gocardless_sim, "GET", "/payments")
    assert time.monotonic() - started >= 1.5
    started = time.monotonic()
    requests.get(gocardless_sim.url + "/_sim/stats", timeout=5)
    assert time.monotonic() - started < 1.0


def test_a_hanging_request_times_the_client_out(gocardless_sim):
    gocardless_sim.faults.configure(FaultConfig(script=("timeout",), hang_seconds=0.5))
    with pytest.raises(requests.Timeout):
        requests.get(gocardless_sim.url + "/payments", timeout=0.05,
                     headers={"Authorization": f"Bearer {TOKEN}"})


def test_random_faults_are_reproducible_from_the_seed():
    def run() -> list[str | None]:
        from adapters.simulators.gocardless.faults import FaultInjector
        injector = FaultInjector(FaultConfig(error_rate=0.3, rate_limit_rate=0.2, seed=42))
        return [injector.choose("GET", "/payments") for _ in range(50)]
    first = run()
    assert first == run()
    assert {"error", "rate_limit", None} == set(first)


def test_the_admin_endpoints_advance_configure_faults_and_report_stats(gocardless_sim,
                                                                       gocardless_client):
    # Given two payments for one invoice (two attempts) and one for another
    mandate = mandate_for(gocardless_client)
    for invoice in ("INV-1", "INV-1", "INV-2"):
        pay(gocardless_client, mandate, metadata={"invoice_id": invoice})
    with httpx.Client(base_url=gocardless_sim.url) as admin:
        # When the simulator is advanced over HTTP
        moved = admin.post("/_sim/advance", json={"today": "2026-01-30"}).json()
        faults = admin.post("/_sim/faults", json={"latency_ms": 1, "script": ["none"]}).json()
        stats = admin.get("/_sim/stats").json()
        bad = admin.post("/_sim/faults", json={"nonsense": 1})
    # Then every payment moved on, faults are set, and stats count per invoice
    assert moved["today"] == "2026-01-30"
    assert moved["events_emitted"] > 0
    assert faults["latency_ms"] == 1
    assert faults["script"] == ["none"]
    assert bad.status_code == 400
    assert stats["invoices"]["INV-1"] == {"payments": 2, "submitted": 2, "confirmed": 2,
                                          "paid_out": 2}
    assert stats["payments"] == {"total": 3, "by_status": {"paid_out": 3}}


# -- real-time mode ---------------------------------------------------------------------------

def test_in_real_time_mode_a_paying_payment_confirms_within_milliseconds():
    sim = GoCardlessSimulator(SimulatorConfig(start=date(2026, 1, 15), seconds_per_day=0.02))
    with sim:
        client = gocardless_pro.Client(access_token="any", base_url=sim.url)
        payment = pay(client, mandate_for(client))
        started = time.monotonic()
        while client.payments.get(payment.id).status not in ("confirmed", "paid_out"):
            assert time.monotonic() - started < 5, "never confirmed"
            time.sleep(0.01)  # waiting for wall-clock time to pass: that is the feature
    # sepa_core: charged 2 days after creation, confirmed 2 days later: about 4 x 20 ms
    assert time.monotonic() - started < 2
