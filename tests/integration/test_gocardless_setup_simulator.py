"""The GoCardless simulator's Billing Requests, Billing Request Flows and hosted page, through
the official SDK over HTTP, and the signed webhooks the payer's completion sends."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import gocardless_pro
import httpx
import pytest
from gocardless_pro import errors

from adapters.simulators.gocardless import GoCardlessSimulator, SimulatorConfig
from adapters.simulators.gocardless.webhooks import WebhookConfig
from domain.clock import ManualClock
from tests.integration import gocardless_fixtures
from tests.integration.gocardless_fixtures import TOKEN, WEBHOOK_SECRET, WebhookReceiver
from tests.integration.setup_world import submit_hosted_page

# Fixtures these tests use (pytest finds them among the module's attributes).
gocardless_client = gocardless_fixtures.gocardless_client
gocardless_sim = gocardless_fixtures.gocardless_sim
sim_clock = gocardless_fixtures.sim_clock
webhook_receiver = gocardless_fixtures.webhook_receiver


def _flow(client: gocardless_pro.Client, scheme: str = "sepa_core") -> tuple[str, str]:
    request = client.billing_requests.create(params={
        "mandate_request": {"scheme": scheme, "metadata": {"setup_id": "pms_1"}},
        "metadata": {"setup_id": "pms_1"}})
    assert request.status == "pending"
    assert request.mandate_request.scheme == scheme
    flow = client.billing_request_flows.create(params={
        "redirect_uri": "https://shop.example/done", "exit_uri": "https://shop.example/exit",
        "prefilled_customer": {"company_name": "Acme SAS"},
        "links": {"billing_request": request.id}})
    assert flow.links.billing_request == request.id
    return request.id, str(flow.authorisation_url)


def test_a_flow_completed_on_its_page_fulfils_the_request_with_a_mandate_and_signs_events(
        sim_clock: ManualClock, webhook_receiver: WebhookReceiver) -> None:
    # Given a simulator that delivers webhooks
    sim = GoCardlessSimulator(SimulatorConfig(clock=sim_clock.today, access_token=TOKEN,
                                              webhook=WebhookConfig(url=webhook_receiver.url,
                                                                    secret=WEBHOOK_SECRET)))
    with sim:
        client = gocardless_pro.Client(access_token=TOKEN, base_url=sim.url, timeout=5)
        request_id, url = _flow(client)
        # When the payer opens the flow's page and submits the prefilled sandbox IBAN
        page = httpx.get(url)
        assert page.status_code == 200
        assert 'value="FR1420041010050500013M02606"' in page.text
        assert 'value="Acme SAS"' in page.text
        answer = httpx.post(url, data={"account_holder_name": "Acme SAS",
                                       "iban": "FR14 2004 1010 0505 0001 3M02 606",
                                       "behaviour": "pays"})
        # Then they are sent back, the request is fulfilled with a mandate for its customer
        assert answer.status_code == 303
        assert answer.headers["location"] == "https://shop.example/done"
        request = client.billing_requests.get(request_id)
        assert request.status == "fulfilled"
        mandate = client.mandates.get(request.links.mandate_request_mandate)
        assert mandate.links.customer == request.links.customer
        assert (mandate.scheme, mandate.status) == ("sepa_core", "pending_submission")
        assert mandate.metadata == {"setup_id": "pms_1", "behaviour": "pays"}
        account = client.customer_bank_accounts.get(mandate.links.customer_bank_account)
        assert (account.account_holder_name, account.account_number_ending,
                account.country_code) == ("Acme SAS", "06", "FR")
        # and the mandate becomes active on the scheme's timeline
        sim.advance_to(sim_clock.today() + timedelta(days=7))
        assert client.mandates.get(mandate.id).status == "active"
        assert sim.webhooks is not None
        assert sim.webhooks.flush(10)
        events = []
        for body, headers in webhook_receiver.bodies():
            expected = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers["webhook-signature"] == expected
            events += json.loads(body)["events"]
        kinds = [f"{e['resource_type']}.{e['action']}" for e in events]
        assert kinds == ["mandates.created", "billing_requests.fulfilled",
                         "mandates.submitted", "mandates.active"]
        assert events[1]["links"]["mandate_request_mandate"] == mandate.id


@pytest.mark.parametrize(("scheme", "field", "value", "ending"), [
    ("bacs", "account_number", "55779911", "11"), ("ach", "account_number", "2715500356", "56")])
def test_each_scheme_prefills_its_own_sandbox_bank_details(
        gocardless_client: gocardless_pro.Client, scheme: str, field: str,
        value: str, ending: str) -> None:
    request_id, url = _flow(gocardless_client, scheme)
    assert f'name="{field}" value="{value}"' in httpx.get(url).text
    assert submit_hosted_page(url).status_code == 303
    request = gocardless_client.billing_requests.get(request_id)
    mandate = gocardless_client.mandates.get(request.links.mandate_request_mandate)
    account = gocardless_client.customer_bank_accounts.get(
        mandate.links.customer_bank_account)
    assert (mandate.scheme, account.account_number_ending) == (scheme, ending)


def test_a_fulfilled_flow_cannot_be_submitted_twice(
        gocardless_client: gocardless_pro.Client) -> None:
    _, url = _flow(gocardless_client)
    assert httpx.post(url, data={"iban": "FR1420041010050500013M02606"}).status_code == 303
    assert httpx.get(url).status_code == 410
    assert httpx.post(url, data={"iban": "FR1420041010050500013M02606"}).status_code == 422


def test_a_billing_request_needs_a_known_scheme(
        gocardless_client: gocardless_pro.Client) -> None:
    with pytest.raises(errors.ValidationFailedError):
        gocardless_client.billing_requests.create(params={"mandate_request": {"scheme": "becs"}})
