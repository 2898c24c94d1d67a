"""Running a service's app in-process for component tests: real MongoDB, in-memory Kafka (TestKafkaBroker)."""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker

from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.auth import hash_key

# Two agencies and a read-only key, so tests can prove tenant isolation and scopes.
TEST_KEYS = {
    "tenant-a": "test-key-tenant-a",
    "tenant-b": "test-key-tenant-b",
    "read-only": "test-key-read-only",
}


def test_api_keys() -> str:
    return json.dumps([
        {"name": "a", "tenant_id": "tenant-a", "scopes": ["*"], "key_sha256": hash_key(TEST_KEYS["tenant-a"])},
        {"name": "b", "tenant_id": "tenant-b", "scopes": ["*"], "key_sha256": hash_key(TEST_KEYS["tenant-b"])},
        {"name": "ro", "tenant_id": "tenant-a", "scopes": ["customers:read", "itineraries:read", "notifications:read",
                                                            "bookings:read", "feedback:read", "incidents:read"],
         "key_sha256": hash_key(TEST_KEYS["read-only"])},
    ])


TEST_AGENCY = {"name": "Lotus & Maple Travel", "support_phone": "+86 21 5555 0100",
               "support_email": "care@lotusmaple.example", "emergency_phone": "+86 21 5555 0199"}


def component_settings(service_name: str, mongodb_url: str, database: str, **overrides) -> ServiceSettings:
    # Route-walking tests make hundreds of deliberately unauthenticated calls from one address.
    defaults = dict(kafka_create_topics=False, api_keys=test_api_keys(), consumer_retry_backoff_s=0.01,
                    auth_failures_per_minute=100_000, kafka_watch_interval_s=0,
                    # The in-memory broker has no state topic to read; rebuilds are tested on a real one.
                    read_model_rebuild=False,
                    outbox_poll_interval_s=0.05, read_model_wait_s=0.3,
                    agency_profiles=json.dumps({"tenant-a": TEST_AGENCY}))
    return ServiceSettings(service_name=service_name, mongodb_url=mongodb_url, mongodb_database=database,
                           **{**defaults, **overrides})


def auth(tenant: str = "tenant-a") -> dict[str, str]:
    return {"Authorization": f"Bearer {TEST_KEYS[tenant]}"}


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    broker: TestKafkaBroker

    @property
    def runtime(self) -> ServiceRuntime:
        return self.app.state.runtime

    async def publish(self, event) -> None:
        """Deliver an integration event to this service's subscribers, as Kafka would."""
        await self.broker.publish(event.model_dump_json().encode(), topic=event.TOPIC,
                                  key=event.partition_key.encode())

    async def publish_trip(self, summary, customers: tuple[str, ...] | list[str] = (),
                           tenant: str = "tenant-a") -> None:
        """Tell this service of a trip and who travels on it, as the itinerary service would: created (version 1),
        then the customers linked (version 2, the first a point of contact)."""
        from trip_shared.contracts.itinerary import CustomerLinked, ItineraryCreated, ItineraryMember, MembershipChange

        envelope = {"tenant_id": tenant, "aggregate_id": summary.itinerary_id, "trip_id": summary.itinerary_id,
                    "producer": "itinerary"}
        await self.publish(ItineraryCreated(aggregate_version=1, data=summary, **envelope))
        if customers:
            await self.publish(CustomerLinked(aggregate_version=2, **envelope, data=MembershipChange(
                itinerary=summary, customer_id=customers[0], is_poc=True,
                customers=[ItineraryMember(customer_id=c, is_poc=c == customers[0]) for c in customers])))

    async def emitted(self, contract) -> list:
        """The events of ``contract`` this service has put in its outbox, oldest first."""
        rows = self.runtime.outbox.rows.find({"event_type": contract.TOPIC}).sort("_id", 1)
        return [contract.model_validate_json(row["payload"]) async for row in rows]

    async def flush_outbox(self) -> int:
        """Publish everything the outbox holds now (to the in-memory broker); returns how many were published."""
        return await self.runtime.relay.drain()


@asynccontextmanager
async def running_service(app: FastAPI) -> AsyncIterator[RunningService]:
    runtime: ServiceRuntime = app.state.runtime
    async with TestKafkaBroker(runtime.broker) as broker:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield RunningService(app=app, client=client, broker=broker)


@asynccontextmanager
async def listening(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serve ``app`` (already started by :func:`running_service`) over real HTTP on ``port`` too, for what calls it
    from outside: a provider's delivery reports, a browser's event stream."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def assert_every_v1_route_requires_auth(service: RunningService) -> int:
    """Call every ``/v1`` route without a key and with a bad key: each must answer 401 problem details.

    Returns the number of routes checked, so a test can also assert the API is not empty.
    """
    # The OpenAPI document lists every route, including those of included routers.
    checked = 0
    for template, operations in service.app.openapi()["paths"].items():
        if not template.startswith("/v1"):
            continue
        path = re.sub(r"{[^}]+}", "some-id", template)
        for method in operations:
            for headers in ({}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic abc"}):
                response = await service.client.request(method.upper(), path, headers=headers, json={})
                assert response.status_code == 401, f"{method} {template} answered {response.status_code} without auth"
                assert response.headers["content-type"] == "application/problem+json"
            checked += 1
    return checked


def unbounded_inputs(app: FastAPI) -> list[str]:
    """Every request body field and query parameter a client can make arbitrarily large: strings without a
    ``maxLength`` (or enum, format, or digit bound), numbers without a ``maximum``, arrays without ``maxItems``,
    open-ended maps. Path parameters are bounded by the server's limit on the request line."""
    spec = app.openapi()
    definitions = spec.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(schema: dict, where: str, seen: frozenset[str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(definitions[name], where, seen | {name})
            return
        alternatives = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
        # A Decimal is "number or numeric string": bounded when the number is.
        is_decimal = any(alt.get("type") == "number" and "maximum" in alt for alt in alternatives) and any(
            alt.get("type") == "string" for alt in alternatives)
        for alternative in alternatives:
            if not (is_decimal and alternative.get("type") == "string"):
                walk(alternative, where, seen)
        kind = schema.get("type")
        if kind == "string" and not ({"maxLength", "enum", "const"} & set(schema)) \
                and schema.get("format") not in ("date", "date-time", "uuid"):
            found.append(where)
        if kind in ("integer", "number") and not ({"maximum", "exclusiveMaximum", "enum"} & set(schema)) \
                and not is_decimal:
            found.append(where)  # MongoDB stores 8-byte integers: an unbounded one can overflow a query
        if kind == "array":
            if "maxItems" not in schema:
                found.append(f"{where}[]")
            walk(schema.get("items", {}), f"{where}[]", seen)
        for name, child in schema.get("properties", {}).items():
            walk(child, f"{where}.{name}", seen)
        if isinstance(schema.get("additionalProperties"), dict) and "maxProperties" not in schema:
            found.append(f"{where}{{*}}")

    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {template}"
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{label} body", frozenset())
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    walk(parameter.get("schema", {}), f"{label} {parameter['in']} {parameter['name']}", frozenset())
    return found
