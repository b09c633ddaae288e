"""The Billing Request Flow's hosted page: plain HTML, a form that works without JavaScript.

GET /flows/{id} shows the bank-details form prefilled with GoCardless sandbox details for the
request's currency; POST fulfils the request (billing_requests.fulfil) and redirects (303) to
the flow's `redirect_uri`. `behaviour` picks what the mandate's payments will do.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from adapters.simulators.gocardless import billing_requests, errors
from adapters.simulators.gocardless.behaviours import Behaviour

if TYPE_CHECKING:
    from adapters.simulators.gocardless.simulator import GoCardlessSimulator

#: Sandbox bank details per currency, as the payer would type them (field → value).
PREFILLED: dict[str, dict[str, str]] = {
    "EUR": {"iban": "FR1420041010050500013M02606"},
    "GBP": {"account_number": "55779911", "branch_code": "200000"},
    "USD": {"account_number": "2715500356", "bank_code": "026073150",
            "account_type": "checking"},
}
_COUNTRY = {"GBP": "GB", "USD": "US"}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set up a Direct Debit</title></head>
<body><main>
<h1>Set up a Direct Debit ({scheme})</h1>
{error}
<form method="post" action="/flows/{id}">
<label>Account holder <input name="account_holder_name" value="{holder}"
  data-testid="account-holder"></label>
{fields}
<label>Simulated behaviour <select name="behaviour" data-testid="behaviour">{options}</select>
</label>
<button type="submit" data-testid="complete-setup">Complete setup</button>
</form>
{exit}
</main></body></html>
"""


def _render(flow: dict[str, object], request: dict[str, object], *, error: str = "",
            status: int = 200) -> Response:
    wanted = request["mandate_request"]
    assert isinstance(wanted, dict)
    prefilled = flow.get("prefilled_customer") or {}
    holder = (prefilled.get("company_name") if isinstance(prefilled, dict) else None
              ) or "Test Payer"
    fields = "\n".join(
        f'<label>{html.escape(name)} <input name="{html.escape(name)}" '
        f'value="{html.escape(value)}" data-testid="{html.escape(name)}"></label>'
        for name, value in PREFILLED[str(wanted["currency"])].items())
    options = "".join(f'<option value="{b.value}">{b.value}</option>' for b in Behaviour)
    exit_uri = flow.get("exit_uri")
    return HTMLResponse(_PAGE.format(
        id=html.escape(str(flow["id"])), scheme=html.escape(str(wanted["scheme"])),
        holder=html.escape(str(holder)), fields=fields, options=options,
        error=f'<p role="alert" data-testid="setup-error">{html.escape(error)}</p>'
        if error else "",
        exit=f'<p><a href="{html.escape(str(exit_uri))}">Cancel</a></p>' if exit_uri else ""),
        status_code=status)


def routes(sim: GoCardlessSimulator) -> list[Route]:
    store = sim.store

    def load(request: Request) -> tuple[dict[str, object], dict[str, object]] | Response:
        try:
            return billing_requests.flow_and_request(store, str(request.path_params["id"]))
        except errors.SimError:
            return HTMLResponse("<p>No such flow.</p>", status_code=404)

    async def page(request: Request) -> Response:
        sim.tick()
        found = load(request)
        if isinstance(found, Response):
            return found
        flow, billing_request = found
        if billing_request["status"] != "pending":
            return HTMLResponse(f"<p>This request is {billing_request['status']}.</p>",
                                status_code=410)
        return _render(flow, billing_request)

    async def submit(request: Request) -> Response:
        sim.tick()
        found = load(request)
        if isinstance(found, Response):
            return found
        flow, billing_request = found
        fields = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        wanted = billing_request["mandate_request"]
        assert isinstance(wanted, dict)
        currency = str(wanted["currency"])
        bank = {k: fields[k] for k in PREFILLED[currency] if fields.get(k)}
        bank["account_holder_name"] = fields.get("account_holder_name") or "Test Payer"
        iban = bank.get("iban", "").replace(" ", "")
        if iban:
            bank["iban"] = iban
        bank["country_code"] = iban[:2].upper() if iban else _COUNTRY.get(currency, "")
        try:
            billing_requests.fulfil(store, str(flow["id"]), bank, fields.get("behaviour", ""))
        except errors.SimError as exc:
            return _render(flow, billing_request, error=exc.message, status=exc.status)
        return RedirectResponse(str(flow.get("redirect_uri") or "/"), status_code=303)

    return [Route("/flows/{id}", page, methods=["GET"]),
            Route("/flows/{id}", submit, methods=["POST"])]
