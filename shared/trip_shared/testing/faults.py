"""The fault drill: many trip flows while services, the broker and the database are killed at random.

    .venv/bin/python -m trip_shared.testing.faults                       # 120 flows, a fault every ~4 s
    .venv/bin/python -m trip_shared.testing.faults --flows 400 --fault-every 2 --seed 7

Starts a fresh local stack (MongoDB on disk, so killing it loses nothing it acknowledged), then runs trip flows
(create a customer, create a trip, link the customer: the POC gets one e-mail) from a few client threads, as an
internal platform would: each request with an ``Idempotency-Key``, retried on a 5xx, a timeout or a refused
connection. Meanwhile it SIGKILLs a random service (and starts it again), restarts the broker empty, or SIGKILLs
and restarts the database. When the flows are done and the faults stop, it waits for the platform to settle and
counts, per expected e-mail: delivered once, lost (never arrived), duplicated (arrived twice or more), and stuck
(a notification not sent). Prints the figures; exits 1 if anything was lost, duplicated or stuck.
"""
from __future__ import annotations

import argparse
import mailbox
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from trip_shared.devstack import EmbeddedStack


@dataclass
class Tally:
    flows_done: int = 0
    flows_given_up: int = 0
    requests: int = 0
    retries: int = 0
    faults: Counter = field(default_factory=Counter)
    given_up: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


class Client:
    """One client thread: retries what failed for the platform's reasons, with the same Idempotency-Key."""

    def __init__(self, stack: EmbeddedStack, tally: Tally, patience_s: float) -> None:
        self.stack, self.tally, self.patience_s = stack, tally, patience_s
        self.http = httpx.Client(timeout=15, headers={"Authorization": f"Bearer {stack.api_key}"})

    def post(self, service: str, path: str, body: dict) -> dict | None:
        key = uuid.uuid4().hex
        deadline = time.monotonic() + self.patience_s
        first = True
        last = "no answer"
        while time.monotonic() < deadline:
            if not first:
                self.tally.add(retries=1)
                time.sleep(0.5)
            first = False
            self.tally.add(requests=1)
            try:
                response = self.http.post(self.stack.service_url(service) + path, json=body,
                                          headers={"Idempotency-Key": key})
            except httpx.HTTPError as error:  # the service is down, or restarting
                last = type(error).__name__
                continue
            if response.status_code in (200, 201):
                return response.json()
            if response.status_code in (404, 409, 429) or response.status_code >= 500:
                # not known yet (events on their way), in progress, or the platform's trouble
                problem = response.headers.get("content-type", "").startswith("application/problem")
                last = f"{response.status_code} {response.json().get('code') if problem else ''}"
                continue
            raise AssertionError(f"POST {path}: {response.status_code} {response.text}")
        with self.tally.lock:
            self.tally.given_up.append(f"POST {service} {path.split('/')[2]}…: last {last}")
        return None

    def trip_flow(self, n: int) -> str | None:
        email = f"drill{n}-{uuid.uuid4().hex[:6]}@example.com"
        customer = self.post("customers", "/v1/customers", {"first_name": f"Drill{n}", "email": email})
        trip = customer and self.post("itinerary", "/v1/itineraries", {"title": f"Drill trip {n}"})
        link = trip and self.post("itinerary", f"/v1/itineraries/{trip['id']}/customers",
                                  {"customer_id": customer["id"]})
        if not link:
            self.tally.add(flows_given_up=1)
            return None
        self.tally.add(flows_done=1)
        return email


