"""Transactional outbox and its relay.

A use case writes its events to the ``outbox`` collection in the same transaction as its data (:meth:`Outbox.stage`).
The relay publishes pending rows to Kafka in the order they were written, retrying with backoff. Each row keeps its
attempts and last error, and :meth:`Outbox.backlog` reports what is waiting, so a stuck relay is visible on
``/readyz`` and ``/metrics`` instead of silently dropping events.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from opentelemetry import propagate, trace
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from trip_shared.contracts.envelope import Event

log = logging.getLogger(__name__)

PENDING, PUBLISHED = "pending", "published"
PUBLISHED_RETENTION = timedelta(days=7)
LEASE_DURATION = timedelta(seconds=15)

Publish = Callable[[str, str, bytes, dict[str, str]], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


def event_headers(event: Event) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "event_version": str(event.event_version),
        "tenant_id": event.tenant_id,
    }


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_pending_age_s: float
    failing: int
    last_error: str | None

    def as_dict(self) -> dict:
        return asdict(self)


class Outbox:
    COLLECTION = "outbox"

    def __init__(self, db: AsyncDatabase) -> None:
        self.rows = db[self.COLLECTION]
        self.leases = db["outbox_lease"]

    async def ensure_indexes(self) -> None:
        await self.rows.create_index([("status", ASCENDING), ("_id", ASCENDING)])
        await self.rows.create_index("event_id", unique=True)
        await self.rows.create_index(
            "published_at", expireAfterSeconds=int(PUBLISHED_RETENTION.total_seconds()), sparse=True
        )

    async def stage(self, session: AsyncClientSession, events: Sequence[Event]) -> None:
        # The trace context is stored with the row: the relay publishes later, from another task, and re-attaches
        # it so that HTTP request -> Kafka -> consumer stays one trace.
        trace_context: dict[str, str] = {}
        propagate.inject(trace_context)
        now = _now()
        await self.rows.insert_many(
            [
                {
                    "_id": ObjectId(),
                    "event_id": str(event.event_id),
                    "event_type": event.event_type,
                    "tenant_id": event.tenant_id,
                    "aggregate_id": event.aggregate_id,
                    "topic": event.TOPIC,
                    "key": event.partition_key,
                    "payload": event.model_dump_json(),
                    "headers": event_headers(event),
                    "trace_context": trace_context,
                    "status": PENDING,
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "last_error": None,
                }
                for event in events
            ],
            ordered=True,
            session=session,
        )

    async def forget_published(self, session: AsyncClientSession, tenant_id: str, aggregate_id: str) -> int:
        """Drop the copies of events already published about one aggregate (an erased customer's details);
        rows not yet published stay, so consumers still see every change in order."""
        result = await self.rows.delete_many({"tenant_id": tenant_id, "aggregate_id": aggregate_id,
                                              "status": PUBLISHED}, session=session)
        return result.deleted_count

    async def due(self, limit: int) -> list[dict]:
        cursor = self.rows.find({"status": PENDING}).sort("_id", ASCENDING).limit(limit)
        return await cursor.to_list(limit)

    async def mark_published(self, row_id: ObjectId) -> None:
        await self.rows.update_one(
            {"_id": row_id}, {"$set": {"status": PUBLISHED, "published_at": _now(), "last_error": None}}
        )

    async def mark_failed(self, row: dict, error: str, retry_in: timedelta) -> None:
        await self.rows.update_one(
            {"_id": row["_id"]},
            {"$set": {"last_error": error, "next_attempt_at": _now() + retry_in}, "$inc": {"attempts": 1}},
        )

    async def backlog(self) -> OutboxBacklog:
        pending = await self.rows.count_documents({"status": PENDING})
        oldest = await self.rows.find_one({"status": PENDING}, sort=[("_id", ASCENDING)])
        failing = await self.rows.count_documents({"status": PENDING, "attempts": {"$gt": 0}})
        age = (_now() - oldest["created_at"]).total_seconds() if oldest else 0.0
        return OutboxBacklog(pending, round(age, 3), failing, oldest.get("last_error") if oldest else None)

    async def acquire_lease(self, owner: str) -> bool:
        """One relay per database publishes at a time, so rows leave in the order they were written."""
        now = _now()
        try:
            await self.leases.find_one_and_update(
                {"_id": "relay", "$or": [{"owner": owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": owner, "expires_at": now + LEASE_DURATION}},
                upsert=True,
            )
            return True
        except DuplicateKeyError:
            return False

    async def release_lease(self, owner: str) -> None:
        await self.leases.delete_one({"_id": "relay", "owner": owner})


class OutboxRelay:
    """Publishes outbox rows to Kafka. Woken at once by :meth:`nudge` after a commit, and polls as a safety net."""

    BATCH = 200
    MAX_BACKOFF = timedelta(seconds=30)

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        poll_interval_s: float = 1.0,
        on_cycle: Callable[[OutboxBacklog | None, int, int], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self._publish = publish
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._poll_interval_s = poll_interval_s
        self._on_cycle = on_cycle
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"

    def nudge(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        try:
            await self.outbox.release_lease(self._owner)
        except Exception:  # the database may already be gone at shutdown; the lease just expires
            log.debug("could not release the relay lease", exc_info=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay cycle failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()

    async def drain(self) -> int:
        """Publish every due row in order; stop at the first failure so later events don't overtake it."""
        if not await self.outbox.acquire_lease(self._owner):
            return 0
        published = failed = 0
        while True:
            rows = await self.outbox.due(self.BATCH)
            if not rows:
                break
            blocked = False
            for row in rows:
                if row["next_attempt_at"] > _now():
                    blocked = True
                    break
                try:
                    await self._publish_row(row)
                except Exception as exc:  # broker down, topic missing, timeout: keep the row and back off
                    failed += 1
                    retry_in = min(self.MAX_BACKOFF, timedelta(seconds=0.5 * 2 ** min(row["attempts"], 6)))
                    await self.outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", retry_in)
                    log.warning(
                        "outbox publish failed; will retry",
                        extra={"event_id": row["event_id"], "topic": row["topic"], "attempt": row["attempts"] + 1},
                    )
                    blocked = True
                    break
                await self.outbox.mark_published(row["_id"])
                published += 1
            if blocked or len(rows) < self.BATCH:
                break
        if self._on_cycle:
            self._on_cycle(await self.outbox.backlog(), published, failed)
        return published

    async def _publish_row(self, row: dict) -> None:
        parent = propagate.extract(row.get("trace_context") or {})
        with self._tracer.start_as_current_span(
            f"outbox relay {row['topic']}",
            context=parent,
            attributes={"messaging.destination.name": row["topic"], "event.id": row["event_id"]},
        ):
            await self._publish(row["topic"], row["key"], row["payload"].encode(), dict(row["headers"]))
