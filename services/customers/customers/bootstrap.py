"""Composition root of the customers service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from customers.adapters.repository import ensure_indexes
from customers.entrypoints import api, consumers, forms
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.signed_links import LinkSigner


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("customers")
    runtime = ServiceRuntime(settings, uow_class=CustomersUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    app = runtime.create_app(
        title="Customers service",
        description="The agency's client records: create, find as you type, update, deactivate.",
        routers=[api.router, forms.router],
    )
    app.state.link_signer = LinkSigner(settings.link_signing_secret)
    return app
