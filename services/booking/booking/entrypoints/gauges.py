"""What booking tells Prometheus of its bookings, read at each scrape: what suppliers have not answered, how long
they have had it, and what is still unconfirmed close to its date (the booking-readiness dashboard and alerts)."""
from __future__ import annotations

from booking.adapters.repository import awaiting_suppliers
from booking.domain.model import AWAITING
from booking.domain.readiness import AGE_BANDS, UNCONFIRMED_WITHIN, waiting_figures
from trip_shared.clock import utc_now
from trip_shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    metrics = runtime.metrics
    awaiting = metrics.figures(
        "bookings_awaiting_supplier", "Bookings waiting for the supplier's answer, by what is asked and for how long",
        ["status", "age"], always=[(status, band) for status in AWAITING for band, _ in AGE_BANDS])
    late = metrics.figures("bookings_late", "Bookings waiting for the supplier that were chased or escalated")
    unconfirmed = metrics.figures(
        "bookings_unconfirmed_before_service", "Requests and amendments the supplier has not answered, whose "
        "service starts within the window (or began less than a day ago)", ["within"],
        always=[(window,) for window, _ in UNCONFIRMED_WITHIN])

    async def refresh() -> None:
        figures = waiting_figures(await awaiting_suppliers(runtime.store.db), utc_now())
        awaiting.replace(figures.awaiting)
        late.replace({(): figures.late})
        unconfirmed.replace({(window,): count for window, count in figures.unconfirmed_before_service.items()})

    metrics.before_scrape(refresh)
