"""The platform against its baselines, in one run on the same servers: `make bench` (`--quick`: five minutes).

Starts the local stack (embedded Kafka, MongoDB, SMTP) and, beside it, bare FastAPI routes doing the same database
work as the platform's routes and nothing else (benchmarks/bare_app.py). Then, interleaved so that a drift of the
machine hits both alike, it measures each subject and its baseline at each concurrency, and prints one table: the
figure, the baseline's, their ratio, and the machine's load average during the run. Figures, never assertions.

Measured: POST /v1/customers and POST …/items against a bare route inserting a record and an event in one
transaction; GET /v1/customers/{id} against a bare find_one; GET /v1/itineraries/{id} (30 items) against a bare
route reading the trip, its travellers and its bookings; notify draining a burst of customer.created events against
a raw aiokafka loop (benchmarks/raw_drain.py); the trip flow, open loop at each offered rate, against its floor (a
produce, a consume, an insert, an SMTP send); and every process's resident memory, idle and after the runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from history import grow as grow_history

from trip_shared import embedded
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.devstack import API_KEY_TENANT, EmbeddedStack, http_status


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


async def produce_customers_created(bootstrap: str, count: int) -> dict[int, tuple[int, int]]:
    """``count`` new customers' events, as the customers service would publish them; returns the offsets they got,
    per partition, as (first, last + 1). (Taken from the broker's answers: the embedded one reports a partition's
    end as the start of its last batch.)"""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    sent = []
    try:
        for number in range(count):
            tag = uuid.uuid4().hex[:12]
            event = CustomerCreated(tenant_id=API_KEY_TENANT, aggregate_id=tag, aggregate_version=1,
                                    producer="benchmark",
                                    data=CustomerSnapshot(customer_id=tag, first_name=f"Drain{number}",
                                                          last_name="Load", emails=[f"{tag}@drain.example"]))
            sent.append(await producer.send(CustomerCreated.TOPIC, event.model_dump_json().encode(),
                                            key=event.partition_key.encode()))
        ranges: dict[int, tuple[int, int]] = {}
        for metadata in await asyncio.gather(*sent):
            first, end = ranges.get(metadata.partition, (metadata.offset, metadata.offset + 1))
            ranges[metadata.partition] = (min(first, metadata.offset), max(end, metadata.offset + 1))
        return ranges
    finally:
        await producer.stop()


async def committed_total(reader: AIOKafkaConsumer, partitions: list[TopicPartition]) -> int:
    """The group's committed offsets, read without joining it (the embedded broker answers the admin client's
    offset fetch in a version aiokafka cannot decode)."""
    return sum([await reader.committed(partition) or 0 for partition in partitions])


async def drain_round(stack: EmbeddedStack, events: int) -> tuple[float, float]:
    """One burst of ``events`` customer.created events drained by notify's consumer, and by the raw loop; each
    as events per second from its first handled event to its last commit."""
    bootstrap = stack.kafka_bootstrap
    topic = CustomerCreated.TOPIC
    stack.stop_service("notify")
    ranges = await produce_customers_created(bootstrap, events)
    fetch_wait = stack.service_env("notify").get("KAFKA_FETCH_MAX_WAIT_MS", "500")
    raw = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("raw_drain.py")), bootstrap, topic,
        json.dumps({str(number): bounds for number, bounds in ranges.items()}), stack.mongodb_url, "bare", fetch_wait,
        stdout=asyncio.subprocess.PIPE)
    output, _ = await raw.communicate()
    baseline = json.loads(output)
    baseline_rate = baseline["events"] / baseline["seconds"]
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="notify", enable_auto_commit=False)
    await reader.start()
    partitions = [TopicPartition(topic, number) for number in ranges]
    try:
        start_total = await committed_total(reader, partitions)
        target = sum(end for _, end in ranges.values())
        await asyncio.to_thread(stack.start_service, "notify")
        first_seen = first_total = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            total = await committed_total(reader, partitions)
            if first_seen is None and total > start_total:
                first_seen, first_total = time.perf_counter(), total
            if total >= target:
                break
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError("notify did not drain the burst in 10 minutes")
        finished = time.perf_counter()
    finally:
        await reader.stop()
    return (target - first_total) / max(finished - first_seen, 1e-6), baseline_rate


class Mailbox:
    """When each address got its first mail: the moment the SMTP server accepted it (the file's time)."""

    def __init__(self, maildir: Path) -> None:
        self.new = maildir / "new"
        self.seen: set[str] = set()
        self.received: dict[str, float] = {}

    def scan(self) -> None:
        for entry in os.scandir(self.new) if self.new.exists() else ():
            if entry.name in self.seen:
                continue
            self.seen.add(entry.name)
            with open(entry.path, "rb") as mail:
                headers = BytesHeaderParser().parse(mail)
            for _, address in getaddresses(headers.get_all("To", [])):
                self.received.setdefault(address, entry.stat().st_mtime)


@dataclass
class FlowFigures:
    offered_per_s: float
    started: int
    delivered: int
    refused: int  # requests answered with an error (under overload: 503 past the request deadline)
    per_s: float
    p50_ms: float
    p99_ms: float
    request_p50_ms: float


async def open_loop(rate: float, seconds: float, start: Callable[[httpx.AsyncClient, int], object],
                    address: Callable[[int], str], mailbox: Mailbox, grace_s: float = 30.0) -> FlowFigures:
    """Start flow i at exactly i/rate seconds, whether or not the earlier ones finished (no coordinated
    omission: latency counts from when a flow was due, to its mail's acceptance by the SMTP server)."""
    count = max(1, int(rate * seconds))
    due: dict[str, float] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        began_wall = time.time()
        began = time.monotonic()
        requests = []
        for number in range(count):
            delay = began + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            due[address(number)] = began_wall + number / rate
            requests.append(asyncio.create_task(timed(start(client, number))))
        answers = await asyncio.gather(*requests, return_exceptions=True)
    failed = sum(1 for answer in answers if isinstance(answer, Exception) or answer[0].status_code >= 400)
    request_times = [answer[1] for answer in answers if not isinstance(answer, Exception)]
    request_p50 = 1000 * statistics.median(request_times) if request_times else float("nan")
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and not all(item in mailbox.received for item in due):
        mailbox.scan()
        await asyncio.sleep(0.01)
    mailbox.scan()
    latencies = sorted(max(0.0, mailbox.received[item] - at) for item, at in due.items() if item in mailbox.received)
    if not latencies:
        return FlowFigures(rate, count, 0, failed, 0.0, float("nan"), float("nan"), request_p50)
    last = max(mailbox.received[item] for item in due if item in mailbox.received)
    return FlowFigures(rate, count, len(latencies), failed, len(latencies) / max(last - began_wall, 1e-6),
                       1000 * statistics.median(latencies),
                       1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], request_p50)


