"""The outbox relay against real MongoDB and a real Kafka-protocol broker."""
import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.messaging.broker import create_broker, publish_raw
from trip_shared.messaging.outbox import Outbox, OutboxRelay
from trip_shared.mongo import MongoStore
from trip_shared.testing.service import component_settings


def created(customer_id: str, version: int = 1) -> CustomerCreated:
    return CustomerCreated(tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=version,
                           producer="test", data=CustomerSnapshot(customer_id=customer_id, first_name="Ana"))


@pytest.fixture
async def store(mongodb_url, mongo_database_name):
    store = MongoStore(mongodb_url, mongo_database_name)
    yield store
    await store.client.drop_database(mongo_database_name)
    await store.close()


@pytest.fixture
async def outbox(store):
    outbox = Outbox(store.db)
    await outbox.ensure_indexes()
    return outbox


async def stage(store, outbox, events):
    await store.run_in_transaction(lambda session: outbox.stage(session, events))


async def read_topic(bootstrap, topic, event_ids, timeout=20.0):
    """The records of ``topic`` carrying the given event ids, in the order they were read."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"reader-{uuid.uuid4().hex[:6]}", session_timeout_ms=2000,
                                heartbeat_interval_ms=500)
    await consumer.start()
    records = []
    try:
        async with asyncio.timeout(timeout):
            async for record in consumer:
                if json.loads(record.value)["event_id"] in event_ids:
                    records.append(record)
                if len(records) == len(event_ids):
                    break
    finally:
        await consumer.stop()
    return records


async def test_relay_publishes_in_order_with_headers_and_the_writers_trace(store, outbox, kafka_bootstrap,
                                                                          mongodb_url, mongo_database_name):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = component_settings("test", mongodb_url, mongo_database_name,
                                  kafka_bootstrap_servers=kafka_bootstrap)
    broker = create_broker(settings, provider)
    await broker.connect()
    customer_id = f"c-{uuid.uuid4().hex[:6]}"  # one key, so one partition, so one order
    topic_events = [created(customer_id, version) for version in (1, 2, 3)]
    with provider.get_tracer("test").start_as_current_span("http request") as request_span:
        await stage(store, outbox, topic_events)
    relay = OutboxRelay(outbox, lambda *args: publish_raw(broker, *args), tracer_provider=provider)
    try:
        assert await relay.drain() == 3
    finally:
        await broker.stop()
    assert (await outbox.backlog()).pending == 0
    mine = await read_topic(kafka_bootstrap, CustomerCreated.TOPIC, {str(e.event_id) for e in topic_events})
    assert [json.loads(r.value)["aggregate_version"] for r in mine] == [1, 2, 3]
    headers = dict(mine[0].headers)
    assert headers["event_type"] == b"customer.created" and headers["tenant_id"] == b"tenant-a"
    trace_id = format(request_span.get_span_context().trace_id, "032x")
    assert trace_id in headers["traceparent"].decode(), "the published message must continue the writer's trace"
    relay_spans = [s for s in exporter.get_finished_spans() if s.name.startswith("outbox relay")]
    assert len(relay_spans) == 3 and all(s.context.trace_id == request_span.get_span_context().trace_id
                                         for s in relay_spans)


async def test_a_failing_broker_keeps_events_pending_and_visible_then_they_go_out_in_order(store, outbox):
    await stage(store, outbox, [created("c-1", 1), created("c-1", 2)])
    sent: list[int] = []
    broker_up = False

    async def publish(topic, key, body, headers):
        if not broker_up:
            raise ConnectionError("broker unreachable")
        sent.append(json.loads(body)["aggregate_version"])

    relay = OutboxRelay(outbox, publish, tracer_provider=TracerProvider())
    assert await relay.drain() == 0
    backlog = await outbox.backlog()
    assert backlog.pending == 2 and backlog.failing == 1 and "broker unreachable" in backlog.last_error
    row = await outbox.rows.find_one({"attempts": 1})
    assert row["next_attempt_at"] > row["created_at"], "a failed row backs off before its next attempt"
    broker_up = True
    await outbox.rows.update_many({}, {"$set": {"next_attempt_at": row["created_at"]}})  # let the backoff elapse
    assert await relay.drain() == 2
    assert sent == [1, 2]
    assert (await outbox.backlog()).pending == 0


async def test_events_of_an_aborted_transaction_are_never_published(store, outbox):
    async def fail_after_staging(session):
        await outbox.stage(session, [created("c-9")])
        raise RuntimeError("business write failed")

    with pytest.raises(RuntimeError):
        await store.run_in_transaction(fail_after_staging)
    assert await outbox.rows.count_documents({}) == 0


async def test_only_the_lease_holder_publishes(store, outbox):
    await stage(store, outbox, [created("c-1")])
    published = []

    async def publish(*args):
        published.append(args)

    first = OutboxRelay(outbox, publish, tracer_provider=TracerProvider())
    second = OutboxRelay(outbox, publish, tracer_provider=TracerProvider())
    assert await outbox.acquire_lease(first._owner)
    assert await second.drain() == 0 and published == []
    assert await first.drain() == 1 and len(published) == 1


async def test_an_event_too_large_to_publish_is_refused_with_the_change_that_made_it(store, outbox):
    from trip_shared.messaging.outbox import MAX_EVENT_BYTES, EventTooLarge

    huge = created("c-big").model_copy(update={"data": CustomerSnapshot(customer_id="c-big",
                                                                        first_name="x" * MAX_EVENT_BYTES)})
    with pytest.raises(EventTooLarge) as refused:
        await stage(store, outbox, [created("c-small"), huge])
    assert refused.value.status == 413 and "customer.created" in refused.value.detail
    assert await outbox.rows.count_documents({}) == 0, "the whole transaction was refused"


async def oversized_row(store, outbox, customer_id: str) -> str:
    """A row Kafka refuses, as one written before the size check existed (or by a future bug) would be."""
    await stage(store, outbox, [created(customer_id)])
    row = await outbox.rows.find_one({"aggregate_id": customer_id})
    payload = json.loads(row["payload"])
    payload["data"]["first_name"] = "x" * 1_100_000
    await outbox.rows.update_one({"_id": row["_id"]}, {"$set": {"payload": json.dumps(payload)}})
    return row["event_id"]


async def test_a_row_kafka_refuses_is_parked_without_holding_back_other_keys(store, outbox, kafka_bootstrap,
                                                                          mongodb_url, mongo_database_name):
    settings = component_settings("test", mongodb_url, mongo_database_name, kafka_bootstrap_servers=kafka_bootstrap)
    broker = create_broker(settings, TracerProvider())
    await broker.connect()
    blocked, other = f"c-{uuid.uuid4().hex[:6]}", f"c-{uuid.uuid4().hex[:6]}"
    parked_id = await oversized_row(store, outbox, blocked)
    behind = created(blocked, 2)
    unrelated = created(other)
    await stage(store, outbox, [behind, unrelated])
    relay = OutboxRelay(outbox, lambda *args: publish_raw(broker, *args), tracer_provider=TracerProvider())
    try:
        assert await relay.drain() == 1, "the other customer's event goes out"
        parked = await outbox.rows.find_one({"event_id": parked_id})
        assert parked["status"] == "parked" and "MessageSizeTooLarge" in parked["last_error"]
        assert (await outbox.rows.find_one({"event_id": str(behind.event_id)}))["status"] == "held"
        backlog = await outbox.backlog()
        assert (backlog.parked, backlog.held, backlog.pending) == (1, 1, 0)
        assert await relay.drain() == 0, "a parked row is not retried on its own"
        assert await outbox.drop_parked("tenant-a", parked_id, "ops-key") is not None
        relay.forget_parked()  # as the ops API does
        assert await relay.drain() == 1, "dropping it releases the event held behind it"
    finally:
        await broker.stop()
    mine = await read_topic(kafka_bootstrap, CustomerCreated.TOPIC, {str(unrelated.event_id), str(behind.event_id)})
    assert sorted(json.loads(r.value)["aggregate_id"] for r in mine) == sorted([other, blocked])
    dropped = await outbox.rows.find_one({"event_id": parked_id})
    assert dropped["status"] == "dropped" and dropped["dropped_by"] == "ops-key"


async def test_a_retried_parked_row_goes_first_then_the_rows_held_behind_it(store, outbox):
    sent: list[tuple[str, int]] = []
    refuse = True

    async def publish(topic, key, body, headers):
        from aiokafka.errors import MessageSizeTooLargeError

        event = json.loads(body)
        if refuse and event["aggregate_version"] == 1:
            raise MessageSizeTooLargeError("too large")
        sent.append((event["aggregate_id"], event["aggregate_version"]))

    await stage(store, outbox, [created("c-1", 1), created("c-1", 2), created("c-2", 5)])
    relay = OutboxRelay(outbox, publish, tracer_provider=TracerProvider())
    assert await relay.drain() == 1 and sent == [("c-2", 5)]
    await stage(store, outbox, [created("c-1", 3)])
    assert await relay.drain() == 0, "a row staged later for the parked key waits behind it too"
    refuse = False
    row = await outbox.rows.find_one({"status": "parked"})
    assert await outbox.retry_parked("tenant-b", row["event_id"]) is None, "another agency cannot touch it"
    assert await outbox.retry_parked("tenant-a", row["event_id"]) is not None
    relay.forget_parked()
    assert await relay.drain() == 3
    assert sent == [("c-2", 5), ("c-1", 1), ("c-1", 2), ("c-1", 3)]


async def test_a_key_backing_off_does_not_hold_back_other_keys_but_an_unreachable_broker_stops_the_cycle(
        store, outbox):
    from aiokafka.errors import KafkaConnectionError, UnknownTopicOrPartitionError

    attempts: list[str] = []
    failure: Exception | None = UnknownTopicOrPartitionError()

    async def publish(topic, key, body, headers):
        attempts.append(key)
        if key == "c-1" and failure is not None:
            raise failure

    await stage(store, outbox, [created("c-1", 1), created("c-1", 2), created("c-2"), created("c-3")])
    relay = OutboxRelay(outbox, publish, tracer_provider=TracerProvider())
    assert await relay.drain() == 2 and attempts == ["c-1", "c-2", "c-3"]
    assert (await outbox.backlog()).failing == 1
    await stage(store, outbox, [created("c-4"), created("c-5")])
    await outbox.rows.update_many({"aggregate_id": "c-1"}, {"$set": {"next_attempt_at": datetime.now(UTC)}})
    attempts.clear()
    failure = KafkaConnectionError()
    assert await relay.drain() == 0 and attempts == ["c-1"], "with the broker unreachable, one attempt is enough"


async def test_a_relay_that_died_hands_over_within_seconds(outbox):
    from trip_shared.messaging.outbox import LEASE_DURATION

    assert await outbox.acquire_lease("dead-process")
    assert not await outbox.acquire_lease("restarted-process")
    await asyncio.sleep(LEASE_DURATION.total_seconds() + 0.2)
    assert await outbox.acquire_lease("restarted-process")
    assert LEASE_DURATION.total_seconds() <= 5
