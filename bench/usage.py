"""Call-record ingestion through the API, and the renewal that rates them, on PostgreSQL.

    python bench/usage.py [--records 1000000] [--subscriptions 1000] [--batch 5000]
                          [--clients 4] [--compare 50000] [--postgres URL]

On a fresh PostgreSQL schema: `subscriptions` monthly subscriptions started 2026-03-01 (half
with a rate card of four prefixes), then `records` March calls sent to `POST /v1/usage` in
batches of `batch` by `clients` threads over loopback, to the API served by uvicorn in a
separate process (the bodies are built before the clock starts). Prints records/s, the
server's peak memory (VmHWM), then the renewal of every subscription on 2026-04-01 (each
invoice's minutes summed in SQL) and one `minutes_for` over all of them. `--compare N`
also times, in process, N records stored by COPY + INSERT … SELECT against multi-row INSERTs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from adapters.db.engine import create_engine, session_factory
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from bench.renewals import _drop, _fresh_schema
from domain.clock import ManualClock
from domain.usage import CallRecord, Direction
from tests.handlers.doubles import make_doubles
from workers.scheduler import renew_due

KEY = "bench-key"
MARCH = datetime(2026, 3, 1, tzinfo=UTC)
DESTINATIONS = ["+33145678901", "+33612345678", "+33712345678", "+12125550100",
                "+442071234567", "+4930123456"]

_SETUP = """
INSERT INTO accounts (id, name, language, currency, email, standing, method_type,
                      method_customer, method_ref, method_usable, method_details,
                      created_at, updated_at)
SELECT 'acc_' || n, 'Account ' || n, 'en', 'EUR', NULL, 'active', 'wire', NULL, NULL, true,
       '{}', now(), now() FROM generate_series(1, %(n)s) AS n;
INSERT INTO subscriptions (id, account_id, interval, currency, user_price_minor,
                           number_price_minor, minimum_users, minimum_numbers,
                           outbound_per_minute_minor, toll_free_per_minute_minor, started_on,
                           initial_users, initial_numbers, status, next_renewal_on,
                           billed_through, created_at, updated_at)
SELECT 'sub_' || n, 'acc_' || n, 'monthly', 'EUR', 3000, 500, 1, 1, 2, 3, DATE '2026-03-01',
       3, 1, 'active', DATE '2026-04-01', DATE '2026-03-01', now(), now()
FROM generate_series(1, %(n)s) AS n;
INSERT INTO rate_cards (subscription_id, currency, rounding, default_outbound_minor,
                        toll_free_minor, updated_at)
SELECT 'sub_' || n, 'EUR', CASE WHEN mod(n, 4) = 0 THEN 'per_second' ELSE 'per_started_minute' END,
       50, 8, now() FROM generate_series(1, %(n)s) AS n WHERE mod(n, 2) = 0;
INSERT INTO rate_card_destinations (subscription_id, prefix, label, per_minute_minor)
SELECT 'sub_' || n, p.prefix, p.label, p.rate FROM generate_series(1, %(n)s) AS n,
  (VALUES ('+33', 'France', 10), ('+336', 'France mobile', 20), ('+337', 'France mobile', 20),
          ('+1', 'North America', 5)) AS p(prefix, label, rate)
