"""Every service's /v1/ops API: what its outbox could not publish, seen and decided on by an operator."""
import uuid

import pytest
from opentelemetry.sdk.trace import TracerProvider

from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.runtime import ServiceRuntime
from trip_shared.testing.polling import arrives
from trip_shared.testing.service import auth, component_settings, running_service


def created(customer_id: str, version: int = 1) -> CustomerCreated:
    return CustomerCreated(tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=version,
                           producer="test", data=CustomerSnapshot(customer_id=customer_id, first_name="Ana"))


@pytest.fixture
async def service(mongodb_url, mongo_database_name):
    runtime = ServiceRuntime(component_settings("ops", mongodb_url, mongo_database_name),
                             tracer_provider=TracerProvider())
    app = runtime.create_app(title="ops test", description="", routers=[])
    async with running_service(app) as service:
        await runtime.relay.stop()  # the tests drain the outbox themselves, at the moments they choose
        yield service


async def stage_parked(service, customer_id: str) -> tuple[str, str]:
    """One parked event and one event of the same customer held behind it."""
    first, second = created(customer_id, 1), created(customer_id, 2)
    runtime = service.runtime
    await runtime.store.run_in_transaction(lambda session: runtime.outbox.stage(session, [first, second]))
    row = await runtime.outbox.rows.find_one({"event_id": str(first.event_id)})
    await runtime.outbox.park(row, "MessageSizeTooLargeError: The message is 1100000 bytes")
    await runtime.outbox.hold(customer_id)
    return str(first.event_id), str(second.event_id)


async def test_parked_events_are_listed_for_their_agency_and_shown_on_readyz_and_metrics(service):
    parked_id, held_id = await stage_parked(service, f"c-{uuid.uuid4().hex[:6]}")
    listed = await service.client.get("/v1/ops/outbox", headers=auth())
    assert listed.status_code == 200
    assert [(row["event_id"], row["status"]) for row in listed.json()["items"]] == [(parked_id, "parked"),
                                                                                   (held_id, "held")]
    assert "MessageSizeTooLarge" in listed.json()["items"][0]["last_error"]
    detail = (await service.client.get(f"/v1/ops/outbox/{parked_id}", headers=auth())).json()
    assert detail["payload"]["event_id"] == parked_id and detail["size_bytes"] > 0
    assert (await service.client.get("/v1/ops/outbox", headers=auth("tenant-b"))).json()["items"] == []
    assert (await service.client.get(f"/v1/ops/outbox/{parked_id}", headers=auth("tenant-b"))).status_code == 404
    ready = await service.client.get("/readyz")
    assert ready.status_code == 200, "the other keys still publish: the service stays in rotation"
    assert ready.json()["outbox"]["parked"] == 1 and ready.json()["outbox"]["held"] == 1
    assert "MessageSizeTooLarge" in ready.json()["attention"][0]
    await service.flush_outbox()
    metrics = (await service.client.get("/metrics")).text
    assert "outbox_parked_events 1.0" in metrics and "outbox_held_events 1.0" in metrics


async def test_an_operator_retries_a_parked_event_and_the_held_ones_follow(service):
    parked_id, held_id = await stage_parked(service, f"c-{uuid.uuid4().hex[:6]}")
    forbidden = await service.client.post(f"/v1/ops/outbox/{parked_id}/retry", headers=auth("read-only"))
    assert forbidden.status_code == 403
    retried = await service.client.post(f"/v1/ops/outbox/{parked_id}/retry", headers=auth())
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert await service.flush_outbox() == 2
    statuses = {row["event_id"]: row["status"] async for row in service.runtime.outbox.rows.find({})}
    assert statuses == {parked_id: "published", held_id: "published"}
    again = await service.client.post(f"/v1/ops/outbox/{parked_id}/retry", headers=auth())
    assert again.status_code == 409 and again.json()["code"] == "not-parked"
    missing = await service.client.post("/v1/ops/outbox/nope/drop", headers=auth())
    assert missing.status_code == 404


async def test_an_operator_drops_a_parked_event_and_it_stays_on_record(service):
    parked_id, held_id = await stage_parked(service, f"c-{uuid.uuid4().hex[:6]}")
    dropped = await service.client.post(f"/v1/ops/outbox/{parked_id}/drop", headers=auth())
    assert dropped.status_code == 200 and dropped.json()["dropped_by"] == "a"
    assert await service.flush_outbox() == 1
    assert (await service.runtime.outbox.rows.find_one({"event_id": parked_id}))["status"] == "dropped"
    assert (await service.runtime.outbox.rows.find_one({"event_id": held_id}))["status"] == "published"
    assert "attention" not in (await service.client.get("/readyz")).json()


async def test_a_trips_announced_events_are_listed_with_their_trace_and_its_handled_ones_per_group(
        mongodb_url, mongo_database_name):
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    runtime = ServiceRuntime(component_settings("ops", mongodb_url, mongo_database_name), tracer_provider=provider)
    consumer = runtime.consumer("ops-test-group")

    @consumer.handles(CustomerCreated)
    async def ignore(event, uow) -> None:
        return None

    app = runtime.create_app(title="ops test", description="", routers=[])
    async with running_service(app) as service:
        await runtime.relay.stop()
        trip, other = f"c-{uuid.uuid4().hex[:6]}", f"c-{uuid.uuid4().hex[:6]}"
        first, second, elsewhere = created(trip, 1), created(trip, 2), created(other, 1)
        with provider.get_tracer("test").start_as_current_span("the planner's request") as span:
            await runtime.store.run_in_transaction(lambda session: runtime.outbox.stage(session, [first, second]))
        await runtime.store.run_in_transaction(lambda session: runtime.outbox.stage(session, [elsewhere]))
        assert await runtime.relay.drain() == 3

        listed = await service.client.get(f"/v1/ops/trips/{trip}/events", headers=auth())
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["service"] == "ops" and body["dead_lettered"] == []
        assert [(e["event_id"], e["status"]) for e in body["announced"]] == [
            (str(first.event_id), "published"), (str(second.event_id), "published")], "its key's, in order"
        assert {e["trace_id"] for e in body["announced"]} == {format(span.get_span_context().trace_id, "032x")}
        assert all(e["published_at"] and e["topic"] == "customer.created" for e in body["announced"])
        theirs = await service.client.get(f"/v1/ops/trips/{trip}/events", headers=auth("tenant-b"))
        assert theirs.json()["announced"] == [], "another agency sees none of it"

        async def handled_by_the_group():
            handled = await service.client.get("/v1/ops/handled", headers=auth(), params={
                "event_id": [str(first.event_id), str(second.event_id), str(uuid.uuid4())]})
            assert handled.status_code == 200, handled.text
            found = {(row["group_id"], row["event_id"]) for row in handled.json()["items"]}
            return found if len(found) == 2 else None

        assert await arrives(handled_by_the_group) == {("ops-test-group", str(first.event_id)),
                                                       ("ops-test-group", str(second.event_id))}
        described = await service.client.get("/v1/ops/handled", headers=auth(), params={"event_id": ["x"]})
        assert described.json()["consumes"] == {"ops-test-group": ["customer.created"]}
        theirs = await service.client.get("/v1/ops/handled", headers=auth("tenant-b"),
                                          params={"event_id": [str(first.event_id)]})
        assert theirs.json()["items"] == []
        refused = await service.client.get("/v1/ops/handled", headers=auth())
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