async def timed(request) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


async def seed_flows(stack: EmbeddedStack, headers: dict, count: int, tag: str) -> list[tuple[str, str]]:
    """(itinerary id, customer id) pairs, each customer with an address of its own, known to the itinerary."""
    customers, itinerary = stack.service_url("customers"), stack.service_url("itinerary")
    trip = {"title": "Open loop", "start_date": "2027-05-01", "end_date": "2027-05-09"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        async def one(number: int) -> tuple[str, str]:
            customer = await client.post(f"{customers}/v1/customers", json={
                "first_name": f"Flow{number}", "last_name": f"{tag}n{number}", "email": f"{tag}-{number}@flow.example"})
            trip_id = (await client.post(f"{itinerary}/v1/itineraries", json=trip)).json()["id"]
            return trip_id, customer.json()["id"]

        pairs = []
        for first in range(0, count, 8):
            pairs += await asyncio.gather(*(one(number) for number in range(first, min(count, first + 8))))
    await asyncio.sleep(2)  # the itinerary service learns of the customers from their events
    return pairs


async def trip_flows(stack: EmbeddedStack, bare: str, rates: tuple[float, ...], seconds: float
                     ) -> list[tuple[FlowFigures, FlowFigures]]:
    """Each rate: the floor (produce, consume, insert, mail), then the platform (link a customer to a trip:
    the POC's e-mail), both open loop on the same servers."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    mailbox = Mailbox(stack.maildir)
    itinerary = stack.service_url("itinerary")
    results = []
    for round_number, rate in enumerate(rates):
        count = max(1, int(rate * seconds))
        tag = f"r{round_number}{uuid.uuid4().hex[:6]}"
        pairs = await seed_flows(stack, headers, count, tag)
        floor = await open_loop(
            rate, seconds, lambda client, n, tag=tag: client.post(f"{bare}/bare/flows",
                                                                   json={"email": f"floor-{tag}-{n}@flow.example"}),
            lambda n, tag=tag: f"floor-{tag}-{n}@flow.example", mailbox)
        platform = await open_loop(
            rate, seconds, lambda client, n, pairs=pairs: client.post(
                f"{itinerary}/v1/itineraries/{pairs[n][0]}/customers", json={"customer_id": pairs[n][1]},
                headers=headers),
            lambda n, tag=tag: f"{tag}-{n}@flow.example", mailbox)
        print(f"  trip flow {rate:g}/s: {platform.per_s:.1f}/s p99 {platform.p99_ms:.0f} ms vs floor "
              f"{floor.per_s:.1f}/s p99 {floor.p99_ms:.0f} ms", flush=True)
        results.append((platform, floor))
    return results


def start_baseline(stack: EmbeddedStack, log_dir: Path) -> tuple[embedded.ManagedProcess, str]:
    port = embedded.free_port()
    service_env = stack.service_env("notify")
    asyncio.run(embedded.ensure_topics(stack.kafka_bootstrap, ["bare.flows"], 4))
    env = {**os.environ, "MONGODB_URL": stack.mongodb_url, "MONGODB_DATABASE": "bare",
           "PYTHONPATH": str(Path(__file__).resolve().parent), "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
           "KAFKA_FETCH_MAX_WAIT_MS": service_env.get("KAFKA_FETCH_MAX_WAIT_MS", "500"),
           "SMTP_HOST": service_env["SMTP_HOST"], "SMTP_PORT": service_env["SMTP_PORT"]}
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
    parser.add_argument("--quick", action="store_true", help="about five minutes: shorter rounds, fewer of them")
    parser.add_argument("--seconds", type=float, default=None, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=None, help="baseline/subject pairs per figure (median kept)")
    parser.add_argument("--drain-events", type=int, default=2000, help="events in one drain burst")
    parser.add_argument("--flow-rates", type=float, nargs="+", default=[1, 5, 20, 50],
                        help="offered trip flows per second, open loop")
    parser.add_argument("--flow-seconds", type=float, default=None, help="how long each rate is offered")
    parser.add_argument("--history", type=int, nargs=2, metavar=("CUSTOMERS", "NOTIFICATIONS"), default=None,
                        help="then grow this much history and measure everything again "
                             "(default 50000 100000; with --quick, none unless given)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (1 if args.quick else 3)
    history = args.history or (None if args.quick else (50_000, 100_000))
    var_dir = Path(tempfile.mkdtemp(prefix="trip-desk-bench-"))
    print(f"starting the stack in {var_dir} …", flush=True)
    # Grown history does not fit SecantusDB's in-memory cache (WT_CACHE_FULL past about a million documents): the
    # database then keeps its data on disk, as `make up` does.
    with EmbeddedStack(var_dir, ephemeral=history is None) as stack:
        baseline, bare = start_baseline(stack, stack.log_dir)
        try:
            idle_memory = resident_memory(stack, baseline)
            fresh = measure(stack, bare, args, seconds, rounds)
            fresh_memory = resident_memory(stack, baseline)
            grown = None
            if history:
                customers, notifications = history
                print(f"growing history: {customers} customers, {notifications} notifications …", flush=True)
                started = time.monotonic()
                written = asyncio.run(grow_history(stack.mongodb_url, customers=customers,
                                                   notifications=notifications))
                print(f"  {sum(written.documents.values())} documents in {time.monotonic() - started:.0f} s",
                      flush=True)
                grown = measure(stack, bare, args, seconds, rounds)
                grown_memory = resident_memory(stack, baseline)
        finally:
            baseline.stop()
    print(f"\n== on a fresh stack ({rounds} round(s) of {seconds:g} s per figure, baseline and subject interleaved; "
          f"{os.cpu_count()} CPUs)")
    print_measurement(fresh, args.drain_events, rounds)
    print("\nresident memory (MiB): idle after start → after the runs" + (" → after history and the runs again"
                                                                         if grown else ""))
    for name, idle in idle_memory.items():
        after_history = f" → {grown_memory.get(name, float('nan')):>7.0f}" if grown else ""
        print(f"  {name:<10} {idle:>7.0f} → {fresh_memory.get(name, float('nan')):>7.0f}{after_history}")
    if grown:
        print(f"\n== after {history[0]} more customers and {history[1]} more notifications")
        print_measurement(grown, args.drain_events, rounds)
        print_growth(fresh, grown)
    return 0


@dataclass
class Measurement:
    requests: list[tuple]
    drain: tuple[float, float]  # platform events/s, raw loop events/s
    flows: list[tuple]


def measure(stack: EmbeddedStack, bare: str, args: argparse.Namespace, seconds: float, rounds: int) -> Measurement:
    requests = asyncio.run(run(stack, bare, seconds, rounds))
    drains = [asyncio.run(drain_round(stack, args.drain_events)) for _ in range(rounds)]
    flows = asyncio.run(trip_flows(stack, bare, tuple(args.flow_rates), args.flow_seconds or seconds * 2))
    return Measurement(requests, sorted(drains)[len(drains) // 2], flows)


def print_measurement(measurement: Measurement, drain_events: int, rounds: int) -> None:
    print_table(measurement.requests)
    drain, drain_baseline = measurement.drain
    print(f"\ndrain {drain_events} customer.created events: notify {drain:.0f} events/s, a raw aiokafka loop "
          f"(inbox + upsert per event, one transaction each) {drain_baseline:.0f}/s: ratio {drain / drain_baseline:.2f}"
          f" (median of {rounds})")
    print("\ntrip flow, open loop (link a customer to a trip → the POC's e-mail accepted by SMTP) against the floor "
          "(produce → consume → one insert → one SMTP send)")
    print(f"{'offered/s':>9} {'flows/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'req p50':>8} {'no mail':>7} "
          f"{'refused':>7}   {'floor/s':>8} {'p50 ms':>8} {'p99 ms':>8}   {'ratio':>5} {'p99 ×':>6}")
    for platform, floor in measurement.flows:
        print(f"{platform.offered_per_s:>9g} {platform.per_s:>8.1f} {platform.p50_ms:>8.0f} {platform.p99_ms:>8.0f} "
              f"{platform.request_p50_ms:>8.0f} {platform.started - platform.delivered:>7} {platform.refused:>7}   "
              f"{floor.per_s:>8.1f} {floor.p50_ms:>8.0f} {floor.p99_ms:>8.0f}   "
              f"{platform.per_s / max(floor.per_s, 1e-6):>5.2f} {platform.p99_ms / max(floor.p99_ms, 1e-6):>6.1f}")


def print_growth(fresh: Measurement, grown: Measurement) -> None:
    """Each figure's ratio to its baseline before and after the history: the baseline's servers grew alike, its
    own collections did not, so a falling ratio is the platform slowing down with its history."""
    print(f"\n{'figure':<40} {'fresh':>6} {'grown':>6} {'grown/fresh':>11}")
    rows = [(name, mine.requests_per_s / base.requests_per_s, later.requests_per_s / later_base.requests_per_s)
            for (name, _, mine, base, _), (_, _, later, later_base, _)
            in zip(fresh.requests, grown.requests, strict=True)]
    rows.append(("drain", fresh.drain[0] / fresh.drain[1], grown.drain[0] / grown.drain[1]))
    for (platform, floor), (grown_platform, grown_floor) in zip(fresh.flows, grown.flows, strict=True):
        rows.append((f"trip flow at {platform.offered_per_s:g}/s", platform.per_s / max(floor.per_s, 1e-6),
                     grown_platform.per_s / max(grown_floor.per_s, 1e-6)))
        rows.append((f"trip flow at {platform.offered_per_s:g}/s, p99 × floor", platform.p99_ms / floor.p99_ms,
                     grown_platform.p99_ms / grown_floor.p99_ms))
    for name, before, after in rows:
        print(f"{name:<40} {before:>6.2f} {after:>6.2f} {after / before:>11.2f}")


def resident_memory(stack: EmbeddedStack, baseline: embedded.ManagedProcess) -> dict[str, float]:
    """Each process's resident set, MiB, from /proc."""
    processes = {name: process.pid for name, process in stack.processes.items()}
    for name in ("kafka", "mongodb", "smtp"):
        if getattr(stack, name, None) is not None:
            processes[name] = getattr(stack, name).pid
    processes["baseline"] = baseline.pid
    memory = {}
    for name, pid in processes.items():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        memory[name] = kib / 1024
    return memory


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


def print_table(results: list[tuple]) -> None:
    print()
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
