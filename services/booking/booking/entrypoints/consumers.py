"""Kafka subscribers of the booking service: it learns of trips, their items and travellers only from events."""
from __future__ import annotations

from functools import partial

from booking.service_layer import services
from trip_shared.agency import record_agency_profile
from trip_shared.contracts.agency import AgencyProfileChanged
from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.feedback import SupplierScorecardChanged
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryState,
    PocChanged,
)
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "booking"


def register(runtime: ServiceRuntime, response_links: services.MakeResponseLink) -> None:
    consumer = runtime.consumer(GROUP_ID)
    # A trip shifted around a disruption sends its amendments at once, each with the supplier's answer link.
    record_itinerary = partial(services.record_itinerary, make_link=response_links)
    for contract in (ItineraryCreated, ItineraryChanged, CustomerLinked, CustomerUnlinked, PocChanged):
        consumer.handles(contract)(record_itinerary)
    # A database that never had the trips (a new one, a rebuilt one) gets them from itinerary.state first.
    runtime.rebuild_from_state_topic(ItineraryState, services.rebuild_itinerary)
    consumer.handles(CustomerErased)(services.customer_erased)
    # Pages, PDFs and vouchers carry the agency's profile as notify announced it.
    consumer.handles(AgencyProfileChanged)(record_agency_profile)
    runtime.rebuild_from_state_topic(AgencyProfileChanged, record_agency_profile)  # compacted: always there
    # How each supplier does by the agency's records, shown with the supplier.
    consumer.handles(SupplierScorecardChanged)(services.record_scorecard)
