"""ISO 11649 structured creditor references ("RF" references) for bank wires.

A reference is `RF` + two check digits + a base of 1 to 21 letters and digits. The check is
ISO 7064 mod 97-10, as for IBANs: move the first four characters to the end, replace each
letter by two digits (A=10 … Z=35) and the number must leave 1 when divided by 97.
Banks keep the reference intact end to end, so an incoming transfer matches its invoice
without anybody reading free text.

>>> make_rf_reference("539007547034")
'RF18539007547034'
>>> format_rf_reference("RF18539007547034")
'RF18 5390 0754 7034'
"""

from __future__ import annotations

import string

#: The longest base the standard allows (25 characters in all, minus "RF" and the check).
MAX_BASE_LENGTH = 21

_ALPHANUMERIC = frozenset(string.ascii_uppercase + string.digits)


class InvalidReferenceBase(ValueError):
    """The base cannot become an RF reference (empty, too long, or not alphanumeric)."""


def _compact(text: str) -> str:
    # The printed form groups by four with spaces; the electronic form has none.
    return "".join(text.split()).upper()


def _mod97(text: str) -> int:
    digits = "".join(str(int(char, 36)) for char in text)
    return int(digits) % 97


def make_rf_reference(base: str) -> str:
    """The RF reference for `base` (spaces ignored, letters upper-cased).

    Raises:
        InvalidReferenceBase: `base` is empty, longer than 21 characters once compacted,
            or holds anything but ASCII letters and digits.
    """
    compact = _compact(base)
    if not compact or len(compact) > MAX_BASE_LENGTH or not set(compact) <= _ALPHANUMERIC:
        raise InvalidReferenceBase(
            f"an RF reference base is 1 to {MAX_BASE_LENGTH} letters or digits, got {base!r}")
    check = 98 - _mod97(compact + "RF00")
    return f"RF{check:02d}{compact}"


def is_valid_rf_reference(ref: object) -> bool:
    """True when `ref` is a well-formed RF reference whose check digits match.

    The printed form with spaces ("RF18 5390 0754 7034") and lower case are accepted.
    """
    if not isinstance(ref, str):
        return False
    compact = _compact(ref)
    if not 5 <= len(compact) <= 4 + MAX_BASE_LENGTH or not compact.startswith("RF"):
        return False
    if not compact[2:4].isdigit() or not set(compact) <= _ALPHANUMERIC:
        return False
    return _mod97(compact[4:] + compact[:4]) == 1


def format_rf_reference(ref: str) -> str:
    """The printed form: groups of four characters separated by spaces."""
    compact = _compact(ref)
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
