"""Composition root of the booking service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from booking.adapters.repository import ensure_indexes
from booking.entrypoints import api, consumers, gauges, supplier_api, supplier_callbacks, supplier_pages, vouchers
from booking.service_layer import services
from booking.service_layer.unit_of_work import BookingUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.signed_links import LinkSigner


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("booking")
    runtime = ServiceRuntime(settings, uow_class=BookingUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    link_signer = LinkSigner(settings.link_signing_secret)
    response_links = supplier_pages.SupplierLinks(link_signer, settings.base_url)
    consumers.register(runtime, response_links)
    gauges.register(runtime)
    app = runtime.create_app(
        title="Booking service",
        description="The agency's suppliers, the bookings of a trip's services with them from request to "
                    "confirmation, amendment or cancellation, and the page suppliers answer on.",
        routers=[api.router, supplier_api.router, supplier_pages.router, supplier_callbacks.router,
                 vouchers.router],
    )
    app.state.link_signer, app.state.response_links = link_signer, response_links
    app.state.voucher_links = vouchers.voucher_link_maker(app.state.link_signer, settings.base_url)
    # Suppliers who have not answered are chased, then the planner told; confirmed bookings are reconfirmed.
    runtime.run_periodically(lambda: services.follow_up_due(runtime.transaction, app.state.response_links), 60.0,
                             "follow-up-clock")
    return app