WHERE mod(n, 2) = 0;
ANALYZE;
"""


def bodies(records: int, subscriptions: int, batch: int) -> list[bytes]:
    rng = random.Random(42)
    out = []
    for start in range(0, records, batch):
        chunk = []
        for n in range(start, min(start + batch, records)):
            toll_free = rng.random() < 0.1
            chunk.append({
                "id": f"r{n}", "subscription": f"sub_{rng.randint(1, subscriptions)}",
                "number": "+33198765432",
                "direction": "inbound_toll_free" if toll_free else "outbound",
                "destination": "+33800123456" if toll_free else rng.choice(DESTINATIONS),
                "started_at": (MARCH + timedelta(seconds=rng.randrange(31 * 86400))).isoformat(),
                "duration_seconds": rng.randint(0, 1200)})
        out.append(json.dumps({"records": chunk}).encode())
    return out


def serve(url: str, port: int) -> None:
    """The server process: the /v1 API on `url` (PostgreSQL), on 127.0.0.1:`port`."""
    import uvicorn

    from workers.api.app import create_api
    from workers.config import Settings
    from workers.console_deps import build_console_deps

    settings = Settings(database_url=url, api_keys=(KEY,))
    console = build_console_deps(settings)
    uvicorn.run(create_api(console.deps, settings), host="127.0.0.1", port=port,
                log_level="warning")


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (load-independent, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest(url: str, args: argparse.Namespace) -> None:
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, __file__, "--serve", url, "--port", str(port)])
    try:
        base = f"http://127.0.0.1:{port}"  # the /v1 app alone (mounted at /v1 in `serve`)
        with httpx.Client(base_url=base, timeout=120) as probe:
            for _ in range(100):
                try:
                    probe.get("/openapi.json")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
        payloads = bodies(args.records, args.subscriptions, args.batch)
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        clients = [httpx.Client(base_url=base, timeout=300) for _ in range(args.clients)]

        def send(item: tuple[int, bytes]) -> int:
            response = clients[item[0] % len(clients)].post("/usage", content=item[1],
                                                             headers=headers)
            response.raise_for_status()
            return int(response.json()["new"])

        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            new = sum(pool.map(send, enumerate(payloads)))
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid) - cpu_before
        resent = send((0, payloads[0]))
        print(f"ingested {args.records:,} records ({new:,} new) in {elapsed:.1f} s: "
              f"{args.records / elapsed:,.0f} records/s; {args.clients} clients, batches "
              f"of {args.batch:,}; one batch resent: {resent} new")
        print(f"peak server memory (VmHWM): {peak_memory_mib(server.pid):.0f} MiB; server CPU "
              f"{server_cpu / args.records * 1e6:.1f} µs per record (one core alone would "
              f"carry {args.records / server_cpu:,.0f} records/s of the server's part)")
        for client in clients:
            client.close()
    finally:
        server.terminate()
        server.wait()


def renewal(url: str, subscriptions: int) -> None:
    engine = create_engine(url, pool_size=2)
    clock = ManualClock(datetime(2026, 4, 1, 6, tzinfo=UTC))
    factory = SqlUnitOfWorkFactory(session_factory(engine), clock=clock)
    ids = [f"sub_{n}" for n in range(1, subscriptions + 1)]
    with factory() as uow:
        started = time.perf_counter()
        sums = uow.call_records.minutes_for(subscription_ids=ids,
                                            before=datetime(2026, 4, 1, tzinfo=UTC))
        one_query = time.perf_counter() - started
    classes = sum(len(v) for v in sums.values())
    print(f"minutes_for({subscriptions:,} subscriptions): {one_query * 1000:.0f} ms, "
          f"{classes:,} (subscription, class) sums")
    doubles = make_doubles(uow_factory=factory, clock=clock)
    started = time.perf_counter()
    issued = renew_due(doubles.deps, as_of=date(2026, 4, 1), batch_size=200)
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        unbilled = connection.exec_driver_sql(
            "SELECT count(*) FROM call_records WHERE invoice_id IS NULL").scalar()
    print(f"renewal of {subscriptions:,} subscriptions rating their calls: {elapsed:.1f} s "
          f"({issued} invoices, {issued / elapsed:.0f}/s); calls left unbilled: {unbilled}")
    engine.dispose()


def compare(url: str, count: int, subscriptions: int) -> None:
    engine = create_engine(url, pool_size=2)
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    now = datetime.now(UTC)
    for name in ("copy", "inserts", "copy", "inserts"):
        records = [CallRecord(f"{name}-{uuid.uuid4()}", f"sub_{n % subscriptions + 1}", "+331",
                              Direction.OUTBOUND, "+33612345678", MARCH, 60)
                   for n in range(count)]
        started = time.perf_counter()
        for at in range(0, count, 5000):
            with factory() as uow:
                chunk = records[at:at + 5000]
                store = (uow.call_records.add_many if name == "copy"
                         else uow.call_records.add_many_as_inserts)
                store(records=chunk, rate_prefixes=[""] * len(chunk), received_at=now)
                uow.commit()
        elapsed = time.perf_counter() - started
        print(f"store {count:,} records, {name:>7}: {count / elapsed:,.0f} records/s")
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM call_records WHERE id LIKE 'copy-%%' "
                                   "OR id LIKE 'inserts-%%'")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--compare", type=int, default=50_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if args.records < 1 or args.batch < 1 or args.batch > 10_000 or args.subscriptions < 1:
        parser.error("--records, --subscriptions >= 1 and 1 <= --batch <= 10000")
    print(f"load: {os.getloadavg()[0]:.1f} (1-min load average, {os.cpu_count()} cores)")
    schema, url = _fresh_schema(args.postgres)
    try:
        engine = create_engine(url, pool_size=1)
        with engine.begin() as connection:
            for statement in _SETUP.replace("%(n)s", str(args.subscriptions)).split(";"):
                if statement.strip():
                    connection.exec_driver_sql(statement)
        engine.dispose()
        if args.compare:
            compare(url, args.compare, args.subscriptions)
        ingest(url, args)
        renewal(url, args.subscriptions)
    finally:
        _drop(args.postgres, schema)


if __name__ == "__main__":
    main()
