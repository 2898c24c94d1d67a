from __future__ import annotations

from datetime import datetime

from booking.adapters.repository import (
    BOOKINGS,
    CALLBACK_RECEIPTS,
    KNOWN_ITINERARIES,
    SCORECARDS,
    SETTINGS,
    SUPPLIERS,
    BookingRepository,
    CallbackReceipts,
    KnownItineraries,
    KnownScorecards,
    SettingsRepository,
    SupplierRepository,
    due_for_follow_up,
)
from trip_shared.unit_of_work import UnitOfWork


class BookingUnitOfWork(UnitOfWork):
    def bookings(self, tenant_id: str) -> BookingRepository:
        return BookingRepository(self.collection(BOOKINGS, tenant_id))

    def known_itineraries(self, tenant_id: str) -> KnownItineraries:
        return KnownItineraries(self.collection(KNOWN_ITINERARIES, tenant_id))

    def scorecards(self, tenant_id: str) -> KnownScorecards:
        return KnownScorecards(self.collection(SCORECARDS, tenant_id))

    def suppliers(self, tenant_id: str) -> SupplierRepository:
        return SupplierRepository(self.collection(SUPPLIERS, tenant_id))

    def settings(self, tenant_id: str) -> SettingsRepository:
        return SettingsRepository(self.collection(SETTINGS, tenant_id))

    async def due_for_follow_up(self, now: datetime) -> list[tuple[str, str]]:
        return await due_for_follow_up(self.db, now)

    def callback_receipts(self, tenant_id: str) -> CallbackReceipts:
        return CallbackReceipts(self.collection(CALLBACK_RECEIPTS, tenant_id))
