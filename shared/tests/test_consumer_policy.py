"""Delivery guarantees of every subscriber: idempotent effects, bounded retries, dead-lettering, partition moves on."""
import asyncio
import uuid

import httpx
import pytest
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.parser import text_string_to_metric_families
from pymongo.errors import AutoReconnect

from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.errors import PermanentEventError
from trip_shared.runtime import ServiceRuntime
from trip_shared.testing.service import auth, component_settings, running_service


def created(first_name: str = "Ana") -> CustomerCreated:
    customer_id = f"c-{uuid.uuid4().hex[:8]}"
    return CustomerCreated(tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=1, producer="test",
                           data=CustomerSnapshot(customer_id=customer_id, first_name=first_name))


def raw_bytes(message):
    return message.body


class Harness:
    """A runtime whose one handler records each customer it sees, failing on demand."""

    def __init__(self, settings):
        self.runtime = ServiceRuntime(settings, tracer_provider=TracerProvider())
        self.failures_left: dict[str, int] = {}
        self.outage_left: dict[str, int] = {}
        self.calls: list[str] = []
        self.dead_letters: list[bytes] = []
        self.dead_letter_headers: list[dict] = []
        self.held: set[str] = set()  # names whose handling waits for release
        self.release = asyncio.Event()
        consumer = self.runtime.consumer("policy-test")

        @consumer.handles(CustomerCreated)
        async def record(event: CustomerCreated, uow) -> None:
            name = event.data.first_name
            self.calls.append(name)
            if name in self.held:
                await self.release.wait()
            await uow.collection("seen", event.tenant_id).insert_one({"_id": event.aggregate_id, "name": name})
            if name == "Permanent":
                raise PermanentEventError("this event can never be applied")
            if self.outage_left.get(name, 0):
                self.outage_left[name] -= 1
                raise AutoReconnect("connection refused: the database is restarting")
            if self.failures_left.get(name, 0) != 0:
                self.failures_left[name] -= 1
                raise RuntimeError(f"transient failure for {name}")

        @self.runtime.broker.subscriber(CustomerCreated.TOPIC + ".dlq", group_id="dlq-reader", decoder=raw_bytes,
                                        ack_policy=AckPolicy.ACK, auto_offset_reset="earliest",
                                        session_timeout_ms=settings.kafka_session_timeout_ms,
                                        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms)
        async def dead_letter(message: KafkaMessage) -> None:
            self.dead_letters.append(message.body)
            self.dead_letter_headers.append(message.headers)

        self.app = self.runtime.create_app(title="policy test", description="", routers=[])

    async def seen(self) -> list[str]:
        return [doc["name"] async for doc in self.runtime.store.db["seen"].find({})]


@pytest.fixture
def harness(mongodb_url, mongo_database_name):
    return Harness(component_settings("policy", mongodb_url, mongo_database_name, consumer_max_attempts=3))


async def publish(broker, event: CustomerCreated) -> None:
    await broker.publish(event.model_dump_json().encode(), topic=CustomerCreated.TOPIC, key=event.partition_key.encode())


async def test_a_redelivered_event_takes_effect_once(harness):
    async with running_service(harness.app) as service:
        event = created()
        await publish(service.broker, event)
        await publish(service.broker, event)
        assert harness.calls == ["Ana"] and await harness.seen() == ["Ana"]
        assert await service.runtime.inbox.seen("policy-test", str(event.event_id))
        metrics = (await service.client.get("/metrics")).text
        assert 'events_consumed_total{group="policy-test",outcome="duplicate",topic="customer.created"} 1.0' in metrics


async def test_transient_failures_are_retried_and_leave_no_partial_effects(harness):
    harness.failures_left["Flaky"] = 2
    async with running_service(harness.app) as service:
        await publish(service.broker, created("Flaky"))
        assert harness.calls == ["Flaky"] * 3
        assert await harness.seen() == ["Flaky"], "failed attempts were rolled back; the third committed once"
        assert harness.dead_letters == []


async def test_an_event_that_keeps_failing_goes_to_the_dead_letter_topic_without_effects(harness):
    harness.failures_left["Poison"] = -1
    async with running_service(harness.app) as service:
        poison = created("Poison")
        await publish(service.broker, poison)
        await publish(service.broker, created("Next"))
        assert harness.calls.count("Poison") == 3
        assert await harness.seen() == ["Next"]
    assert [CustomerCreated.model_validate_json(body).event_id for body in harness.dead_letters] == [poison.event_id]


async def test_permanent_failures_and_contract_violations_are_dead_lettered_at_once(harness):
    async with running_service(harness.app) as service:
        await publish(service.broker, created("Permanent"))
        await service.broker.publish(b'{"event_type": "customer.created"}', topic=CustomerCreated.TOPIC)
        assert harness.calls == ["Permanent"]
        assert len(harness.dead_letters) == 2
        assert await harness.seen() == []


