"""MongoDB persistence of bookings and of the itineraries read model, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from booking.domain.model import Booking
from trip_shared.mongo import TenantCollection
from trip_shared.read_models import apply_if_newer

BOOKINGS, KNOWN_ITINERARIES = "bookings", "known_itineraries"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[BOOKINGS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING), ("created_at", ASCENDING)])
    await db[KNOWN_ITINERARIES].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])


def _to_document(booking: Booking) -> dict:
    document = asdict(booking)
    document["_id"] = document.pop("id")
    return document


def _from_document(document: dict) -> Booking:
    document = dict(document)
    return Booking(id=document.pop("_id"), **document)


class BookingRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._bookings = collection

    async def get(self, booking_id: str) -> Booking | None:
        document = await self._bookings.find_one({"_id": booking_id})
        return _from_document(document) if document else None

    async def add(self, booking: Booking) -> None:
        await self._bookings.insert_one(_to_document(booking))

    async def save(self, booking: Booking, expected_version: int) -> None:
        await self._bookings.replace_at_version(booking.id, expected_version, _to_document(booking), "booking")

    async def for_itinerary(self, itinerary_id: str) -> list[Booking]:
        cursor = self._bookings.find({"itinerary_id": itinerary_id}).sort("created_at", ASCENDING)
        return [_from_document(doc) async for doc in cursor]


class KnownItineraries:
    """What booking knows of itineraries, only from ``itinerary.*`` events."""

    def __init__(self, collection: TenantCollection) -> None:
        self._itineraries = collection

    async def get(self, itinerary_id: str) -> dict | None:
        return await self._itineraries.find_one({"_id": itinerary_id})

    async def apply(self, itinerary_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._itineraries, itinerary_id, version, fields)
