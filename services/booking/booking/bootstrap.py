"""Composition root of the booking service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

import os

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from booking.adapters.repository import ensure_indexes
from booking.entrypoints import api, consumers
from booking.service_layer.unit_of_work import BookingUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None,
               itinerary_wait_s: float | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("booking")
    runtime = ServiceRuntime(settings, uow_class=BookingUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    app = runtime.create_app(
        title="Booking service",
        description="Vendor bookings for a trip and their confirmations.",
        routers=[api.router],
    )
    # How long a booking request waits for a just-created itinerary's event before answering 404.
    app.state.itinerary_wait_s = (itinerary_wait_s if itinerary_wait_s is not None
                                  else float(os.environ.get("BOOKING_ITINERARY_WAIT_S", "3")))
    return app
