"""Browser fixtures: one chromium per test module (fresh profile), one page per test.

Not per session: Playwright's sync API keeps an event loop running on the main thread while
it is started, and later tests that run their own loop there (localstripe) would fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.browser.chromium import LAUNCH_ARGS, require_chromium

#: Bounded waits: the page answers in milliseconds, but a loaded CI machine may be slow;
#: a stuck browser still fails the test.
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    executable = require_chromium()
    profile: Path = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(executable), args=LAUNCH_ARGS, headless=True)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()
