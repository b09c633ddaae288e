"""A Stripe API simulator the official SDK talks to over HTTP (see app.py for the admin API)."""

from adapters.simulators.stripe.app import create_app
from adapters.simulators.stripe.faults import FaultConfig
from adapters.simulators.stripe.simulator import SimulatorConfig, StripeSimulator
from adapters.simulators.stripe.webhooks import WebhookConfig, sign

__all__ = ["FaultConfig", "SimulatorConfig", "StripeSimulator", "WebhookConfig", "create_app",
           "sign"]
