"""The simulated customer on a provider's hosted setup page: open it, keep what the form
prefills, choose the test card or the direct-debit behaviour, submit it over HTTP, as a browser
without JavaScript would. The page's answer (a redirect, or the page again with an error) is
not followed: the provider's webhooks tell the system what happened."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from domain.accounts import MethodType
from workers.handlers.deps import Deps
from workers.handlers.setups import start_setup
from workers.simulate.scenario import MethodSpec

#: Where the hosted page sends the simulated customer back (never opened).
RETURN_URL = "https://customer.example/payment-method/done"


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self.values[str(found["name"])] = found.get("value") or ""


def prefilled(page: str) -> dict[str, str]:
    """The form's input values as the page prefills them."""
    parser = _Inputs()
    parser.feed(page)
    return parser.values


def submit(url: str, **fields: str) -> httpx.Response:
    """Open the page and submit its form: prefilled values, overridden by `fields`."""
    page = httpx.get(url, timeout=10)
    page.raise_for_status()
    return httpx.post(url, data={**prefilled(page.text), **fields}, timeout=10,
                      follow_redirects=False)


def customer_completes_setup(deps: Deps, *, account_id: str, spec: MethodSpec) -> int:
    """Start the setup as the business would (`start_setup`), then complete its hosted page;
    returns the page's HTTP status (303 done, 402 a card refused at setup)."""
    started = start_setup(deps, account_id=account_id, method=MethodType(spec.type),
                          scheme=spec.scheme, return_url=RETURN_URL)
    if spec.type == MethodType.CARD.value:
        return submit(started.url, card=spec.card or "pm_card_visa").status_code
    return submit(started.url, behaviour=spec.behaviour or "pays").status_code
