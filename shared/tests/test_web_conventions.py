"""Problem details, API-key auth and structured logs behave the same in every service."""
import json
import logging

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, ConfigDict

from trip_shared.errors import ConflictError
from trip_shared.telemetry import JsonLogFormatter
from trip_shared.web.auth import ApiKeyRegistry, Principal, hash_key, require, v1_router
from trip_shared.web.problems import install_problem_handlers


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def build_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    class Runtime:
        api_keys = ApiKeyRegistry([
            {"name": "w", "tenant_id": "acme", "scopes": ["things:*"], "key_sha256": hash_key("writer")},
            {"name": "r", "tenant_id": "acme", "scopes": ["things:read"], "key": "reader"},
        ])

    app.state.runtime = Runtime()
    router = v1_router()

    @router.post("/things")
    async def create(body: Body, principal: Principal = require("things:write")) -> dict:
        if body.name == "taken":
            raise ConflictError("That name is taken.", code="name-taken")
        return {"tenant": principal.tenant_id}

    @router.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("secret internals")

    app.include_router(router)
    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


async def test_a_valid_key_maps_to_its_tenant(client):
    response = await client.post("/v1/things", json={"name": "x"}, headers=bearer("writer"))
    assert response.json() == {"tenant": "acme"}


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, {"name": "x"}, 401, "unauthorized"),
        (bearer("nope"), {"name": "x"}, 401, "unauthorized"),
        ({"Authorization": "writer"}, {"name": "x"}, 401, "unauthorized"),
        (bearer("reader"), {"name": "x"}, 403, "forbidden"),
        (bearer("writer"), {"nome": "x"}, 422, "invalid-request"),
        (bearer("writer"), {"name": "taken"}, 409, "name-taken"),
    ],
)
async def test_errors_are_problem_details(client, headers, body, status, code):
    response = await client.post("/v1/things", json=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["code"] == code
    assert problem["type"].endswith("/" + code) and problem["title"] and problem["detail"]
    assert problem["instance"] == "/v1/things"
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


async def test_malformed_json_is_a_400(client):
    response = await client.post("/v1/things", content=b'{"name": ', headers={**bearer("writer"),
                                                                              "content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "malformed-json"


async def test_unexpected_errors_do_not_leak_internals(client):
    response = await client.get("/v1/boom", headers=bearer("writer"))
    assert response.status_code == 500 and "secret" not in response.text
    assert response.json()["code"] == "internal-error"


async def test_unknown_routes_are_problem_details_too(client):
    response = await client.get("/nowhere")
    assert response.status_code == 404 and response.json()["code"] == "not-found"


def test_logs_are_json_with_the_active_trace_id():
    provider = TracerProvider()
    record = logging.makeLogRecord({"name": "t", "levelname": "INFO", "msg": "hello %s", "args": ("x",),
                                    "event_id": "e-1"})
    formatter = JsonLogFormatter("customers")
    with provider.get_tracer("t").start_as_current_span("work") as span:
        entry = json.loads(formatter.format(record))
    assert entry["message"] == "hello x" and entry["service"] == "customers" and entry["event_id"] == "e-1"
    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")
