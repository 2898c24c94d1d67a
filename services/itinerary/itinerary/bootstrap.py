"""Composition root of the itinerary service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from itinerary.adapters.repository import ensure_indexes
from itinerary.entrypoints import api, consumers
from itinerary.service_layer.unit_of_work import ItineraryUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("itinerary")
    runtime = ServiceRuntime(settings, uow_class=ItineraryUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    return runtime.create_app(
        title="Itinerary service",
        description="Trips, the customers travelling on them, and their Points of Contact.",
        routers=[api.router],
    )
