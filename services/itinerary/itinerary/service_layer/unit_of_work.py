from __future__ import annotations

from datetime import datetime

from itinerary.adapters.repository import (
    AGENCY_SETTINGS,
    AUDIT,
    BOOKINGS,
    CUSTOMER_PREFERENCES,
    DELIVERY_PROBLEMS,
    DISRUPTIONS,
    FINAL_DOCUMENTS,
    ITINERARIES,
    KNOWN_CUSTOMERS,
    AgencySettingsRepository,
    AuditTrail,
    CustomerPreferences,
    DeliveryProblems,
    Disruptions,
    FinalDocuments,
    ItemBookings,
    ItineraryRepository,
    KnownCustomers,
    documents_due,
    due_for_a_move,
)
from trip_shared.unit_of_work import UnitOfWork


class ItineraryUnitOfWork(UnitOfWork):
    def itineraries(self, tenant_id: str) -> ItineraryRepository:
        return ItineraryRepository(self.collection(ITINERARIES, tenant_id))

    def known_customers(self, tenant_id: str) -> KnownCustomers:
        return KnownCustomers(self.collection(KNOWN_CUSTOMERS, tenant_id))

    def preferences(self, tenant_id: str) -> CustomerPreferences:
        return CustomerPreferences(self.collection(CUSTOMER_PREFERENCES, tenant_id))

    def audit(self, tenant_id: str) -> AuditTrail:
        return AuditTrail(self.collection(AUDIT, tenant_id))

    def bookings(self, tenant_id: str) -> ItemBookings:
        return ItemBookings(self.collection(BOOKINGS, tenant_id))

    def delivery_problems(self, tenant_id: str) -> DeliveryProblems:
        return DeliveryProblems(self.collection(DELIVERY_PROBLEMS, tenant_id))

    def disruptions(self, tenant_id: str) -> Disruptions:
        return Disruptions(self.collection(DISRUPTIONS, tenant_id))

    def final_documents(self, tenant_id: str) -> FinalDocuments:
        return FinalDocuments(self.collection(FINAL_DOCUMENTS, tenant_id))

    async def documents_due(self) -> list[tuple[str, str]]:
        """(tenant, itinerary) pairs whose final documents wait to be issued, across every agency."""
        return await documents_due(self.db)

    def agency_settings(self, tenant_id: str) -> AgencySettingsRepository:
        return AgencySettingsRepository(self.collection(AGENCY_SETTINGS, tenant_id))

    async def due_for_a_move(self, now: datetime) -> list[tuple[str, str]]:
        """(tenant, itinerary) pairs the clock moves now: the one query that spans every agency."""
        return await due_for_a_move(self.db, now)
