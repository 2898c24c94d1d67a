"""Composition root of the booking service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from booking.adapters.repository import ensure_indexes
from booking.entrypoints import api, consumers, supplier_api
from booking.service_layer.unit_of_work import BookingUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("booking")
    runtime = ServiceRuntime(settings, uow_class=BookingUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    return runtime.create_app(
        title="Booking service",
        description="The agency's suppliers, and the bookings of a trip's services with them.",
        routers=[api.router, supplier_api.router],
    )
