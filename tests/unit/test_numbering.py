"""Invoice numbers."""

from __future__ import annotations

import pytest

from domain.numbering import invoice_number


def test_an_invoice_number_shows_the_prefix_the_year_and_a_padded_sequence() -> None:
    assert invoice_number(prefix="PC", year=2026, sequence=42) == "PC-2026-000042"


def test_an_invoice_sequence_starts_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        invoice_number(prefix="PC", year=2026, sequence=0)
