"""The service's own record of every message its consumers gave up on, beside the copy on ``<topic>.dlq``.

Kafka keeps the dead-letter copy for tools and other teams; this record is what ``/v1/ops/dead-letters`` lists,
shows and replays, per agency, without anyone reading a topic from its beginning.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from bson import Binary
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

OPEN, REPLAYED = "open", "replayed"
# Messages whose agency cannot be read from them (undecodable, no tenant header) are filed here: only the Kafka
# copy and the metrics show them, since no agency's key may see what might be another agency's data.
UNATTRIBUTED = "-"


def _now() -> datetime:
    return datetime.now(UTC)


class DeadLetters:
    COLLECTION = "dead_letters"

    def __init__(self, db: AsyncDatabase) -> None:
        self.rows = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.rows.create_index([("tenant_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])

    async def record(self, *, group_id: str, topic: str, partition: int | str, offset: int | str, key: bytes | None,
                     body: bytes, headers: Mapping[str, str], error: str, attempts: int, tenant_id: str | None,
                     event_id: str | None) -> str:
        """Idempotent: the same message dead-lettered again (after a redelivery) is one record."""
        # Where it sat in the topic identifies a message; a broker that reports no offset (the in-memory test
        # broker) leaves the content to.
        where = f"{partition}:{offset}" if str(offset) != "" else hashlib.sha256(body).hexdigest()[:24]
        record_id = f"{group_id}:{topic}:{where}"
        await self.rows.update_one(
            {"_id": record_id},
            {"$setOnInsert": {"group_id": group_id, "topic": topic, "partition": partition, "offset": offset,
                              "key": Binary(key) if key else None, "body": Binary(body), "headers": dict(headers),
                              "error": error, "attempts": attempts, "tenant_id": tenant_id or UNATTRIBUTED,
                              "event_id": event_id, "status": OPEN, "dead_lettered_at": _now()}},
            upsert=True)
        return record_id

    async def find(self, tenant_id: str, status: str, limit: int) -> list[dict]:
        cursor = self.rows.find({"tenant_id": tenant_id, "status": status}, {"body": 0}).sort("_id", DESCENDING)
        return await cursor.limit(limit).to_list(limit)

    async def get(self, tenant_id: str, record_id: str) -> dict | None:
        return await self.rows.find_one({"_id": record_id, "tenant_id": tenant_id})

    async def with_key(self, tenant_id: str, key: str, limit: int) -> list[dict]:
        """Messages of one Kafka key (a trip's) the consumers gave up on, oldest first."""
        cursor = self.rows.find({"tenant_id": tenant_id, "key": Binary(key.encode())}, {"body": 0}).sort("_id", 1)
        return await cursor.limit(limit).to_list(limit)

    async def mark_replayed(self, record_id: str, actor: str, outcome: str) -> None:
        await self.rows.update_one({"_id": record_id}, {"$set": {"status": REPLAYED, "replayed_by": actor,
                                                                 "replayed_at": _now(), "replay_outcome": outcome}})

    async def note_failed_replay(self, record_id: str, error: str) -> None:
        await self.rows.update_one({"_id": record_id}, {"$set": {"last_replay_error": error,
                                                                 "last_replay_at": _now()}})

    async def count_open(self) -> int:
        return await self.rows.count_documents({"status": OPEN})

    async def open_by_topic(self) -> dict[tuple[str, str], int]:
        """Open dead letters (waiting for an operator) per (group, topic), across agencies, for ops."""
        counts = self.rows.aggregate([{"$match": {"status": OPEN}},
                                      {"$group": {"_id": {"group": "$group_id", "topic": "$topic"}, "n": {"$sum": 1}}}])
        return {(row["_id"]["group"], row["_id"]["topic"]): row["n"] async for row in await counts}
