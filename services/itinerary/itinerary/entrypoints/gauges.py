"""What itinerary tells Prometheus of its trips, read at each scrape: how many are at each stage."""
from __future__ import annotations

from itinerary.adapters.repository import trips_by_stage
from itinerary.domain.stages import STAGES
from trip_shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    trips = runtime.metrics.figures("trips", "Trips by stage, across agencies", ["stage"],
                                    always=[(stage,) for stage in STAGES])

    async def refresh() -> None:
        trips.replace({(stage,): count for stage, count in (await trips_by_stage(runtime.store.db)).items()
                       if stage in STAGES})

    runtime.metrics.before_scrape(refresh)
