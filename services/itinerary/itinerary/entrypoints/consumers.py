"""Kafka subscribers of the itinerary service: it learns of customers and bookings only from their events."""
from __future__ import annotations

from itinerary.service_layer import services
from trip_shared.agency import record_agency_profile
from trip_shared.contracts import booking as booking_events
from trip_shared.contracts.agency import AgencyProfileChanged
from trip_shared.contracts.customers import (
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerErased,
    CustomersMerged,
    CustomerState,
    CustomerUpdated,
    PreferencesRecorded,
)
from trip_shared.contracts.feedback import IncidentReported
from trip_shared.contracts.notify import ChangeAgreementAnswered, NotificationRecovered, NotificationUndeliverable
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "itinerary"


def register(runtime: ServiceRuntime) -> None:
    consumer = runtime.consumer(GROUP_ID)
    consumer.handles(CustomerCreated)(services.record_customer)
    consumer.handles(CustomerUpdated)(services.record_customer)
    consumer.handles(CustomerDeactivated)(services.record_customer)
    # A database that never had the customers (a new one, a rebuilt one) gets them from customer.state first.
    runtime.rebuild_from_state_topic(CustomerState, services.rebuild_customer, services.forget_customer_copy)
    consumer.handles(CustomerDeleted)(services.customer_deleted)
    consumer.handles(CustomersMerged)(services.customers_merged)
    consumer.handles(CustomerErased)(services.customer_erased)
    consumer.handles(PreferencesRecorded)(services.record_preferences)
    # Pages, PDFs and vouchers carry the agency's profile as notify announced it.
    consumer.handles(AgencyProfileChanged)(record_agency_profile)
    runtime.rebuild_from_state_topic(AgencyProfileChanged, record_agency_profile)  # compacted: always there
    # What a client did not receive shows on their trip, until it reaches them.
    consumer.handles(NotificationUndeliverable)(services.record_delivery_problem)
    consumer.handles(NotificationRecovered)(services.record_delivery_problem)
    consumer.handles(ChangeAgreementAnswered)(services.record_agreement_answer)
    # A delay or cancellation of an item: what it does to the rest of the trip, for the planner to shift.
    consumer.handles(IncidentReported)(services.record_incident)
    # Each item shows its booking's status, whatever moved it.
    for contract in (booking_events.BookingRequested, booking_events.BookingConfirmed, booking_events.BookingDeclined,
                     booking_events.BookingExpired, booking_events.BookingAmendmentRequested,
                     booking_events.BookingCancellationRequested, booking_events.BookingCancelled,
                     booking_events.BookingRequirementsAcknowledged, booking_events.BookingNeedsAttention):
        consumer.handles(contract)(services.record_booking)