def inflict_faults(stack: EmbeddedStack, tally: Tally, stop: threading.Event, every_s: float,
                   rng: random.Random) -> None:
    targets = [*stack.services, "kafka", "mongodb"]
    while not stop.wait(rng.uniform(0.5 * every_s, 1.5 * every_s)):
        target = rng.choice(targets)
        try:
            if target == "kafka":
                stack.restart_kafka()
            elif target == "mongodb":
                stack.restart_mongodb(down_s=rng.uniform(0.2, 2.0))
            else:
                stack.stop_service(target, kill=True)
                time.sleep(rng.uniform(0.1, 1.5))
                stack.start_service(target, timeout=120)
            with tally.lock:
                tally.faults[target] += 1
        except Exception as problem:  # a fault that could not be undone is itself a finding
            print(f"  could not recover from killing {target}: {problem}", file=sys.stderr, flush=True)
            raise


def delivered(stack: EmbeddedStack) -> Counter:
    return Counter(str(message["To"]) for message in mailbox.Maildir(stack.maildir, create=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trip_shared.testing.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=120)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fault-every", type=float, default=4.0, help="seconds between faults, on average")
    parser.add_argument("--settle", type=float, default=180.0, help="seconds to wait for the platform to catch up")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tally = Tally()
    started = time.monotonic()
    with EmbeddedStack(tempfile.mkdtemp(prefix="trip-desk-faults-"), extra_env={"KAFKA_WATCH_INTERVAL_S": "1"},
                       log=lambda line: None) as stack:
        print(f"stack up in {stack.var_dir}; {args.flows} flows, a fault every ~{args.fault_every:g} s", flush=True)
        stop = threading.Event()
        chaos = threading.Thread(target=inflict_faults, args=(stack, tally, stop, args.fault_every, rng),
                                 daemon=True)
        chaos.start()
        clients = [Client(stack, tally, patience_s=180) for _ in range(args.clients)]
        with ThreadPoolExecutor(args.clients) as pool:
            emails = [email for email in pool.map(lambda n: clients[n % len(clients)].trip_flow(n),
                                                  range(args.flows)) if email]
        stop.set()
        chaos.join(timeout=180)
        flows_s = time.monotonic() - started
        for name in stack.services:  # bring back whatever the last fault left down
            if not stack.service_alive(name):
                stack.start_service(name, timeout=120)
        deadline = time.monotonic() + args.settle
        while time.monotonic() < deadline and not all(delivered(stack)[email] for email in emails):
            time.sleep(1)
        time.sleep(5)  # anything sent twice would have arrived by now
        counts = delivered(stack)
        http = httpx.Client(timeout=15, headers={"Authorization": f"Bearer {stack.api_key}"})
        stuck = [notification for status in ("pending", "sending", "failed", "waiting_for_contact")
                 for notification in http.get(stack.service_url("notify") + "/v1/notifications",
                                              params={"status": status, "limit": 200}).json()["items"]]
    lost = [email for email in emails if counts[email] == 0]
    duplicated = [email for email in emails if counts[email] > 1]
    print(f"\nflows completed        {tally.flows_done} of {args.flows} ({tally.flows_given_up} given up by the "
          f"client after 180 s of retries)")
    print(f"requests               {tally.requests} ({tally.retries} retries)")
    print(f"faults                 {sum(tally.faults.values())}: "
          + ", ".join(f"{target} ×{count}" for target, count in sorted(tally.faults.items())))
    print(f"POC e-mails expected   {len(emails)}")
    print(f"  delivered once       {sum(1 for email in emails if counts[email] == 1)}")
    print(f"  lost                 {len(lost)}")
    print(f"  duplicated           {len(duplicated)}")
    print(f"notifications stuck    {len(stuck)}")
    print(f"time                   {flows_s:.0f} s of flows under faults, {time.monotonic() - started:.0f} s in all")
    for request in tally.given_up[:10]:
        print(f"  given up: {request}")
    for email in lost[:10]:
        print(f"  lost: {email}")
    for email in duplicated[:10]:
        print(f"  duplicated: {email} ×{counts[email]}")
    for notification in stuck[:10]:
        print(f"  stuck: {notification['id']} {notification['status']} {notification.get('last_error')}")
    return 1 if lost or duplicated or stuck or tally.flows_given_up else 0


if __name__ == "__main__":
    sys.exit(main())
