"""POST a signed event to a business endpoint (urllib: no connection reuse to keep right,
short timeouts, no retries here: the delivery rows carry the retries)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request

from domain.ports_events import SendResult


class HttpEventSender:
    """`domain.ports_events.EventSender` over HTTP(S)."""

    def send(self, *, url: str, body: bytes, headers: dict[str, str],
             timeout: float) -> SendResult:
        if not url.startswith(("http://", "https://")):
            return SendResult(ok=False, error=f"not an http(s) URL: {url!r}")
        request = urllib.request.Request(  # noqa: S310 (http/https only, checked above)
            url, data=body, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": "Paycollect-Webhooks/1",
                **headers})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as error:
            return SendResult(ok=False, status=error.code, error=f"HTTP {error.code}")
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError,
                OSError) as error:
            reason = getattr(error, "reason", error)
            return SendResult(ok=False, error=f"{type(error).__name__}: {reason}")
        ok = 200 <= status < 300
        return SendResult(ok=ok, status=status, error="" if ok else f"HTTP {status}")
