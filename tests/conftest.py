"""Shared fixtures: real services, provider fixtures, fresh databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import services

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDER_FIXTURES = FIXTURES / "providers"


def load_provider_fixture(name: str) -> Any:
    """A third-party provider payload from tests/fixtures/providers (see its README)."""
    return json.loads((PROVIDER_FIXTURES / name).read_text())


@pytest.fixture
def postgres_url() -> str:
    services.require("postgres")
    return services.POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    services.require("redis")
    return services.REDIS_URL
