"""Every service's OpenAPI says what its edge does: the Bearer API key, Idempotency-Key on POSTs, and only the
shared errors each route can answer, in the problem+json shape, with examples."""
from fastapi import Depends
from opentelemetry.sdk.trace import TracerProvider

from trip_shared.preconditions import Precondition
from trip_shared.runtime import ServiceRuntime
from trip_shared.testing.service import component_settings
from trip_shared.web import conditional
from trip_shared.web.auth import Principal, require, v1_router


def documented_app():
    runtime = ServiceRuntime(component_settings("docs", "mongodb://127.0.0.1:9", "docs"),
                             tracer_provider=TracerProvider())
    router = v1_router()

    @router.get("/things/{thing_id}")
    async def read(thing_id: str, principal: Principal = require("things:read")) -> dict:
        return {}

    @router.post("/things", status_code=201)
    async def create(principal: Principal = require("things:write")) -> dict:
        return {}

    @router.patch("/things/{thing_id}")
    async def change(thing_id: str, precondition: Precondition | None = Depends(conditional.if_match),
                     principal: Principal = require("things:write")) -> dict:
        return {}

    return runtime.create_app(title="Things", description="", routers=[router])


def test_the_openapi_declares_the_api_key_and_only_the_errors_each_route_can_answer():
    spec = documented_app().openapi()
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["ApiKey"][
            "description"]}
    read = spec["paths"]["/v1/things/{thing_id}"]["get"]
    create = spec["paths"]["/v1/things"]["post"]
    change = spec["paths"]["/v1/things/{thing_id}"]["patch"]
    for operation in (read, create, change):
        assert operation["security"] == [{"ApiKey": []}]
        for status in ("400", "401", "403", "404", "422", "503"):
            assert "application/problem+json" in operation["responses"][status]["content"], status
    assert "409" not in read["responses"] and "412" not in read["responses"], "a read changes nothing"
    assert "409" in create["responses"] and "412" not in create["responses"]
    assert "412" in change["responses"], "it takes If-Match"
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    example = create["responses"]["422"]["content"]["application/problem+json"]["example"]
    assert example["status"] == 422 and example["code"] == "invalid-request"
    assert "/healthz" in spec["paths"] and "security" not in spec["paths"]["/healthz"]["get"]


def test_every_example_in_every_services_documents_is_valid_by_its_own_schema():
    import importlib

    import jsonschema_rs  # Schemathesis's own validator

    checked = 0
    for service in ("customers", "itinerary", "booking", "notify", "feedback"):
        create_app = importlib.import_module(f"{service}.bootstrap").create_app
        spec = create_app(component_settings(service, "mongodb://127.0.0.1:9", service),
                          tracer_provider=TracerProvider()).openapi()
        for name, schema in spec["components"]["schemas"].items():
            for example in schema.get("examples", []):
                # The component's $refs point into the document: validate inside a copy of its components.
                validator = jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                                                "components": spec["components"]})
                errors = [error.message for error in validator.iter_errors(example)]
                assert errors == [], (service, name, errors)
                checked += 1
    assert checked >= 6
