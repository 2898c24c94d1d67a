"""The platform against its baselines, in one run on the same servers: `make bench` (`BENCH_ARGS=--quick`: a minute).

Starts the local stack (embedded Kafka, MongoDB, SMTP) and, beside it, bare FastAPI routes doing the same database
work as the platform's routes and nothing else (benchmarks/bare_app.py). Then, interleaved so that a drift of the
machine hits both alike, it measures each subject and its baseline at each concurrency, and prints one table: the
figure, the baseline's, their ratio, and the machine's load average during the run. Figures, never assertions.

Measured: POST /v1/customers and POST …/items against a bare route inserting a record and an event in one
transaction; GET /v1/customers/{id} against a bare find_one; GET /v1/itineraries/{id} (30 items) against a bare
route reading the trip, its travellers and its bookings.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from trip_shared import embedded
from trip_shared.devstack import EmbeddedStack, http_status


@dataclass
class Figures:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


async def load(url: str, *, method: str, concurrency: int, seconds: float, headers: dict,
               body: Callable[[], dict] | None = None, paths: Callable[[], str] | None = None) -> Figures:
    """``concurrency`` clients, each sending its next request when the last is answered, for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                target = url + (paths() if paths else "")
                started = time.perf_counter()
                response = await client.request(method, target, json=body() if body else None)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    errors += 1

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return Figures(len(latencies) / elapsed, 1000 * statistics.median(ordered),
                   1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], errors)


def new_customer() -> dict:
    tag = uuid.uuid4().hex[:10]
    return {"first_name": f"Bench{tag}", "last_name": f"Load{tag}", "email": f"{tag}@bench.example"}


async def seed(url: str, headers: dict, count: int) -> list[str]:
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        ids = []
        for _ in range(count):
            response = await client.post(url, json=new_customer())
            response.raise_for_status()
            ids.append(response.json().get("id") or response.json().get("_id"))
        return ids


_item_counter = [0]


