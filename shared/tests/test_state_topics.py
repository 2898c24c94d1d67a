"""On a real broker: a tombstone staged in the outbox reaches Kafka as a record with no value, and a service whose
database never had the customers builds its copy from customer.state before it consumes anything — the latest
state of each, none of those tombstoned, none of an agency it does not know — and only once."""
import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry.sdk.trace import TracerProvider

from trip_shared.contracts.customers import CustomerSnapshot, CustomerState
from trip_shared.contracts.envelope import Tombstone
from trip_shared.runtime import ServiceRuntime
from trip_shared.testing.service import component_settings


def state(tenant: str, customer_id: str, version: int, name: str) -> CustomerState:
    return CustomerState(tenant_id=tenant, aggregate_id=customer_id, aggregate_version=version, producer="customers",
                         data=CustomerSnapshot(customer_id=customer_id, first_name=name))


def service(mongodb_url: str, database: str, kafka_bootstrap: str) -> tuple[ServiceRuntime, object]:
    runtime = ServiceRuntime(component_settings(
        "state", mongodb_url, database, kafka_bootstrap_servers=kafka_bootstrap, kafka_create_topics=True,
        read_model_rebuild=True, kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500),
        tracer_provider=TracerProvider())
    copies = runtime.store.db["customer_copies"]

    async def apply(event: CustomerState, uow) -> None:
        known = await copies.find_one({"_id": event.data.customer_id})
        if known is None or known["version"] < event.aggregate_version:
            await copies.replace_one({"_id": event.data.customer_id},
                                     {"name": event.data.first_name, "version": event.aggregate_version}, upsert=True)

    async def forget(tenant_id: str, key: str, uow) -> None:
        await copies.delete_one({"_id": key})

    runtime.rebuild_from_state_topic(CustomerState, apply, forget)
    return runtime, runtime.create_app(title="state test", description="", routers=[])


async def published(kafka_bootstrap: str, records: list[tuple[str, bytes | None, str]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for key, value, tenant in records:
            await producer.send_and_wait(CustomerState.TOPIC, value, key=key.encode(),
                                         headers=[("tenant_id", tenant.encode())])
    finally:
        await producer.stop()


async def test_a_database_that_never_had_the_customers_is_built_from_the_state_topic_once(
        mongodb_url, mongo_database_name, kafka_bootstrap):
    run = uuid.uuid4().hex[:8]
    ana, ben, cai, dee = (f"{name}-{run}" for name in ("ana", "ben", "cai", "dee"))
    runtime, app = service(mongodb_url, mongo_database_name, kafka_bootstrap)
    async with app.router.lifespan_context(app):  # creates the topics; nothing on them is ours yet
        await runtime.store.db["read_model_rebuilds"].delete_many({})  # as a new database would be
    await published(kafka_bootstrap, [
        (ana, state("tenant-a", ana, 1, "Ana").model_dump_json().encode(), "tenant-a"),
        (ben, state("tenant-a", ben, 1, "Ben").model_dump_json().encode(), "tenant-a"),
        (ana, state("tenant-a", ana, 2, "Ana Maria").model_dump_json().encode(), "tenant-a"),
        (ben, None, "tenant-a"),  # erased: a tombstone
        (cai, state("nobody-we-know", cai, 1, "Cai").model_dump_json().encode(), "nobody-we-know"),
        (dee, b"\xff not a state", "tenant-a"),
    ])
    runtime, app = service(mongodb_url, mongo_database_name, kafka_bootstrap)
    async with app.router.lifespan_context(app):
        copies = {doc["_id"]: (doc["name"], doc["version"])
                  async for doc in runtime.store.db["customer_copies"].find({"_id": {"$regex": run}})}
        assert copies == {ana: ("Ana Maria", 2)}, "the latest state; nothing tombstoned, unknown or unreadable"
        marker = await runtime.store.db["read_model_rebuilds"].find_one({"_id": CustomerState.TOPIC})
        assert marker["records"] >= 6

    await published(kafka_bootstrap, [(dee, state("tenant-a", dee, 1, "Dee").model_dump_json().encode(),
                                       "tenant-a")])
    runtime, app = service(mongodb_url, mongo_database_name, kafka_bootstrap)
    async with app.router.lifespan_context(app):
        assert await runtime.store.db["customer_copies"].find_one({"_id": dee}) is None, \
            "built once: from then on the change events keep the copy current"


async def test_a_tombstone_from_the_outbox_is_a_record_with_no_value_under_its_key(
        mongodb_url, mongo_database_name, kafka_bootstrap):
    runtime, app = service(mongodb_url, mongo_database_name, kafka_bootstrap)
    key = f"erased-{uuid.uuid4().hex[:8]}"
    async with app.router.lifespan_context(app):
        await runtime.relay.stop()
        await runtime.store.run_in_transaction(
            lambda session: runtime.outbox.stage(session, [Tombstone(CustomerState.TOPIC, "tenant-a", key)]))
        assert await runtime.relay.drain() == 1
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None, auto_offset_reset="earliest")
    await reader.start()
    try:
        await reader.topics()
        partitions = [TopicPartition(CustomerState.TOPIC, p) for p in reader.partitions_for_topic(CustomerState.TOPIC)]
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        async with asyncio.timeout(20):
            while True:
                found = [record for batch in (await reader.getmany(timeout_ms=500)).values() for record in batch
                         if record.key == key.encode()]
                if found:
                    break
        [record] = found
        assert record.value is None and dict(record.headers)["tenant_id"] == b"tenant-a"
    finally:
        await reader.stop()
