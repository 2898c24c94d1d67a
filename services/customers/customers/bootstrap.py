"""Composition root of the customers service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from customers.adapters.repository import ensure_indexes
from customers.entrypoints import api, consumers
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("customers")
    runtime = ServiceRuntime(settings, uow_class=CustomersUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    return runtime.create_app(
        title="Customers service",
        description="The agency's client records: create, find as you type, update, deactivate.",
        routers=[api.router],
    )
