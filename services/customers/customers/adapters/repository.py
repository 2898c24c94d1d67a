"""MongoDB persistence of customers, their history and consultations, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from customers.domain.consultation import Consultation
from customers.domain.model import Customer, SearchQuery
from trip_shared.clock import utc_now
from trip_shared.mongo import TenantCollection
from trip_shared.privacy import ERASED
from trip_shared.text import fold

CUSTOMERS, HISTORY, CONSULTATIONS, ERASURES = "customers", "customer_history", "consultations", "erasures"
_DATE_FIELDS = ("date_of_birth", "passport_expiry")


async def ensure_indexes(db: AsyncDatabase) -> None:
    customers = db[CUSTOMERS]
    await customers.create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    # Search looks up prefixes and phone-digit runs by equality (see Customer.index_terms); no $text needed.
    await customers.create_index([("tenant_id", ASCENDING), ("search_prefixes", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("phone_grams", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("search_keys", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("sort_key", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("emails", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("phones", ASCENDING)])
    await db[HISTORY].create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("version", ASCENDING)])
    await db[CONSULTATIONS].create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING),
                                          ("version", DESCENDING)], unique=True)


def plain(value):
    """BSON has no date type: dates are kept as ISO strings (exact and sortable)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _to_document(customer: Customer) -> dict:
    document = plain(asdict(customer))
    document["_id"] = document.pop("id")
    document["search_keys"] = customer.search_keys()
    document["phone_digits"] = customer.phone_digits()
    document.update(customer.index_terms())
    document["sort_key"] = customer.sort_key
    return document


def _from_document(document: dict) -> Customer:
    document = dict(document)
    document["id"] = document.pop("_id")
    for derived in ("search_keys", "phone_digits", "search_prefixes", "phone_grams", "sort_key"):
        document.pop(derived, None)
    for name in _DATE_FIELDS:
        document[name] = date.fromisoformat(document[name]) if document.get(name) else None
    return Customer(**document)


