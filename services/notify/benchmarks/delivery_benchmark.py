"""How fast does notify get messages out through the e-mail channel? Prints figures as ratios; asserts nothing.

    .venv/bin/python services/notify/benchmarks/delivery_benchmark.py [--messages 300] [--concurrency 16]

The notify service runs in this process on an embedded SecantusDB (the slowest engine it runs on) with its events
delivered by FastStream's in-memory broker (Kafka's own hop is the platform benchmark's, `make bench`), and its mail
goes to an aiosmtpd server in this process. Each figure is set against a baseline run here on the same servers:

* messages per second: notify turning point-of-contact events into sent e-mails (the inbox, the read models, the
  notification record, the SMTP send, the log), against notify's own SMTP adapter sending the same number of e-mails
  in a loop — the channel's floor;
* event → SMTP acceptance: from handing one event to notify to the mail server accepting its e-mail, one at a time,
  against one bare send.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from email import message_from_bytes

from aiosmtpd.controller import Controller
from opentelemetry.sdk.trace import TracerProvider

from notify.adapters.smtp import SmtpMailer
from notify.bootstrap import create_app
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.contracts.itinerary import CustomerLinked, ItineraryMember, ItinerarySummary, MembershipChange
from trip_shared.embedded import free_port, start_mongodb
from trip_shared.testing.service import component_settings, running_service


class Sink:
    """Records when the server accepted each message (by its X-Notification-Id)."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content)
        self.accepted[message["X-Notification-Id"] or f"bare-{self.count}"] = time.perf_counter()
        self.count += 1
        return "250 OK"


def contact(index: int) -> CustomerCreated:
    return CustomerCreated(tenant_id="tenant-a", aggregate_id=f"c{index}", aggregate_version=1, producer="customers",
                           data=CustomerSnapshot(customer_id=f"c{index}", first_name="Mei",
                                                 emails=[f"mei.{index}@example.com"]))


def linked(index: int) -> CustomerLinked:
    trip = ItinerarySummary(itinerary_id=f"it-{index}", title="Kyoto in autumn")
    return CustomerLinked(tenant_id="tenant-a", aggregate_id=f"it-{index}", aggregate_version=2,
                          trip_id=f"it-{index}", producer="itinerary",
                          data=MembershipChange(itinerary=trip, customer_id=f"c{index}", is_poc=True,
                                                customers=[ItineraryMember(customer_id=f"c{index}", is_poc=True)]))


async def bare_sends(mailer: SmtpMailer, sink: Sink, count: int) -> tuple[float, list[float]]:
    """The floor: notify's SMTP adapter alone, one message after another."""
    latencies, started = [], time.perf_counter()
    for index in range(count):
        sent = time.perf_counter()
        await mailer.send(notification_id=f"bare:{index}", recipient=f"bare.{index}@example.com", subject="Bench",
                          body="Hello\n", sender=None, reply_to=None, headers={"X-Notification-Id": f"bare:{index}"})
        latencies.append(sink.accepted[f"bare:{index}"] - sent)
    return count / (time.perf_counter() - started), latencies


async def run(mongodb_url: str, messages: int, concurrency: int) -> None:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = component_settings("notify", mongodb_url, f"delivery_benchmark_{int(time.time())}", smtp_port=port)
    app = create_app(settings, tracer_provider=TracerProvider(), sweep_interval_s=1.0)
    try:
        async with running_service(app) as service:
            for index in range(messages + 100):
                await service.publish(contact(index))
            mailer = SmtpMailer("127.0.0.1", port, settings.smtp_sender)
            floor_rate, floor_latency = await bare_sends(mailer, sink, messages)

            latencies = []  # one at a time: event → acceptance
            for index in range(messages, messages + 100):
                event = linked(index)
                key = f"poc_assigned:{event.event_id}:c{index}"
                handed = time.perf_counter()
                await service.publish(event)
                while key not in sink.accepted:
                    await asyncio.sleep(0.0005)
                latencies.append(sink.accepted[key] - handed)

            queue: asyncio.Queue[int] = asyncio.Queue()
            for index in range(messages):
                queue.put_nowait(index)

            async def worker() -> None:
                while not queue.empty():
                    await service.publish(linked(queue.get_nowait()))

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            while sum(1 for key in sink.accepted if key.startswith("poc_assigned")) < messages + 100:
                await asyncio.sleep(0.01)
            rate = messages / (time.perf_counter() - started)
    finally:
        controller.stop()

    def ms(values: list[float], q: float) -> float:
        return sorted(values)[int(len(values) * q) - 1] * 1000 if q < 1 else max(values) * 1000

    print(f"\nnotify e-mail delivery on this machine ({os.cpu_count()} cores), {messages} messages, "
          f"concurrency {concurrency}; baseline: notify's SMTP adapter alone, same servers, same run")
    print(f"{'figure':<34}{'notify':>10}{'baseline':>10}{'ratio':>8}")
    print(f"{'messages/s':<34}{rate:>10.1f}{floor_rate:>10.1f}{rate / floor_rate:>8.2f}")
    for label, q in (("event → SMTP accepted p50 (ms)", 0.5), ("event → SMTP accepted p99 (ms)", 0.99)):
        ours, floor = ms(latencies, q), ms(floor_latency, q)
        print(f"{label:<34}{ours:>10.1f}{floor:>10.1f}{ours / floor:>8.2f}")
    print(f"{'event → SMTP accepted mean (ms)':<34}{statistics.mean(latencies) * 1000:>10.1f}"
          f"{statistics.mean(floor_latency) * 1000:>10.1f}"
          f"{statistics.mean(latencies) / statistics.mean(floor_latency):>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mongodb-url", default="")
    args = parser.parse_args()
    if args.mongodb_url:
        asyncio.run(run(args.mongodb_url, args.messages, args.concurrency))
        return
    workdir = tempfile.mkdtemp(prefix="bench-")
    server = start_mongodb(storage_path=":memory:", log_dir=workdir)
    try:
        url = server.url if "retryWrites" in server.url else server.url.rstrip("/") + "/?retryWrites=false"
        asyncio.run(run(url, args.messages, args.concurrency))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