def counting_transactions(runtime: ServiceRuntime) -> list[int]:
    """Wrap the runtime's unit-of-work runner to count the writing transactions it runs."""
    counted: list[int] = []
    run = runtime.transaction

    async def transaction(work, *, read_only=False):
        if not read_only:
            counted.append(1)
        return await run(work, read_only=read_only)

    runtime.transaction = transaction
    return counted


async def publish_together(broker, *events: CustomerCreated) -> None:
    """As one fetch would bring them: one batch."""
    await broker.publish_batch(*(event.model_dump_json().encode() for event in events), topic=CustomerCreated.TOPIC)


async def test_a_backlog_is_handled_a_batch_per_transaction(harness):
    names = [f"Batch{number}" for number in range(6)]
    async with running_service(harness.app) as service:
        transactions = counting_transactions(service.runtime)
        events = [created(name) for name in names]
        await publish_together(service.broker, *events)
        assert await harness.seen() == names and harness.calls == names
        assert len(transactions) == 1, "one transaction for the whole batch"
        for event in events:
            assert await service.runtime.inbox.seen("policy-test", str(event.event_id))
        metrics = (await service.client.get("/metrics")).text
        assert 'events_consumed_total{group="policy-test",outcome="processed",topic="customer.created"} 6.0' in metrics


async def test_a_failing_event_in_a_batch_holds_back_none_of_the_others_and_keeps_its_attempt_count(harness):
    harness.failures_left["Poison"] = -1
    async with running_service(harness.app) as service:
        poison = created("Poison")
        await publish_together(service.broker, created("Before"), poison, created("After"))
        assert sorted(await harness.seen()) == ["After", "Before"]
        assert harness.calls.count("Poison") == 3, "the batch's try was its first of three attempts"
    assert [CustomerCreated.model_validate_json(body).event_id for body in harness.dead_letters] == [poison.event_id]


async def test_a_permanently_failing_event_in_a_batch_is_dead_lettered_without_another_try(harness):
    async with running_service(harness.app) as service:
        await publish_together(service.broker, created("Permanent"), created("Fine"))
        assert await harness.seen() == ["Fine"]
        assert harness.calls.count("Permanent") == 1
        assert len(harness.dead_letters) == 1


async def test_a_batch_holding_an_event_handled_before_applies_the_rest_once(harness):
    async with running_service(harness.app) as service:
        seen_before = created("Old")
        await publish(service.broker, seen_before)
        await publish_together(service.broker, seen_before, created("New"))
        assert sorted(await harness.seen()) == ["New", "Old"]
        metrics = (await service.client.get("/metrics")).text
        assert 'events_consumed_total{group="policy-test",outcome="duplicate",topic="customer.created"} 1.0' in metrics


async def test_a_database_outage_during_a_batch_costs_no_attempts(harness):
    harness.outage_left["Restarting"] = 2
    async with running_service(harness.app) as service:
        await publish_together(service.broker, created("Restarting"), created("Other"))
        assert sorted(await harness.seen()) == ["Other", "Restarting"]
        assert harness.dead_letters == []


async def test_on_a_real_broker_a_poison_message_is_dead_lettered_and_the_partition_moves_on(
        mongodb_url, mongo_database_name, kafka_bootstrap):
    topic_settings = component_settings(
        "policy", mongodb_url, mongo_database_name, consumer_max_attempts=2, kafka_bootstrap_servers=kafka_bootstrap,
        kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500, kafka_create_topics=True,
    )
    harness = Harness(topic_settings)
    harness.failures_left["Poison"] = -1
    poison, after = created("Poison"), created("After")
    # Same key, so both land on one partition: "After" is only reached if the consumer moves past "Poison".
    after = after.model_copy(update={"trip_id": poison.partition_key})
    poison = poison.model_copy(update={"trip_id": poison.partition_key})
    async with harness.app.router.lifespan_context(harness.app):
        await publish(harness.runtime.broker, poison)
        await publish(harness.runtime.broker, after)
        async with asyncio.timeout(45):
            while "After" not in await harness.seen() or not harness.dead_letters:
                await asyncio.sleep(0.2)
        assert await harness.seen() == ["After"]
    assert harness.calls.count("Poison") == 2
    assert CustomerCreated.model_validate_json(harness.dead_letters[0]).event_id == poison.event_id



async def metric_values(app, name: str) -> dict[tuple, float]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        text = (await client.get("/metrics")).text
    return {tuple(sorted(sample.labels.items())): sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name}


