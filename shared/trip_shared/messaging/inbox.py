"""Idempotent-consumer inbox: one row per (consumer group, event_id), written in the handler's own transaction."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from trip_shared.contracts.envelope import Event
from trip_shared.mongo import read_all
from trip_shared.retention import Expiry

# Kafka redelivers within minutes or hours; a month is a wide margin for replays from a reset offset.
RETENTION = timedelta(days=30)


class AlreadyProcessed(Exception):
    """Raised inside the transaction so it aborts: the event's effects were committed before."""


class Inbox:
    COLLECTION = "inbox"

    def __init__(self, db: AsyncDatabase) -> None:
        self.rows = db[self.COLLECTION]

    def expiry(self) -> Expiry:
        return Expiry(self.rows, "processed_at", RETENTION)

    @staticmethod
    def _row(group_id: str, event: Event) -> dict:
        return {"_id": f"{group_id}:{event.event_id}", "group_id": group_id, "event_id": str(event.event_id),
                "event_type": event.event_type, "tenant_id": event.tenant_id, "processed_at": datetime.now(UTC)}

    async def claim(self, session: AsyncClientSession, group_id: str, event: Event) -> None:
        try:
            await self.rows.insert_one(self._row(group_id, event), session=session)
        except DuplicateKeyError as exc:
            raise AlreadyProcessed(str(event.event_id)) from exc

    async def claim_all(self, session: AsyncClientSession, group_id: str, events: list[Event]) -> None:
        """:meth:`claim` for a batch, in one write; any event handled before fails the whole write."""
        try:
            await self.rows.insert_many([self._row(group_id, event) for event in events], session=session)
        except BulkWriteError as exc:
            raise AlreadyProcessed(f"{len(exc.details.get('writeErrors', []))} of the batch") from exc

    async def seen(self, group_id: str, event_id: str) -> bool:
        return await self.rows.find_one({"_id": f"{group_id}:{event_id}"}) is not None

    async def handled(self, tenant_id: str, group_ids: list[str], event_ids: list[str]) -> list[dict]:
        """Which of these events each group has handled, by the row's id (an indexed read each)."""
        found = await read_all([self.rows.find_one({"_id": f"{group}:{event_id}", "tenant_id": tenant_id})
                                for group in group_ids for event_id in event_ids], in_transaction=False)
        return [row for row in found if row is not None]
