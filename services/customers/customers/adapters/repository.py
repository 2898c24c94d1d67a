"""MongoDB persistence of customers, always within one tenant."""
from __future__ import annotations

import re
from dataclasses import asdict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from customers.domain.model import Customer
from trip_shared.mongo import TenantCollection

COLLECTION = "customers"


async def ensure_indexes(db: AsyncDatabase) -> None:
    customers = db[COLLECTION]
    await customers.create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    # Prefix search walks this index: anchored regexes on search_keys are index range scans, no $text needed.
    await customers.create_index([("tenant_id", ASCENDING), ("search_keys", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("sort_key", ASCENDING)])


def _to_document(customer: Customer) -> dict:
    document = asdict(customer)
    document["_id"] = document.pop("id")
    document["search_keys"] = customer.search_keys()
    document["sort_key"] = customer.sort_key
    return document


def _from_document(document: dict) -> Customer:
    document = dict(document)
    document["id"] = document.pop("_id")
    document.pop("search_keys", None)
    document.pop("sort_key", None)
    return Customer(**document)


class CustomerRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._customers = collection

    async def get(self, customer_id: str) -> Customer | None:
        document = await self._customers.find_one({"_id": customer_id})
        return _from_document(document) if document else None

    async def add(self, customer: Customer) -> None:
        await self._customers.insert_one(_to_document(customer))

    async def save(self, customer: Customer, expected_version: int) -> None:
        """Optimistic concurrency: refuse to overwrite a change made meanwhile by someone else."""
        await self._customers.replace_at_version(customer.id, expected_version, _to_document(customer), "customer")

    async def search(self, prefix: str, *, include_inactive: bool, limit: int, after: str | None) -> list[Customer]:
        """Customers with a search key starting with ``prefix``, in name order, ``limit`` at a time.

        ``after`` is the ``sort_key`` of the last customer of the previous page (keyset pagination).
        """
        query: dict = {}
        if prefix:
            query["search_keys"] = {"$regex": "^" + re.escape(prefix)}
        if not include_inactive:
            query["status"] = "active"
        if after:
            query["sort_key"] = {"$gt": after}
        cursor = self._customers.find(query).sort("sort_key", ASCENDING).limit(limit)
        return [_from_document(doc) async for doc in cursor]
