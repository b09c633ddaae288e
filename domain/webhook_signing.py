"""Signing outgoing webhooks the way Stripe signs its own.

Header `Paycollect-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
A receiver recomputes the HMAC over the raw body, compares in constant time, and refuses a
timestamp more than `TOLERANCE_SECONDS` away from its clock (a replayed old request). During a
secret rotation several `v1=` may be present: any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Paycollect-Signature"
EVENT_ID_HEADER = "Paycollect-Event-Id"
#: How far a signature's timestamp may be from the receiver's clock.
TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def signature(secret: str, *, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_header(secrets: list[str] | tuple[str, ...], *, timestamp: int, body: bytes) -> str:
    """The header value: one `v1=` per secret (two while a secret is being rotated)."""
    parts = [f"t={timestamp}"] + [f"v1={signature(s, timestamp=timestamp, body=body)}"
                                  for s in secrets]
    return ",".join(parts)


def verify(header: str, *, secret: str, body: bytes, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check `header` against `body`; returns its timestamp.

    Raises:
        SignatureError: no timestamp, no v1, timestamp outside the tolerance, or no v1 equal
            (constant-time) to the expected signature.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    expected = signature(secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("no signature matches")
    return timestamp
