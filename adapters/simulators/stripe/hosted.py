"""The hosted Checkout page (setup mode): plain HTML, a form that works without JavaScript.

GET /checkout/{id} shows the card form, prefilled with Stripe's visa test number; POST
submits it. The card is chosen by its test number (`card_number`, as a customer types it) or
by a test PaymentMethod id (`card`, e.g. `pm_card_chargeCustomerFail`), which is how tests and
scenarios pick what the stored card will do. Success redirects (303) to `success_url`.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from adapters.simulators.stripe import cards, forms, setups
from adapters.simulators.stripe.objects import ApiError
from adapters.simulators.stripe.simulator import StripeSimulator

#: A test card number (as typed) → the test PaymentMethod with that behaviour (by last 4).
_BY_LAST4 = {card.number_last4: magic for magic, card in cards.TEST_CARDS.items()}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set up a card</title></head>
<body><main>
<h1>Save a card for future payments</h1>
<p>Simulated Stripe Checkout (setup mode) for customer {customer}.</p>
{error}
<form method="post" action="/checkout/{id}">
<label>Card number <input name="card_number" value="4242 4242 4242 4242"
  autocomplete="cc-number" inputmode="numeric" data-testid="card-number"></label>
<label>Expiry <input name="expiry" value="12 / 34" data-testid="card-expiry"></label>
<label>CVC <input name="cvc" value="123" data-testid="card-cvc"></label>
<label>Name on card <input name="name" value="Test Customer"></label>
<label>Or a test card <select name="card" data-testid="test-card">
<option value="">(use the number above)</option>
{options}
</select></label>
<button type="submit" data-testid="complete-setup">Complete setup</button>
</form>
{cancel}
</main></body></html>
"""


def magic_card(*, card: str, card_number: str) -> str:
    """The test PaymentMethod a submission names: `card` if given, else the number's."""
    if card:
        return card
    digits = "".join(ch for ch in card_number if ch.isdigit())
    return _BY_LAST4.get(digits[-4:], "pm_card_visa")


def _render(session: dict[str, object], *, error: str = "", status: int = 200) -> Response:
    options = "\n".join(f'<option value="{html.escape(m)}">{html.escape(m)}</option>'
                        for m in cards.TEST_CARDS)
    cancel = session.get("cancel_url")
    return HTMLResponse(_PAGE.format(
        id=html.escape(str(session["id"])), customer=html.escape(str(session["customer"])),
        options=options,
        error=f'<p role="alert" data-testid="setup-error">{html.escape(error)}</p>'
        if error else "",
        cancel=f'<p><a href="{html.escape(str(cancel))}">Cancel</a></p>' if cancel else ""),
        status_code=status)


async def _page(request: Request) -> Response:
    sim: StripeSimulator = request.app.state.simulator
    session = sim.store.table("checkout_sessions").get(str(request.path_params["id"]))
    if session is None:
        return HTMLResponse("<p>No such Checkout Session.</p>", status_code=404)
    if session["status"] != "open":
        return HTMLResponse(f"<p>This Checkout Session is {session['status']}.</p>",
                            status_code=410)
    return _render(session)


async def _submit(request: Request) -> Response:
    sim: StripeSimulator = request.app.state.simulator
    id = str(request.path_params["id"])
    session = sim.store.table("checkout_sessions").get(id)
    if session is None:
        return HTMLResponse("<p>No such Checkout Session.</p>", status_code=404)
    fields = dict(forms.parse_pairs(await request.body()))
    chosen = magic_card(card=fields.get("card", ""), card_number=fields.get("card_number", ""))
    try:
        completed = setups.complete_session(sim.store, id, chosen)
    except ApiError as exc:
        return _render(session, error=str(exc.body["error"].get("message", "")),
                       status=exc.status)
    target = str(completed["success_url"]).replace("{CHECKOUT_SESSION_ID}", id)
    return RedirectResponse(target, status_code=303)


ROUTES = [Route("/checkout/{id}", _page, methods=["GET"]),
          Route("/checkout/{id}", _submit, methods=["POST"])]
