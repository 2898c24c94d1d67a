"""Transactional outbox and its relay.

A use case writes its events to the ``outbox`` collection in the same transaction as its data (:meth:`Outbox.stage`).
The relay publishes pending rows to Kafka in the order they were written *per partition key* (the trip, or else the
aggregate): that is the only order Kafka keeps anyway, and it means one trip's trouble never holds back another's.

- A broker that is down or slow stops the cycle; every row waits and is retried with backoff.
- A row Kafka refuses for what it is (too large, a topic it may not write) would fail forever: it is *parked* with
  its error, and the rows behind it of the same key are *held* so they don't overtake it. Everything else goes on.
  An operator retries or drops a parked row (``/v1/ops/outbox``), which releases the held rows in their order.
- Each row keeps its attempts and last error, and :meth:`Outbox.backlog` reports what waits and what is parked, on
  ``/readyz`` and ``/metrics``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import errors as kafka_errors
from bson import ObjectId
from opentelemetry import propagate, trace
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from trip_shared.contracts.envelope import Event, Tombstone
from trip_shared.errors import DomainError
from trip_shared.mongo import take_one
from trip_shared.retention import Expiry

log = logging.getLogger(__name__)

PENDING, PUBLISHED, PARKED, HELD, DROPPED = "pending", "published", "parked", "held", "dropped"
PUBLISHED_RETENTION = timedelta(days=7)
# Renewed at every batch, so a relay whose process died hands over within seconds.
LEASE_DURATION = timedelta(seconds=5)
# Below Kafka's default message.max.bytes (1 MiB) with room for the headers: a bigger event is refused at the
# source, in the request that would have written it, instead of being refused by Kafka after it was committed.
MAX_EVENT_BYTES = 900 * 1024

Publish = Callable[[str, str, bytes, dict[str, str]], Awaitable[None]]

# What Kafka refuses because of the record itself: retrying the same bytes can never succeed.
_REFUSED_RECORD = (
    kafka_errors.MessageSizeTooLargeError, kafka_errors.RecordTooLargeError, kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError, kafka_errors.TopicAuthorizationFailedError, kafka_errors.CorruptRecordException,
    kafka_errors.PolicyViolationError, kafka_errors.UnsupportedForMessageFormatError,
    ValueError, TypeError, KeyError,
)
# What says the broker itself is unreachable: every other row would fail the same way right now.
_BROKER_UNREACHABLE = (
    kafka_errors.KafkaConnectionError, kafka_errors.NodeNotReadyError, kafka_errors.NoBrokersAvailable,
    kafka_errors.KafkaTimeoutError, kafka_errors.RequestTimedOutError, kafka_errors.ProducerClosed,
    ConnectionError, OSError, TimeoutError,
)


class EventTooLarge(DomainError):
    status = 413
    code = "change-too-large"
    title = "The change is too large to announce"


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
    parked: int = 0
    held: int = 0
    parked_error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class Outbox:
    COLLECTION = "outbox"

    def __init__(self, db: AsyncDatabase) -> None:
        self.rows = db[self.COLLECTION]
        self.leases = db["outbox_lease"]

    async def ensure_indexes(self) -> None:
        await self.rows.create_index([("status", ASCENDING), ("_id", ASCENDING)])
        await self.rows.create_index([("status", ASCENDING), ("key", ASCENDING), ("_id", ASCENDING)])
        await self.rows.create_index("event_id", unique=True)
        await self.rows.create_index([("key", ASCENDING), ("_id", ASCENDING)])

    def expiry(self) -> Expiry:
        return Expiry(self.rows, "published_at", PUBLISHED_RETENTION)

    async def stage(self, session: AsyncClientSession, events: Sequence[Event | Tombstone]) -> None:
        # The trace context is stored with the row: the relay publishes later, from another task, and re-attaches
        # it so that HTTP request -> Kafka -> consumer stays one trace.
        trace_context: dict[str, str] = {}
        propagate.inject(trace_context)
        now = _now()
        rows = []
        for event in events:
            if isinstance(event, Tombstone):
                rows.append(self._tombstone_row(event, trace_context, now))
                continue
            payload = event.model_dump_json()
            size = len(payload.encode())
            if size > MAX_EVENT_BYTES:
                raise EventTooLarge(
                    f"This change would make a {event.event_type} event of {size // 1024} KiB, "
                    f"more than the {MAX_EVENT_BYTES // 1024} KiB an event may carry; nothing was changed. "
                    "Shorten the longest texts, or split the change.")
            rows.append({
                "_id": ObjectId(),
                "event_id": str(event.event_id),
                "event_type": event.event_type,
                "tenant_id": event.tenant_id,
                "aggregate_id": event.aggregate_id,
                "topic": event.TOPIC,
                "key": event.partition_key,
                "payload": payload,
                "headers": event_headers(event),
                "trace_context": trace_context,
                "status": PENDING,
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": None,
            })
        await self.rows.insert_many(rows, ordered=True, session=session)

    @staticmethod
    def _tombstone_row(tombstone: Tombstone, trace_context: dict[str, str], now: datetime) -> dict:
        return {"_id": ObjectId(), "event_id": str(tombstone.event_id), "event_type": tombstone.event_type,
                "tenant_id": tombstone.tenant_id, "aggregate_id": tombstone.key, "topic": tombstone.TOPIC,
                "key": tombstone.key, "payload": None,
                "headers": {"event_id": str(tombstone.event_id), "event_type": tombstone.event_type,
                            "tenant_id": tombstone.tenant_id},
                "trace_context": trace_context, "status": PENDING, "created_at": now, "attempts": 0,
                "next_attempt_at": now, "last_error": None}

    async def forget_published(self, session: AsyncClientSession, tenant_id: str, aggregate_id: str) -> int:
        """Drop the copies of events already published about one aggregate (an erased customer's details);
        rows not yet published stay, so consumers still see every change in order."""
        result = await self.rows.delete_many({"tenant_id": tenant_id, "aggregate_id": aggregate_id,
                                              "status": PUBLISHED}, session=session)
        return result.deleted_count

    async def republish_since(self, since: datetime) -> int:
        """After the broker lost its data: what was published since then goes again (in its order), and what was
        waiting on a backoff goes now. Consumers dedupe by event id, so nothing takes effect twice."""
        now = _now()
        again = await self.rows.update_many({"status": PUBLISHED, "published_at": {"$gte": since}},
                                            {"$set": {"status": PENDING, "next_attempt_at": now,
                                                      "republished_at": now}, "$unset": {"published_at": ""}})
        await self.rows.update_many({"status": PENDING, "next_attempt_at": {"$gt": now}},
                                    {"$set": {"next_attempt_at": now}})
        return again.modified_count

    async def due(self, limit: int, after: ObjectId | None = None) -> list[dict]:
        query: dict = {"status": PENDING}
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self.rows.find(query).sort("_id", ASCENDING).limit(limit)
        return await cursor.to_list(limit)

    async def mark_published(self, row_ids: Sequence[ObjectId]) -> None:
        if not row_ids:
            return
        now = _now()
        await self.rows.bulk_write(
            [UpdateOne({"_id": row_id}, {"$set": {"status": PUBLISHED, "published_at": now, "last_error": None}})
             for row_id in row_ids], ordered=False)

    async def mark_failed(self, row: dict, error: str, retry_in: timedelta) -> None:
        await self.rows.update_one(
            {"_id": row["_id"]},
            {"$set": {"last_error": error, "next_attempt_at": _now() + retry_in}, "$inc": {"attempts": 1}},
        )

    async def park(self, row: dict, error: str) -> None:
        await self.rows.update_one(
            {"_id": row["_id"], "status": PENDING},
            {"$set": {"status": PARKED, "last_error": error, "parked_at": _now()}, "$inc": {"attempts": 1}},
        )

    async def parked_keys(self) -> set[str]:
        return {row["key"] async for row in self.rows.find({"status": PARKED}, {"key": 1})}

    async def hold(self, key: str) -> int:
        """Rows behind a parked row of the same key wait for the operator's decision on it."""
        result = await self.rows.update_many({"status": PENDING, "key": key}, {"$set": {"status": HELD}})
        return result.modified_count

    async def release(self, key: str) -> None:
        if await self.rows.find_one({"status": PARKED, "key": key}) is None:
            await self.rows.update_many({"status": HELD, "key": key}, {"$set": {"status": PENDING}})

    # --- what an operator does about a parked row, from the ops API --------------------------------------------

    async def retry_parked(self, tenant_id: str, event_id: str) -> dict | None:
        now = _now()
        return await self._settle_parked(tenant_id, event_id,
                                         {"status": PENDING, "next_attempt_at": now, "retried_at": now})

    async def drop_parked(self, tenant_id: str, event_id: str, actor: str) -> dict | None:
        return await self._settle_parked(tenant_id, event_id,
                                         {"status": DROPPED, "dropped_by": actor, "dropped_at": _now()})

    async def _settle_parked(self, tenant_id: str, event_id: str, fields: dict) -> dict | None:
        """The operator's decision on a parked row; the rows held behind it go on once no parked row is left."""
        row = await take_one(self.rows, {"tenant_id": tenant_id, "event_id": event_id, "status": PARKED},
                             {"$set": fields})
        if row:
            await self.release(row["key"])
        return row

    async def find(self, tenant_id: str, statuses: Sequence[str], limit: int) -> list[dict]:
        rows = []
        for status in statuses:  # one indexed query per status: no $in (SecantusDB would scan for it)
            cursor = self.rows.find({"status": status, "tenant_id": tenant_id}, {"payload": 0}).sort("_id", ASCENDING)
            rows += await cursor.limit(limit).to_list(limit)
        return sorted(rows, key=lambda row: row["_id"])[:limit]

    async def get(self, tenant_id: str, event_id: str) -> dict | None:
        return await self.rows.find_one({"tenant_id": tenant_id, "event_id": event_id})

    async def with_key(self, tenant_id: str, key: str, limit: int) -> list[dict]:
        """What was announced under one Kafka key (a trip's events), oldest first, published ones included while
        they are kept."""
        cursor = self.rows.find({"key": key, "tenant_id": tenant_id}, {"payload": 0}).sort("_id", ASCENDING)
        return await cursor.limit(limit).to_list(limit)

    async def backlog(self) -> OutboxBacklog:
        pending = await self.rows.count_documents({"status": PENDING})
        oldest = await self.rows.find_one({"status": PENDING}, sort=[("_id", ASCENDING)])
        failing = await self.rows.count_documents({"status": PENDING, "attempts": {"$gt": 0}})
        parked = await self.rows.count_documents({"status": PARKED})
        held = await self.rows.count_documents({"status": HELD})
        first_parked = await self.rows.find_one({"status": PARKED}, sort=[("_id", ASCENDING)]) if parked else None
        age = (_now() - oldest["created_at"]).total_seconds() if oldest else 0.0
        return OutboxBacklog(pending, round(age, 3), failing, oldest.get("last_error") if oldest else None,
                             parked, held, first_parked.get("last_error") if first_parked else None)

    async def acquire_lease(self, owner: str) -> bool:
        """One relay per database publishes at a time, so each key's rows leave in the order they were written."""
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


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class OutboxRelay:
    """Publishes outbox rows to Kafka. Woken at once by :meth:`nudge` after a commit, and polls as a safety net."""

    BATCH = 200
    MAX_BACKOFF = timedelta(seconds=30)
    LEASE_RENEWAL_S = 1.0
    # Rows of keys that wait (backing off, held) are skipped; a cycle looks this many batches past them at most.
    MAX_BATCHES_PER_CYCLE = 20

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        poll_interval_s: float = 1.0,
        on_cycle: Callable[[int, int], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self._publish = publish
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._poll_interval_s = poll_interval_s
        self._on_cycle = on_cycle
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._lease_renewed_at = float("-inf")
        self._parked: set[str] = set()
        self._parked_read_at = float("-inf")

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
        self._lease_renewed_at = float("-inf")
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

    async def _hold_lease(self) -> bool:
        """Take or renew the lease; renewing it more than once a second would only cost the database."""
        if time.monotonic() - self._lease_renewed_at < self.LEASE_RENEWAL_S:
            return True
        if not await self.outbox.acquire_lease(self._owner):
            self._lease_renewed_at = float("-inf")
            return False
        self._lease_renewed_at = time.monotonic()
        return True

    async def _waiting_keys(self) -> set[str]:
        """Keys with a parked row (rows behind it are held), read at most once a second: parking is rare."""
        if time.monotonic() - self._parked_read_at >= self.LEASE_RENEWAL_S:
            self._parked = await self.outbox.parked_keys()
            for key in self._parked:
                await self.outbox.hold(key)
            self._parked_read_at = time.monotonic()
        return set(self._parked)

    def forget_parked(self) -> None:
        """An operator retried or dropped a parked row: read the parked keys afresh on the next cycle."""
        self._parked_read_at = float("-inf")

    async def drain(self) -> int:
        """Publish every due row, in order per key; a key whose head row can't go now waits, the others go on."""
        if not await self._hold_lease():
            return 0
        published = failed = 0
        waiting_keys = await self._waiting_keys()
        after: ObjectId | None = None
        for _ in range(self.MAX_BATCHES_PER_CYCLE):
            rows = await self.outbox.due(self.BATCH, after)
            if not rows:
                break
            after = rows[-1]["_id"]
            sent: list[ObjectId] = []
            broker_down = False
            for row in rows:
                key = row["key"]
                if key in waiting_keys:
                    continue
                if row["next_attempt_at"] > _now():
                    waiting_keys.add(key)
                    continue
                try:
                    await self._publish_row(row)
                except _REFUSED_RECORD as exc:
                    failed += 1
                    waiting_keys.add(key)
                    await self.outbox.park(row, _describe(exc))
                    await self.outbox.hold(key)
                    self._parked.add(key)
                    log.error("outbox event refused by Kafka; parked until an operator retries or drops it",
                              extra={"event_id": row["event_id"], "topic": row["topic"], "error": _describe(exc)})
                except Exception as exc:  # broker down, topic missing, timeout: keep the row and back off
                    failed += 1
                    waiting_keys.add(key)
                    retry_in = min(self.MAX_BACKOFF, timedelta(seconds=0.5 * 2 ** min(row["attempts"], 6)))
                    await self.outbox.mark_failed(row, _describe(exc), retry_in)
                    log.warning(
                        "outbox publish failed; will retry",
                        extra={"event_id": row["event_id"], "topic": row["topic"], "attempt": row["attempts"] + 1},
                    )
                    if isinstance(exc, _BROKER_UNREACHABLE):
                        broker_down = True
                        break
                else:
                    sent.append(row["_id"])
            await self.outbox.mark_published(sent)
            published += len(sent)
            if broker_down or len(rows) < self.BATCH or not await self._hold_lease():
                break
        if self._on_cycle:
            self._on_cycle(published, failed)
        return published

    async def _publish_row(self, row: dict) -> None:
        parent = propagate.extract(row.get("trace_context") or {})
        with self._tracer.start_as_current_span(
            f"outbox relay {row['topic']}",
            context=parent,
            attributes={"messaging.destination.name": row["topic"], "event.id": row["event_id"]},
        ):
            body = row["payload"].encode() if row["payload"] is not None else None  # None: a tombstone
            await self._publish(row["topic"], row["key"], body, dict(row["headers"]))
