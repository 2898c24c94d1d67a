"""MongoDB persistence of feedback and of the trips read model, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from feedback.domain.model import Feedback
from trip_shared.mongo import TenantCollection
from trip_shared.privacy import ERASED
from trip_shared.read_models import apply_if_newer

FEEDBACK, KNOWN_TRIPS = "feedback", "known_trips"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[FEEDBACK].create_index(
        [("tenant_id", ASCENDING), ("itinerary_id", ASCENDING), ("submitted_at", ASCENDING)])
    await db[KNOWN_TRIPS].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])


def _from_document(document: dict) -> Feedback:
    document = dict(document)
    return Feedback(id=document.pop("_id"), **document)


class FeedbackRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._feedback = collection

    async def add(self, feedback: Feedback) -> None:
        document = asdict(feedback)
        document["_id"] = document.pop("id")
        await self._feedback.insert_one(document)

    async def get(self, feedback_id: str) -> Feedback | None:
        document = await self._feedback.find_one({"_id": feedback_id})
        return _from_document(document) if document else None

    async def for_itinerary(self, itinerary_id: str) -> list[Feedback]:
        cursor = self._feedback.find({"itinerary_id": itinerary_id}).sort("submitted_at", ASCENDING)
        return [_from_document(doc) async for doc in cursor]


    async def scrub_comments_of(self, customer_id: str) -> int:
        """A traveller's own words are personal data; the rating stays for the trip's statistics."""
        result = await self._feedback.update_many({"customer_id": customer_id, "comment": {"$ne": None}},
                                                  {"$set": {"comment": ERASED}})
        return result.modified_count


class KnownTrips:
    """Trips and who travels on them, only from ``itinerary.*`` and membership events."""

    def __init__(self, collection: TenantCollection) -> None:
        self._trips = collection

    async def get(self, itinerary_id: str) -> dict | None:
        return await self._trips.find_one({"_id": itinerary_id})

    async def apply(self, itinerary_id: str, version: int, fields: dict, part: str | None = None) -> bool:
        return await apply_if_newer(self._trips, itinerary_id, version, fields, part=part)
