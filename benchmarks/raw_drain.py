"""The drain baseline: a raw aiokafka loop doing the writes a consumer must do at least, nothing else.

Reads the given partitions from the given offsets up to the given end offsets and, for each event, writes its inbox
row and its effect (an upsert of the contact it carries) in one transaction, committing the Kafka offsets after each
fetched batch. Prints one JSON line: how many events, and the seconds from the first event read to the last commit.

    python benchmarks/raw_drain.py BOOTSTRAP TOPIC '{"0": [start, end], ...}' MONGODB_URL DATABASE
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient


async def drain(bootstrap: str, topic: str, ranges: dict[int, tuple[int, int]], mongodb_url: str,
                database: str, fetch_max_wait_ms: int) -> dict:
    client = AsyncMongoClient(mongodb_url, tz_aware=True)
    db = client[database]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="raw-drain", enable_auto_commit=False,
                                fetch_max_wait_ms=fetch_max_wait_ms)
    await consumer.start()
    partitions = {TopicPartition(topic, number): bounds for number, bounds in ranges.items()}
    consumer.assign(list(partitions))
    for partition, (start, _) in partitions.items():
        await consumer.position(partition)  # the group's committed position first, or it would replace the seek
        consumer.seek(partition, start)
    remaining = {partition for partition, (start, end) in partitions.items() if end > start}
    handled = 0
    first_read = None
    try:
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            first_read = first_read or time.perf_counter()
            for partition, messages in batches.items():
                for message in messages:
                    event = json.loads(message.value)

                    async def work(session, event=event) -> None:
                        await db["inbox"].insert_one({"_id": f"raw-drain:{event['event_id']}",
                                                      "processed_at": datetime.now(UTC)}, session=session)
                        await db["contacts"].update_one(
                            {"_id": event["data"]["customer_id"]},
                            {"$set": {"first_name": event["data"]["first_name"],
                                      "emails": event["data"]["emails"], "version": event["aggregate_version"]}},
                            upsert=True, session=session)

                    async with client.start_session() as session:
                        await session.with_transaction(work)
                    handled += 1
                if messages:
                    await consumer.commit({partition: messages[-1].offset + 1})
                    if messages[-1].offset + 1 >= partitions[partition][1]:
                        remaining.discard(partition)
        return {"events": handled, "seconds": time.perf_counter() - (first_read or time.perf_counter())}
    finally:
        await consumer.stop()
        await client.close()


if __name__ == "__main__":
    bootstrap, topic, ranges, mongodb_url, database = sys.argv[1:6]
    fetch_wait = int(sys.argv[6]) if len(sys.argv) > 6 else 500
    parsed = {int(number): tuple(bounds) for number, bounds in json.loads(ranges).items()}
    print(json.dumps(asyncio.run(drain(bootstrap, topic, parsed, mongodb_url, database, fetch_wait))))
