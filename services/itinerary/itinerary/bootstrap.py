"""Composition root of the itinerary service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from itinerary.adapters.repository import ensure_indexes
from itinerary.entrypoints import api, client_pages, consumers, gauges
from itinerary.entrypoints.deliverables import final_documents
from itinerary.service_layer import services
from itinerary.service_layer.unit_of_work import ItineraryUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.signed_links import LinkSigner


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("itinerary")
    runtime = ServiceRuntime(settings, uow_class=ItineraryUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    gauges.register(runtime)
    # Trips start and end on their own: every half minute, move those whose first item began or last one ended.
    runtime.run_periodically(lambda: services.move_due_itineraries(runtime.transaction), 30.0, "stage-clock")
    # A trip that became booked (in a consumer's or the clock's transaction) has its final documents rendered here,
    # outside any transaction, within seconds.
    render = final_documents(runtime.agencies)
    runtime.run_periodically(lambda: services.issue_due_documents(runtime.transaction, render), 2.0,
                             "final-documents")
    app = runtime.create_app(
        title="Itinerary service",
        description="The planner's workbench: trips, their day-by-day items, feasibility and pacing checks, budget, "
                    "stages, the customers travelling and their Points of Contact.",
        routers=[api.router, client_pages.router],
    )
    app.state.link_signer = LinkSigner(settings.link_signing_secret)
    return app