class CustomerRepository:
    def __init__(self, customers: TenantCollection, history: TenantCollection,
                 consultations: TenantCollection) -> None:
        self._customers = customers
        self._history = history
        self._consultations = consultations

    async def get(self, customer_id: str) -> Customer | None:
        document = await self._customers.find_one({"_id": customer_id})
        return _from_document(document) if document else None

    async def add(self, customer: Customer) -> None:
        await self._customers.insert_one(_to_document(customer))

    async def save(self, customer: Customer, expected_version: int) -> None:
        """Optimistic concurrency: refuse to overwrite a change made meanwhile by someone else."""
        await self._customers.replace_at_version(customer.id, expected_version, _to_document(customer), "customer")

    async def delete(self, customer: Customer, actor: str) -> None:
        """Remove the record, its consultations and its history; a tombstone says who deleted it and when."""
        await self._customers.delete_one({"_id": customer.id})
        await self._consultations.delete_many({"customer_id": customer.id})
        await self._history.delete_many({"customer_id": customer.id})
        await self._history.insert_one({"_id": f"{customer.id}:deleted", "customer_id": customer.id,
                                        "version": customer.version + 1, "at": utc_now(), "actor": actor,
                                        "action": "deleted", "changes": []})

    async def erase_records(self, customer: Customer, actor: str) -> None:
        """Consultations go; history keeps who changed what and when, but not the values."""
        await self._consultations.delete_many({"customer_id": customer.id})
        await self._history.update_many({"customer_id": customer.id}, {"$set": {"changes.$[].before": ERASED,
                                                                                "changes.$[].after": ERASED}})
        await self.record_history(customer, actor, "erased", [])

    async def possible_duplicates(self, customer: Customer, limit: int = 50) -> list[Customer]:
        """Customers sharing an e-mail or phone with ``customer``, or its full name."""
        alternatives: list[dict] = []
        if customer.emails:
            alternatives.append({"emails": {"$in": customer.emails}})
        if customer.phones:
            alternatives.append({"phones": {"$in": customer.phones}})
        if customer.last_name:
            alternatives.append({"search_keys": fold(customer.full_name)})
            # Same family name and first initial: near-identical first names are then checked one by one.
            alternatives.append({"search_keys": fold(customer.last_name),
                                 "search_prefixes": fold(customer.first_name)[:1]})
        if not alternatives:
            return []
        cursor = self._customers.find({"$or": alternatives, "_id": {"$ne": customer.id},
                                       "status": {"$ne": "merged"}}).limit(limit)
        return [_from_document(doc) async for doc in cursor]

    async def search(self, query: SearchQuery, *, include_inactive: bool, limit: int,
                     after: str | None) -> list[Customer]:
        """Matching customers in name order, ``limit`` at a time; ``after`` is the previous page's last sort key."""
        criteria: dict = {}
        if query.lookup:
            field_name, value = query.lookup
            criteria[field_name] = value
        criteria["status"] = {"$in": ["active", "inactive"]} if include_inactive else "active"
        if after:
            criteria["sort_key"] = {"$gt": after}
        cursor = self._customers.find(criteria).sort("sort_key", ASCENDING)
        if not query.needs_check:
            return [_from_document(doc) async for doc in cursor.limit(limit)]
        # The index narrowed it to customers sharing the query's first characters; keep those matching it all.
        found = []
        async for document in cursor.batch_size(max(limit * 4, 100)):
            if query.matches(document.get("search_keys", []), document.get("phone_digits", [])):
                found.append(_from_document(document))
                if len(found) == limit:
                    break
        return found

    # --- history: who changed what, when ---------------------------------------------------------------------

    async def record_history(self, customer: Customer, actor: str, action: str,
                             changes: list[tuple[str, object, object]]) -> None:
        await self._history.insert_one({
            "_id": f"{customer.id}:{customer.version}", "customer_id": customer.id, "version": customer.version,
            "at": customer.updated_at, "actor": actor, "action": action,
            "changes": [{"field": name, "before": plain(before), "after": plain(after)}
                        for name, before, after in changes],
        })

    async def history(self, customer_id: str) -> list[dict]:
        cursor = self._history.find({"customer_id": customer_id}, projection={"_id": 0, "tenant_id": 0})
        return await cursor.sort("version", ASCENDING).to_list(None)

    # --- consultations ---------------------------------------------------------------------------------------

    async def latest_consultation_version(self, customer_id: str) -> int:
        latest = await self._consultations.find_one({"customer_id": customer_id}, sort=[("version", DESCENDING)])
        return latest["version"] if latest else 0

    async def add_consultation(self, consultation: Consultation) -> None:
        document = plain(asdict(consultation))
        document["_id"] = f"{consultation.customer_id}:{consultation.version}"
        await self._consultations.insert_one(document)

    async def consultations(self, customer_id: str) -> list[Consultation]:
        cursor = self._consultations.find({"customer_id": customer_id}, projection={"_id": 0})
        return [Consultation(**doc) async for doc in cursor.sort("version", DESCENDING)]


class ErasureRequests:
    """Who asked for an erasure, and which services have confirmed theirs."""

    def __init__(self, collection: TenantCollection) -> None:
        self._requests = collection

    async def open(self, customer_id: str, actor: str, expected: tuple[str, ...]) -> None:
        await self._requests.insert_one({"_id": customer_id, "requested_at": utc_now(), "requested_by": actor,
                                         "expected": list(expected), "confirmations": {}})

    async def confirm(self, customer_id: str, service: str, scrubbed: list[str]) -> None:
        await self._requests.update_one({"_id": customer_id}, {"$set": {
            f"confirmations.{service}": {"at": utc_now(), "scrubbed": scrubbed}}})

    async def get(self, customer_id: str) -> dict | None:
        return await self._requests.find_one({"_id": customer_id}, projection={"tenant_id": 0})
