"""The provider pool's own cost per call: batches on worker threads running calls that only
wait (a provider's latency), so what the process spends is the hand-offs and wake-ups.

    python bench/pool_wakeups.py [--batches 8] [--window 8] [--latency 0.2,0]

Prints the CPU (user + system) per call and the calls per second at each latency, with
the pipeline's shape: 8 worker threads' batches of 50, 8 calls at once, a pool of 64
threads. Run it on two versions side by side to compare them.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workers.handlers.provider_pool import ProviderPool


def measure(*, latency: float, batches: int, window: int, rounds: int) -> tuple[float, float]:
    """(CPU microseconds per call, calls per second)."""
    pool = ProviderPool(batches * window)

    def call(n: int) -> int:
        if latency:
            time.sleep(latency)
        return n

    def batcher() -> None:
        for _ in range(rounds):
            pool.run(call, list(range(50)), window=window)

    threads = [threading.Thread(target=batcher) for _ in range(batches)]
    cpu, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    calls = batches * rounds * 50
    return cpu / calls * 1e6, calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=8, help="worker threads with a batch")
    parser.add_argument("--window", type=int, default=8, help="calls at once per batch")
    parser.add_argument("--latency", default="0.2,0.05,0",
                        help="comma-separated seconds each call waits")
    args = parser.parse_args()
    for latency in (float(x) for x in args.latency.split(",")):
        # About 2.5 s a latency, and at least 20 batches a thread when calls do not wait.
        rounds = max(2, int(2.5 / (latency * 50 / args.window))) if latency else 20
        per_call, rate = measure(latency=latency, batches=args.batches, window=args.window,
                                 rounds=rounds)
        print(f"latency {latency * 1000:5.0f} ms: {per_call:6.1f} µs CPU per call, "
              f"{rate:7.0f} calls/s ({args.batches} batches of 50, {args.window} at once)")


if __name__ == "__main__":
    main()
