"""tests/services.py: a missing service skips its tests only outside CI; with CI=true it fails
them, so CI can never pass by skipping (`.ci/run` starts both services, then sets CI=true)."""

from __future__ import annotations

import pytest

from tests import services


@pytest.fixture
def nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_reachable", lambda host, port: False)


def test_in_ci_a_missing_service_fails_the_test_with_the_command_that_starts_it(
        nothing_listens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="redis-server --daemonize yes"):
        services.require("redis")


def test_outside_ci_a_missing_service_skips_the_test_saying_how_to_start_it(
        nothing_listens: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="pg_ctlcluster"):
        services.require("postgres")


def test_a_running_service_neither_skips_nor_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_reachable", lambda host, port: True)
    monkeypatch.setenv("CI", "true")
    services.require("postgres")
