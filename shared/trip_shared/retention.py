"""Rows that have served their purpose go after their retention: processed inbox rows, published outbox rows,
answered idempotency keys.

A periodic sweep deletes them by a range on an indexed date, rather than TTL indexes: the embedded MongoDB server
(SecantusDB) answers a TTL index by reading and decoding every document of the collection each minute while it
holds its one storage lock, so with a history of a few hundred thousand rows every request on every service stalled
for seconds each minute (README, "What the embedded servers can't promise"). The same sweep runs on real MongoDB,
where it costs one indexed delete per collection a minute.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 60.0


@dataclass(frozen=True)
class Expiry:
    collection: AsyncCollection
    field: str  # a date: the row goes once it is older than max_age
    max_age: timedelta


async def ensure_expiry_index(collection: AsyncCollection, field: str, *, sparse: bool = False) -> None:
    """A plain index on ``field`` for the sweep; a TTL index on it from an earlier version is replaced."""
    for name, spec in (await collection.index_information()).items():
        if spec.get("key") == [(field, ASCENDING)] and "expireAfterSeconds" in spec:
            await collection.drop_index(name)
    await collection.create_index(field, sparse=sparse)


class RetentionSweeper:
    def __init__(self, expiries: list[Expiry]) -> None:
        self.expiries = expiries

    async def ensure_indexes(self) -> None:
        for expiry in self.expiries:
            await ensure_expiry_index(expiry.collection, expiry.field, sparse=True)

    async def sweep(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        removed = 0
        for expiry in self.expiries:
            result = await expiry.collection.delete_many({expiry.field: {"$lt": now - expiry.max_age}})
            removed += result.deleted_count
            if result.deleted_count:
                log.info("expired rows removed", extra={"collection": expiry.collection.name,
                                                        "removed": result.deleted_count})
        return removed
