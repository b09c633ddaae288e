"""Serving the webhook app in the embedded mode, where the simulators deliver to it.

The simulators need the app's URL when they start, and the app needs the runtime built after
them: `LateApp` is served first and answers 503 until the real app is attached.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.responses import PlainTextResponse

from workers.config import Settings


@dataclass(frozen=True)
class WebhookDelivery:
    """Where and how the simulators post their signed webhooks."""

    url: str
    stripe_secret: str
    gocardless_secret: str
    #: Probability that an event is delivered twice; shuffle: deliver batches out of order.
    duplicate_rate: float = 0.0
    shuffle: bool = False


class LateApp:
    """An ASGI app whose target is set after the server started."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            await PlainTextResponse("starting", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def with_webhook_secrets(settings: Settings) -> Settings:
    """`settings` with a fresh secret for each provider that has none configured."""
    return dataclasses.replace(
        settings,
        stripe_webhook_secrets=settings.stripe_webhook_secrets
        or (f"whsec_{secrets.token_hex(16)}",),
        gocardless_webhook_secrets=settings.gocardless_webhook_secrets
        or (secrets.token_hex(16),))
