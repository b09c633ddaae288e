"""tests/browser/chromium.py: a missing chromium skips the browser tests only outside CI;
with CI=true it fails them (`.ci/run` installs Debian's chromium first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import require_chromium

NOWHERE = Path("/nonexistent/chromium")


def test_outside_ci_a_missing_browser_skips_with_the_command_that_installs_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception,
                       match="install it with: apt-get install -y chromium chromium-driver"):
        require_chromium(NOWHERE)


def test_in_ci_a_missing_browser_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        require_chromium(NOWHERE)


def test_an_installed_browser_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    executable = tmp_path / "chromium"
    executable.touch()
    assert require_chromium(executable) == executable
