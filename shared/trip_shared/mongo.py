"""MongoDB access shared by every service: one client per process, transactions, tenant-scoped collections."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from trip_shared.errors import ConflictError

T = TypeVar("T")


async def read_all(reads: Iterable[Awaitable[Any]], *, in_transaction: bool) -> list[Any]:
    """The answers of independent reads, in order: concurrently outside a transaction (each on its own
    connection, so the wait is one round trip, not one per read), one at a time inside one (a session takes one
    operation at a time)."""
    if in_transaction:
        return [await read for read in reads]
    return list(await asyncio.gather(*reads))


class MongoStore:
    def __init__(self, url: str, database: str) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(
            url, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=5000, appname=database
        )
        self.db: AsyncDatabase = self.client[database]

    async def run_in_transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run ``work`` in a multi-document transaction; transient conflicts re-run it from the start."""
        async with self.client.start_session() as session:
            return await session.with_transaction(work)

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.client.close()


async def take_one(collection: AsyncCollection, query: Mapping[str, Any], update: Mapping[str, Any], *,
                   sort: list | None = None, attempts: int = 1) -> dict | None:
    """A findAndModify made of a find and an update conditional on the document still matching: SecantusDB
    answers every findAndModify by scanning the whole collection (750 ms at 60,000 documents, even by ``_id``),
    where a find and an update_one use the indexes (1–2 ms). The document as it was before, or None when there is
    none; a writer who took the one found first makes it look again, ``attempts`` times in all."""
    for _ in range(attempts):
        found = await collection.find_one(query, sort=sort)
        if found is None:
            return None
        if (await collection.update_one({**query, "_id": found["_id"]}, update)).modified_count:
            return found
    return None


class TenantCollection:
    """A collection seen through one tenant: every filter and every new document carries ``tenant_id``.

    Repositories use this instead of raw collections, so no query can reach another agency's documents.
    """

    def __init__(self, collection: AsyncCollection, tenant_id: str, session: AsyncClientSession | None,
                 on_write: Callable[[], None] | None = None) -> None:
        if not tenant_id:
            raise ValueError("tenant_id is required")
        self._collection = collection
        self.tenant_id = tenant_id
        self._session = session
        self._on_write = on_write or (lambda: None)

    @property
    def in_transaction(self) -> bool:
        return self._session is not None

    def _scoped(self, filter_: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**(filter_ or {}), "tenant_id": self.tenant_id}

    async def find_one(self, filter_: Mapping[str, Any], **kwargs: Any) -> dict | None:
        return await self._collection.find_one(self._scoped(filter_), session=self._session, **kwargs)

    def find(self, filter_: Mapping[str, Any] | None = None, **kwargs: Any):
        return self._collection.find(self._scoped(filter_), session=self._session, **kwargs)

    async def count_documents(self, filter_: Mapping[str, Any] | None = None) -> int:
        return await self._collection.count_documents(self._scoped(filter_), session=self._session)

    async def insert_one(self, document: Mapping[str, Any]) -> None:
        self._on_write()
        await self._collection.insert_one({**document, "tenant_id": self.tenant_id}, session=self._session)

    async def insert_many(self, documents: list[Mapping[str, Any]]) -> None:
        self._on_write()
        if documents:
            await self._collection.insert_many([{**doc, "tenant_id": self.tenant_id} for doc in documents],
                                               session=self._session)

    async def replace_one(self, filter_: Mapping[str, Any], document: Mapping[str, Any], *, upsert: bool = False):
        self._on_write()
        return await self._collection.replace_one(
            self._scoped(filter_), {**document, "tenant_id": self.tenant_id}, upsert=upsert, session=self._session
        )

    async def replace_at_version(self, document_id: str, expected_version: int, document: Mapping[str, Any],
                                 what: str) -> None:
        """Optimistic concurrency: replace only if nobody changed the document since it was read at that version."""
        result = await self.replace_one({"_id": document_id, "version": expected_version}, document)
        if result.matched_count == 0:
            raise ConflictError(f"The {what} was changed by someone else meanwhile; reload and retry.",
                                code="concurrent-update")

    async def save_at_version(self, document_id: str, expected_version: int, document: Mapping[str, Any],
                              what: str) -> None:
        """Optimistic concurrency for a document that may not exist yet (version 0: a first save inserts it, and
        a concurrent first save loses)."""
        if expected_version:
            await self.replace_at_version(document_id, expected_version, document, what)
            return
        try:
            await self.insert_one({**document, "_id": document_id})
        except DuplicateKeyError:
            raise ConflictError(f"The {what} was changed by someone else meanwhile; reload and retry.",
                                code="concurrent-update") from None

    async def update_one(self, filter_: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False):
        self._on_write()
        return await self._collection.update_one(self._scoped(filter_), update, upsert=upsert, session=self._session)

    async def update_many(self, filter_: Mapping[str, Any], update: Mapping[str, Any]):
        self._on_write()
        return await self._collection.update_many(self._scoped(filter_), update, session=self._session)

    async def delete_one(self, filter_: Mapping[str, Any]):
        self._on_write()
        return await self._collection.delete_one(self._scoped(filter_), session=self._session)

    async def delete_many(self, filter_: Mapping[str, Any]):
        self._on_write()
        return await self._collection.delete_many(self._scoped(filter_), session=self._session)
