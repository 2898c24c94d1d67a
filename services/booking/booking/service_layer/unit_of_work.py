from __future__ import annotations

from booking.adapters.repository import (
    BOOKINGS,
    KNOWN_ITINERARIES,
    SUPPLIERS,
    BookingRepository,
    KnownItineraries,
    SupplierRepository,
)
from trip_shared.unit_of_work import UnitOfWork


class BookingUnitOfWork(UnitOfWork):
    def bookings(self, tenant_id: str) -> BookingRepository:
        return BookingRepository(self.collection(BOOKINGS, tenant_id))

    def known_itineraries(self, tenant_id: str) -> KnownItineraries:
        return KnownItineraries(self.collection(KNOWN_ITINERARIES, tenant_id))

    def suppliers(self, tenant_id: str) -> SupplierRepository:
        return SupplierRepository(self.collection(SUPPLIERS, tenant_id))
