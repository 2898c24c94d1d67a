"""Composition root of the itinerary service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from itinerary.adapters.repository import ensure_indexes
from itinerary.entrypoints import api, client_pages, consumers
from itinerary.service_layer import services
from itinerary.service_layer.unit_of_work import ItineraryUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.signed_links import LinkSigner

logger = logging.getLogger("itinerary.clock")


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("itinerary")
    runtime = ServiceRuntime(settings, uow_class=ItineraryUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    runtime.run_in_background(lambda: move_trips_on_the_clock(runtime), "stage clock")
    app = runtime.create_app(
        title="Itinerary service",
        description="The planner's workbench: trips, their day-by-day items, feasibility and pacing checks, budget, "
                    "stages, the customers travelling and their Points of Contact.",
        routers=[api.router, client_pages.router],
    )
    app.state.link_signer = LinkSigner(settings.link_signing_secret)
    return app


async def move_trips_on_the_clock(runtime: ServiceRuntime, interval_s: float = 30.0) -> None:
    """Trips start and end on their own: every half minute, move those whose first item began or last one ended."""
    while True:
        try:
            await services.move_due_itineraries(runtime.transaction)
        except Exception:  # a failed tick is retried by the next one; the loop must outlive a database hiccup
            logger.exception("moving trips on the clock failed")
        await asyncio.sleep(interval_s)
