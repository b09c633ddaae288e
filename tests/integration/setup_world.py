"""The embedded system (webhook app, /v1 API, simulators) for payment-method setup tests, and
the customer's side of a hosted page: a plain HTML form submitted over HTTP, as a browser
without JavaScript would."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from tests.integration.webhook_world import World, running_world

API_KEY = "pk_setups_test_key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from running_world(database_url, api_keys=(API_KEY,))


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


def submit_hosted_page(url: str, **fields: str) -> httpx.Response:
    """Open the hosted page, check it is a form with the complete button, and submit it with
    its prefilled values (overridden by `fields`); the answer is not followed."""
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200, page.text
    assert 'data-testid="complete-setup"' in page.text
    assert "Complete setup" in page.text
    assert '<form method="post"' in page.text
    return httpx.post(url, data={**prefilled(page.text), **fields}, timeout=10,
                      follow_redirects=False)
