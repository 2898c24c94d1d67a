"""Kafka subscribers of the booking service: it learns of itineraries only from their events."""
from __future__ import annotations

from booking.service_layer import services
from trip_shared.contracts.itinerary import ItineraryChanged, ItineraryCreated
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "booking"


def register(runtime: ServiceRuntime) -> None:
    consumer = runtime.consumer(GROUP_ID)
    consumer.handles(ItineraryCreated)(services.record_itinerary)
    consumer.handles(ItineraryChanged)(services.record_itinerary)
