"""`paycollect simulators`: serve the Stripe and GoCardless simulators on loopback, for the
distributed mode on one machine (benchmarks, fault tests, a laptop with Redis)."""

from __future__ import annotations

import signal
import threading

import typer

from adapters.simulators.gocardless.faults import FaultConfig as GoCardlessFaults
from adapters.simulators.gocardless.simulator import GoCardlessSimulator
from adapters.simulators.gocardless.simulator import SimulatorConfig as GoCardlessConfig
from adapters.simulators.server import serve_in_thread
from adapters.simulators.stripe import FaultConfig as StripeFaults
from adapters.simulators.stripe import SimulatorConfig as StripeConfig
from adapters.simulators.stripe import StripeSimulator, create_app


def _rate(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise typer.BadParameter(f"{name} must be between 0 and 1, got {value}")
    return value


def simulators(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)"),
    stripe_port: int = typer.Option(12111, min=1, max=65535),
    gocardless_port: int = typer.Option(12112, min=1, max=65535),
    latency_ms: float = typer.Option(0.0, min=0.0, help="Added to every API response"),
    error_rate: float = typer.Option(0.0, help="Share of requests answered 500"),
    timeout_rate: float = typer.Option(0.0, help="Share of requests that stall past timeouts"),
    drop_rate: float = typer.Option(0.0, help="Share committed, then the connection dropped"),
    stall_seconds: float = typer.Option(3.0, min=0.0, help="How long a timeout stalls"),
    seconds_per_day: float = typer.Option(1.0, min=0.001,
                                          help="Direct-debit timelines: one day lasts this"),
    seed: int = typer.Option(0),
) -> None:
    """Serve both provider simulators until interrupted."""
    for value, name in ((error_rate, "--error-rate"), (timeout_rate, "--timeout-rate"),
                        (drop_rate, "--drop-rate")):
        _rate(value, name)
    stripe_sim = StripeSimulator(StripeConfig(faults=StripeFaults(
        latency_ms=latency_ms, error_rate=error_rate, timeout_rate=timeout_rate,
        timeout_stall_seconds=stall_seconds, drop_rate=drop_rate, seed=seed)))
    stripe_server = serve_in_thread(create_app(simulator=stripe_sim), host=host,
                                    port=stripe_port)
    gocardless_sim = GoCardlessSimulator(GoCardlessConfig(
        seconds_per_day=seconds_per_day,
        faults=GoCardlessFaults(latency_ms=int(latency_ms), error_rate=error_rate,
                                timeout_rate=timeout_rate, hang_seconds=stall_seconds,
                                drop_rate=drop_rate, seed=seed)))
    gocardless_sim.start(host=host, port=gocardless_port)
    typer.echo(f"stripe simulator:     {stripe_server.url}   (STRIPE_API_BASE)")
    typer.echo(f"gocardless simulator: {gocardless_sim.url}   (GOCARDLESS_BASE_URL)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stripe_server.stop()
        gocardless_sim.stop()
