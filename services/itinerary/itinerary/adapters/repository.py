"""MongoDB persistence of itineraries and of the customers read model, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from itinerary.domain.model import Itinerary, LinkedCustomer, Notice
from trip_shared.mongo import TenantCollection
from trip_shared.privacy import ERASED
from trip_shared.read_models import apply_if_newer

ITINERARIES = "itineraries"
KNOWN_CUSTOMERS = "known_customers"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("sort_key", DESCENDING)])
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("customers.customer_id", ASCENDING)])
    await db[KNOWN_CUSTOMERS].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])


def _to_document(itinerary: Itinerary) -> dict:
    document = asdict(itinerary)
    document["_id"] = document.pop("id")
    # BSON has no date type: ISO strings keep them exact and sortable.
    for name in ("start_date", "end_date"):
        document[name] = document[name].isoformat() if document[name] else None
    document["sort_key"] = f"{itinerary.created_at.isoformat()}\x00{itinerary.id}"
    return document


def _from_document(document: dict) -> Itinerary:
    document = dict(document)
    document["id"] = document.pop("_id")
    document.pop("sort_key", None)
    for name in ("start_date", "end_date"):
        document[name] = date.fromisoformat(document[name]) if document[name] else None
    document["customers"] = [LinkedCustomer(**linked) for linked in document["customers"]]
    document["notices"] = [Notice(**notice) for notice in document.get("notices", [])]
    return Itinerary(**document)


class ItineraryRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._itineraries = collection

    async def get(self, itinerary_id: str) -> Itinerary | None:
        document = await self._itineraries.find_one({"_id": itinerary_id})
        return _from_document(document) if document else None

    async def add(self, itinerary: Itinerary) -> None:
        await self._itineraries.insert_one(_to_document(itinerary))

    async def save(self, itinerary: Itinerary, expected_version: int) -> None:
        await self._itineraries.replace_at_version(itinerary.id, expected_version, _to_document(itinerary), "itinerary")

    async def with_customer(self, customer_id: str) -> list[Itinerary]:
        return [_from_document(doc) async for doc in self._itineraries.find({"customers.customer_id": customer_id})]

    async def list(self, *, customer_id: str | None, limit: int, before: str | None) -> list[Itinerary]:
        """Newest first; ``before`` is the sort key of the last itinerary of the previous page."""
        query: dict = {}
        if customer_id:
            query["customers.customer_id"] = customer_id
        if before:
            query["sort_key"] = {"$lt": before}
        cursor = self._itineraries.find(query).sort("sort_key", DESCENDING).limit(limit)
        return [_from_document(doc) async for doc in cursor]


def sort_key(itinerary: Itinerary) -> str:
    return _to_document(itinerary)["sort_key"]


class KnownCustomers:
    """What the itinerary service knows of customers, only from ``customer.*`` events."""

    def __init__(self, collection: TenantCollection) -> None:
        self._customers = collection

    async def get(self, customer_id: str) -> dict | None:
        return await self._customers.find_one({"_id": customer_id})

    async def get_many(self, customer_ids: list[str]) -> dict[str, dict]:
        return {doc["_id"]: doc async for doc in self._customers.find({"_id": {"$in": customer_ids}})}

    async def apply(self, customer_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._customers, customer_id, version, fields)

    async def scrub(self, customer_id: str) -> None:
        await self._customers.update_one({"_id": customer_id}, {"$set": {"first_name": ERASED, "last_name": None}})

    async def forget(self, customer_id: str) -> None:
        await self._customers.delete_one({"_id": customer_id})
