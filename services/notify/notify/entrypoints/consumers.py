"""Kafka subscribers of the notify service: contacts and trips from their owners' events, POC changes, bookings,
incidents, complaints and surveys."""
from __future__ import annotations

from notify.service_layer.services import NotifyHandlers
from trip_shared.contracts.booking import (
    BookingAmendmentRequested,
    BookingCancellationRequested,
    BookingCancelled,
    BookingConfirmed,
    BookingDeclined,
    BookingEscalated,
    BookingRequested,
    BookingSupplierReminded,
)
from trip_shared.contracts.customers import (
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerErased,
    CustomersMerged,
    CustomerState,
    CustomerUpdated,
    EmailConfirmationRequested,
    ProfileLinkIssued,
)
from trip_shared.contracts.feedback import (
    ComplaintRecorded,
    ComplaintUpdated,
    IncidentEscalated,
    SurveyIssued,
    SurveyReminderDue,
)
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    FinalDocumentsIssued,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryState,
    PocChanged,
    ProposalAnswered,
    ProposalSent,
)
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "notify"


def register(runtime: ServiceRuntime, handlers: NotifyHandlers) -> None:
    consumer = runtime.consumer(GROUP_ID)
    for contract in (CustomerCreated, CustomerUpdated, CustomerDeactivated):
        consumer.handles(contract)(handlers.record_contact)
    # A database that never had the contacts (a new one, a rebuilt one) gets them from customer.state first.
    runtime.rebuild_from_state_topic(CustomerState, handlers.record_contact, handlers.forget_contact_copy)
    consumer.handles(ItineraryCreated)(handlers.record_trip)
    runtime.rebuild_from_state_topic(ItineraryState, handlers.rebuild_trip)
    consumer.handles(ItineraryChanged)(handlers.itinerary_changed)
    for contract in (CustomerLinked, CustomerUnlinked, PocChanged):
        consumer.handles(contract)(handlers.membership_changed)
    consumer.handles(BookingConfirmed)(handlers.booking_confirmed)
    consumer.handles(BookingDeclined)(handlers.booking_changed)
    consumer.handles(BookingCancelled)(handlers.booking_changed)
    consumer.handles(BookingSupplierReminded)(handlers.supplier_message)
    for contract in (BookingRequested, BookingAmendmentRequested, BookingCancellationRequested):
        consumer.handles(contract)(handlers.supplier_and_status)
    consumer.handles(BookingEscalated)(handlers.booking_escalated)
    consumer.handles(IncidentEscalated)(handlers.incident_escalated)
    consumer.handles(ComplaintRecorded)(handlers.complaint_recorded)
    consumer.handles(ComplaintUpdated)(handlers.complaint_updated)
    consumer.handles(SurveyIssued)(handlers.survey_invitation)
    consumer.handles(SurveyReminderDue)(handlers.survey_invitation)
    consumer.handles(CustomerDeleted)(handlers.customer_deleted)
    consumer.handles(CustomersMerged)(handlers.customers_merged)
    consumer.handles(CustomerErased)(handlers.customer_erased)
    consumer.handles(ProfileLinkIssued)(handlers.profile_link_issued)
    consumer.handles(EmailConfirmationRequested)(handlers.email_confirmation_requested)
    consumer.handles(ProposalSent)(handlers.proposal_sent)
    consumer.handles(ProposalAnswered)(handlers.proposal_answered)
    consumer.handles(FinalDocumentsIssued)(handlers.final_documents_issued)
