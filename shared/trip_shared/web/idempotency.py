"""``Idempotency-Key`` on every ``POST /v1/...``: a retried request takes effect once and gets the same answer.

The first request with a key reserves it (``in_progress``) and runs. Its transaction marks the reservation
``committed`` in the same commit as its effects (:func:`mark_committed_in`), and once the response is out it is
stored under the key for a day. Then, for the same agency and key:

- the same method, path and body get the stored response again, with ``Idempotent-Replayed: true``, and nothing runs;
- another body is a 422: a key names one request;
- while the first is still running, a 409 with ``Retry-After``;
- a reservation left by a process that died is taken over if nothing committed, and refused (409) if it did, since
  running it again would apply it twice.

Successful responses are stored, and so is any response to a request whose transaction wrote something before it
failed. A refused request that changed nothing frees its key: running it again is safe, and it may succeed later
(a customer another service has just created becomes linkable). Read-only transactions mark nothing.
"""
from __future__ import annotations

import hashlib
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import Binary
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from trip_shared.retention import Expiry

HEADER = "idempotency-key"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Response headers that belong to the stored answer; the rest (dates, security headers) are the replay's own.
REPLAYED_HEADERS = ("content-type", "location", "etag")

_current: ContextVar[tuple[AsyncDatabase, str] | None] = ContextVar("idempotency_reservation", default=None)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Reservation:
    """What :meth:`IdempotencyKeys.reserve` found: run it (``record_id``), replay, or refuse."""

    record_id: str | None = None
    replay: StoredResponse | None = None
    refusal: tuple[int, str, str] | None = None  # status, code, detail


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class IdempotencyKeys:
    COLLECTION = "idempotency_keys"

    def __init__(self, db: AsyncDatabase, stale_after: timedelta) -> None:
        self.db = db
        self.rows = db[self.COLLECTION]
        self.stale_after = stale_after

    def expiry(self) -> Expiry:
        return Expiry(self.rows, "expires_at", timedelta(0))

    async def reserve(self, tenant_id: str, key: str, request_fingerprint: str) -> Reservation:
        record_id = f"{tenant_id}:{key}"
        now = _now()
        try:
            await self.rows.insert_one({"_id": record_id, "tenant_id": tenant_id, "fingerprint": request_fingerprint,
                                        "status": "in_progress", "committed": False, "started_at": now,
                                        "expires_at": now + RETENTION})
            return Reservation(record_id=record_id)
        except DuplicateKeyError:
            pass
        row = await self.rows.find_one({"_id": record_id})
        if row is None:  # it expired between the two calls
            return await self.reserve(tenant_id, key, request_fingerprint)
        if row["fingerprint"] != request_fingerprint:
            return Reservation(refusal=(422, "idempotency-key-reused",
                                        "This Idempotency-Key was already used for a different request; "
                                        "use a new key for a new request."))
        if row["status"] == "completed":
            stored = row["response"]
            return Reservation(replay=StoredResponse(stored["status"], [tuple(h) for h in stored["headers"]],
                                                     bytes(stored["body"])))
        if now - row["started_at"] < self.stale_after:
            return Reservation(refusal=(409, "idempotency-key-in-use",
                                        "A request with this Idempotency-Key is still being processed; "
                                        "retry in a moment to get its response."))
        if row.get("committed"):
            return Reservation(refusal=(409, "idempotency-key-applied",
                                        "The request with this Idempotency-Key was applied, but its response was "
                                        "lost when the service stopped; look the resource up instead of retrying."))
        taken = await self.rows.update_one({"_id": record_id, "started_at": row["started_at"], "committed": False},
                                           {"$set": {"started_at": now}})
        if taken.modified_count:
            return Reservation(record_id=record_id)
        return await self.reserve(tenant_id, key, request_fingerprint)

    async def complete(self, record_id: str, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        await self.rows.update_one({"_id": record_id}, {"$set": {
            "status": "completed", "completed_at": _now(),
            "response": {"status": status, "headers": [list(h) for h in headers], "body": Binary(body)}}})

    async def committed(self, record_id: str) -> bool:
        row = await self.rows.find_one({"_id": record_id}, {"committed": 1})
        return bool(row and row.get("committed"))

    async def release(self, record_id: str) -> None:
        """The request failed without taking effect: the key is free for a retry."""
        await self.rows.delete_one({"_id": record_id, "committed": False})


def start(db: AsyncDatabase, record_id: str) -> Token:
    return _current.set((db, record_id))


def reset(token: Token) -> None:
    _current.reset(token)


async def mark_committed_in(session: AsyncClientSession) -> None:
    """Called by every transaction of a request: its commit and the key's ``committed`` mark are one."""
    reservation = _current.get()
    if reservation is None:
        return
    db, record_id = reservation
    await db[IdempotencyKeys.COLLECTION].update_one({"_id": record_id}, {"$set": {"committed": True}},
                                                    session=session)
