from __future__ import annotations

from itinerary.adapters.repository import ITINERARIES, KNOWN_CUSTOMERS, ItineraryRepository, KnownCustomers
from trip_shared.unit_of_work import UnitOfWork


class ItineraryUnitOfWork(UnitOfWork):
    def itineraries(self, tenant_id: str) -> ItineraryRepository:
        return ItineraryRepository(self.collection(ITINERARIES, tenant_id))

    def known_customers(self, tenant_id: str) -> KnownCustomers:
        return KnownCustomers(self.collection(KNOWN_CUSTOMERS, tenant_id))
