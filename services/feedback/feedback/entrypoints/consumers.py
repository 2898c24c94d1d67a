"""Kafka subscribers of the feedback service: trips and their travellers, only from itinerary events."""
from __future__ import annotations

from feedback.service_layer import services
from trip_shared.contracts import booking as booking_events
from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryState,
    PocChanged,
)
from trip_shared.contracts.notify import UrgentMessageAcknowledged, UrgentMessageSent
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "feedback"


def register(runtime: ServiceRuntime) -> None:
    consumer = runtime.consumer(GROUP_ID)
    for contract in (ItineraryCreated, ItineraryChanged):
        consumer.handles(contract)(services.record_itinerary)
    for contract in (CustomerLinked, CustomerUnlinked, PocChanged):
        consumer.handles(contract)(services.record_membership)
    # A database that never had the trips (a new one, a rebuilt one) gets them from itinerary.state first.
    runtime.rebuild_from_state_topic(ItineraryState, services.rebuild_trip)
    consumer.handles(CustomerErased)(services.customer_erased)
    # The operations view flags what is not confirmed, and suppliers past their answer deadline.
    for contract in (booking_events.BookingRequested, booking_events.BookingConfirmed, booking_events.BookingDeclined,
                     booking_events.BookingExpired, booking_events.BookingAmendmentRequested,
                     booking_events.BookingCancellationRequested, booking_events.BookingCancelled):
        consumer.handles(contract)(services.record_booking)
    # ... and urgent news its clients have not confirmed reading.
    for contract in (UrgentMessageSent, UrgentMessageAcknowledged):
        consumer.handles(contract)(services.record_urgent_message)