def new_item() -> dict:
    """An activity on one of the trip's 300 days, an hour long, in its own zone."""
    _item_counter[0] += 1
    day = 1 + _item_counter[0] % 28
    month = 1 + (_item_counter[0] // 28) % 12
    return {"kind": "activity", "title": f"Visit {_item_counter[0]}", "timezone": "Asia/Tokyo",
            "start": f"2027-{month:02d}-{day:02d}T{9 + _item_counter[0] % 8:02d}:00",
            "end": f"2027-{month:02d}-{day:02d}T{10 + _item_counter[0] % 8:02d}:00"}


async def seed_trips(itinerary: str, bare: str, headers: dict, count: int) -> dict[str, list[str]]:
    trip = {"title": "Benchmark trip", "start_date": "2027-01-01", "end_date": "2027-12-31"}
    async with httpx.AsyncClient(timeout=30) as client:
        platform = [(await client.post(f"{itinerary}/v1/itineraries", json=trip, headers=headers)).json()["id"]
                    for _ in range(count)]
        bare_ids = [(await client.post(f"{bare}/bare/trips", json=trip)).json()["_id"] for _ in range(count)]
    return {"platform": platform, "bare": bare_ids}


async def trip_with_items(itinerary: str, bare: str, headers: dict, items: int) -> dict[str, str]:
    trip = {"title": "Thirty items", "start_date": "2027-01-01", "end_date": "2027-12-31"}
    async with httpx.AsyncClient(timeout=30) as client:
        trip_id = (await client.post(f"{itinerary}/v1/itineraries", json=trip, headers=headers)).json()["id"]
        for _ in range(items):
            (await client.post(f"{itinerary}/v1/itineraries/{trip_id}/items", json=new_item(),
                               headers=headers)).raise_for_status()
        bare_id = (await client.post(f"{bare}/bare/trips", json={**trip, "items": [new_item()
                                                                                   for _ in range(items)]})).json()
    return {"platform": trip_id, "bare": bare_id["_id"]}


def start_baseline(stack: EmbeddedStack, log_dir: Path) -> tuple[embedded.ManagedProcess, str]:
    port = embedded.free_port()
    env = {**os.environ, "MONGODB_URL": stack.mongodb_url, "MONGODB_DATABASE": "bare",
           "PYTHONPATH": str(Path(__file__).resolve().parent)}
    process = embedded.start_process("bare", [sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1",
                                              "--port", str(port), "--log-level", "warning"], log_dir, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while http_status(base + "/bare/records") != 200:
        if time.monotonic() > deadline or not process.alive:
            raise RuntimeError(f"the baseline app did not start; see {process.log_path}")
        time.sleep(0.2)
    return process, base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a minute: shorter rounds, fewer of them")
    parser.add_argument("--seconds", type=float, default=None, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=None, help="baseline/subject pairs per figure (median kept)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (1 if args.quick else 3)
    var_dir = Path(tempfile.mkdtemp(prefix="trip-desk-bench-"))
    print(f"starting the stack in {var_dir} …", flush=True)
    with EmbeddedStack(var_dir, ephemeral=True) as stack:
        baseline, bare = start_baseline(stack, stack.log_dir)
        try:
            results = asyncio.run(run(stack, bare, seconds, rounds))
        finally:
            baseline.stop()
    print_table(results, seconds, rounds)
    return 0


async def run(stack: EmbeddedStack, bare: str, seconds: float, rounds: int) -> list[tuple]:
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    customers = stack.service_url("customers")
    customer_ids = await seed(f"{customers}/v1/customers", headers, 200)
    record_ids = await seed(f"{bare}/bare/two-inserts", {}, 200)
    cases = []
    for concurrency in (1, 8):
        cases.append((f"POST /v1/customers c={concurrency}", "bare two-insert transaction",
                      dict(url=f"{customers}/v1/customers", method="POST", concurrency=concurrency, headers=headers,
                           body=new_customer),
                      dict(url=f"{bare}/bare/two-inserts", method="POST", concurrency=concurrency, headers={},
                           body=new_customer)))
    for concurrency in (1, 8, 32):
        cases.append((f"GET /v1/customers/{{id}} c={concurrency}", "bare find_one",
                      dict(url=f"{customers}/v1/customers/", method="GET", concurrency=concurrency, headers=headers,
                           paths=lambda: _pick(customer_ids)),
                      dict(url=f"{bare}/bare/records/", method="GET", concurrency=concurrency, headers={},
                           paths=lambda: _pick(record_ids))))
    itinerary = stack.service_url("itinerary")
    trips = await seed_trips(itinerary, bare, headers, count=20)
    for concurrency in (1, 8):
        cases.append((f"POST …/items c={concurrency}", "bare two-insert transaction",
                      dict(url=f"{itinerary}/v1/itineraries/", method="POST", concurrency=concurrency,
                           headers=headers, paths=lambda: f"{_pick(trips['platform'])}/items", body=new_item),
                      dict(url=f"{bare}/bare/two-inserts", method="POST", concurrency=concurrency, headers={},
                           body=new_item)))
    full_trip = await trip_with_items(itinerary, bare, headers, items=30)
    for concurrency in (1, 8, 32):
        cases.append((f"GET /v1/itineraries/{{id}} c={concurrency}", "bare trip + travellers + bookings",
                      dict(url=f"{itinerary}/v1/itineraries/{full_trip['platform']}", method="GET",
                           concurrency=concurrency, headers=headers),
                      dict(url=f"{bare}/bare/trips/{full_trip['bare']}", method="GET", concurrency=concurrency,
                           headers={})))
    results = []
    for name, baseline_name, subject, baseline in cases:
        pairs = []
        load_before = os.getloadavg()[0]
        for _ in range(rounds):
            base = await load(seconds=seconds, **baseline)
            mine = await load(seconds=seconds, **subject)
            pairs.append((mine, base))
        mine = _median(pair[0] for pair in pairs)
        base = _median(pair[1] for pair in pairs)
        results.append((name, baseline_name, mine, base, (load_before + os.getloadavg()[0]) / 2))
        print(f"  {name}: {mine.requests_per_s:.0f}/s vs {base.requests_per_s:.0f}/s", flush=True)
    return results


_rng_state = [0]


def _pick(ids: list[str]) -> str:
    _rng_state[0] = (_rng_state[0] + 7919) % len(ids)
    return ids[_rng_state[0]]


def _median(figures) -> Figures:
    figures = list(figures)
    return sorted(figures, key=lambda f: f.requests_per_s)[len(figures) // 2]


def print_table(results: list[tuple], seconds: float, rounds: int) -> None:
    print(f"\n{rounds} round(s) of {seconds:g} s per figure, baseline and subject interleaved; "
          f"{os.cpu_count()} CPUs\n")
    header = (f"{'figure':<32} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}   {'baseline':<28} {'req/s':>7} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} {'load':>5} {'errors':>6}")
    print(header)
    print("-" * len(header))
    for name, baseline_name, mine, base, load_average in results:
        print(f"{name:<32} {mine.requests_per_s:>7.0f} {mine.p50_ms:>7.1f} {mine.p99_ms:>7.1f}   "
              f"{baseline_name:<28} {base.requests_per_s:>7.0f} {base.p50_ms:>7.1f} {base.p99_ms:>7.1f} "
              f"{mine.requests_per_s / base.requests_per_s:>6.2f} {load_average:>5.1f} {mine.errors + base.errors:>6}")


if __name__ == "__main__":
    sys.exit(main())