async def test_on_a_real_broker_metrics_show_each_partitions_lag_and_the_open_dead_letters(
        mongodb_url, mongo_database_name, kafka_bootstrap):
    harness = Harness(component_settings(
        "policy", mongodb_url, mongo_database_name, consumer_max_attempts=1, kafka_bootstrap_servers=kafka_bootstrap,
        kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500, kafka_create_topics=True))
    harness.failures_left["Poison"] = -1
    harness.held.add("Held")
    trip = f"trip-{uuid.uuid4().hex[:8]}"
    on_one_partition = [created(name).model_copy(update={"trip_id": trip})
                        for name in ("Poison", "Held", "Later1", "Later2", "Later3")]
    group, topic = {"group": "policy-test", "topic": CustomerCreated.TOPIC}, CustomerCreated.TOPIC
    async with harness.app.router.lifespan_context(harness.app), asyncio.timeout(60):
        for event in on_one_partition[:2]:
            await publish(harness.runtime.broker, event)
        while "Held" not in harness.calls:
            await asyncio.sleep(0.1)
        for event in on_one_partition[2:]:
            await publish(harness.runtime.broker, event)
        while 3 not in (lags := await metric_values(harness.app, "kafka_consumer_lag")).values():
            await asyncio.sleep(0.2)
        [(labels, _)] = [(labels, lag) for labels, lag in lags.items() if lag == 3]
        assert dict(labels)["group"] == "policy-test" and dict(labels)["topic"] == topic, \
            "the three events behind the one being handled wait on its partition"
        assert await metric_values(harness.app, "dead_letters_open") == {tuple(sorted(group.items())): 1.0}
        harness.release.set()
        while sorted(await harness.seen()) != ["Held", "Later1", "Later2", "Later3"]:  # the poison is dead-lettered
            await asyncio.sleep(0.1)
        while (await metric_values(harness.app, "kafka_consumer_lag")).get(labels) != 0:
            await asyncio.sleep(0.2)


async def test_a_message_that_is_not_json_is_dead_lettered_with_why_whatever_its_content_type(harness):
    async with running_service(harness.app) as service:
        await service.broker.publish(b"\xff\xfe not json", topic=CustomerCreated.TOPIC,
                                     headers={"content-type": "application/json", "tenant_id": "tenant-a"})
        await publish(service.broker, created("After"))
        assert harness.dead_letters == [b"\xff\xfe not json"]
        assert "not a valid customer.created event" in harness.dead_letter_headers[0]["dlq-error"]
        assert await harness.seen() == ["After"], "the consumer moved on"
        listed = (await service.client.get("/v1/ops/dead-letters", headers=auth())).json()["items"]
        assert len(listed) == 1 and "not a valid" in listed[0]["error"]
        detail = (await service.client.get(f"/v1/ops/dead-letters/{listed[0]['id']}", headers=auth())).json()
        assert "not json" in detail["body"] and detail["headers"]["dlq-consumer-group"] == "policy-test"


async def test_an_event_for_an_unknown_agency_is_dead_lettered_and_not_stored(harness):
    async with running_service(harness.app) as service:
        stranger = created("Ghost").model_copy(update={"tenant_id": "no-such-agency"})
        await publish(service.broker, stranger)
        assert harness.calls == [] and await harness.seen() == []
        assert "unknown tenant 'no-such-agency'" in harness.dead_letter_headers[0]["dlq-error"]
        assert (await service.client.get("/v1/ops/dead-letters", headers=auth())).json()["items"] == [], \
            "another agency's (or no agency's) dead letters are not shown to this one"


async def test_a_dead_letter_is_replayed_once_after_its_cause_is_fixed(harness):
    harness.failures_left["Flaky"] = -1
    async with running_service(harness.app) as service:
        event = created("Flaky")
        await publish(service.broker, event)
        [dead] = (await service.client.get("/v1/ops/dead-letters", headers=auth())).json()["items"]
        assert dead["event_id"] == str(event.event_id) and dead["attempts"] == 3
        assert (await service.client.get(f"/v1/ops/dead-letters/{dead['id']}", headers=auth("tenant-b"))).status_code == 404
        assert (await service.client.post(f"/v1/ops/dead-letters/{dead['id']}/replay",
                                          headers=auth("read-only"))).status_code == 403
        still_failing = await service.client.post(f"/v1/ops/dead-letters/{dead['id']}/replay", headers=auth())
        assert still_failing.status_code == 409 and still_failing.json()["code"] == "replay-failed"
        assert await harness.seen() == []
        harness.failures_left["Flaky"] = 0  # the cause is fixed
        replayed = await service.client.post(f"/v1/ops/dead-letters/{dead['id']}/replay", headers=auth())
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "replayed" and replayed.json()["replay_outcome"] == "processed"
        assert replayed.json()["replayed_by"] == "a"
        assert await harness.seen() == ["Flaky"]
        again = await service.client.post(f"/v1/ops/dead-letters/{dead['id']}/replay", headers=auth())
        assert again.status_code == 409 and again.json()["code"] == "already-replayed"
        assert (await service.client.get("/readyz")).json()["dead_letters_open"] == 0


async def test_a_database_outage_uses_up_no_attempts_and_never_dead_letters_a_good_event(harness):
    harness.outage_left["Patient"] = 10  # far more than the 3 attempts a failing event gets
    async with running_service(harness.app) as service:
        await publish(service.broker, created("Patient"))
        assert await harness.seen() == ["Patient"] and harness.dead_letters == []
        assert harness.calls.count("Patient") == 11
        metrics = (await service.client.get("/metrics")).text
        assert 'outcome="waited_for_database"' in metrics
