"""Invoice numbers.

Numbers are sequential per issuer and year without gaps (most EU VAT rules ask for it): the
persistence layer hands out `sequence` inside the issuing transaction; this module only
formats it. Wire payment references (ISO 11649) live in domain/wire_reference.py.
"""

from __future__ import annotations


def invoice_number(*, prefix: str, year: int, sequence: int) -> str:
    """The printed invoice number.

    >>> invoice_number(prefix="PC", year=2026, sequence=42)
    'PC-2026-000042'
    """
    if sequence <= 0:
        raise ValueError("invoice sequences start at 1")
    return f"{prefix}-{year:04d}-{sequence:06d}"
