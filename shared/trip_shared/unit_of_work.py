"""The unit of work: one MongoDB transaction holding a use case's writes and the events it emits.

Events emitted through :meth:`UnitOfWork.emit` are written to the outbox in the same transaction as the
business data, so a change is never saved without its event or announced without being saved.
"""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from trip_shared.contracts.envelope import Event, Tombstone
from trip_shared.mongo import TenantCollection, read_all


class UnitOfWork:
    """Base class; a service subclasses it to expose its repositories (built in :meth:`bind`)."""

    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None) -> None:
        """``session`` None: a read-only unit of work, outside any transaction, refusing to write."""
        self.db = db
        self.session = session
        self.events: list[Event | Tombstone] = []
        self.after_commit: list = []
        self._wrote = False
        self.bind()

    @property
    def wrote(self) -> bool:
        """Whether this unit of work changes anything (a read-only one commits nothing worth remembering)."""
        return self._wrote or bool(self.events)

    def _note_write(self) -> None:
        if self.session is None:
            raise RuntimeError("a read-only unit of work cannot write")
        self._wrote = True

    async def read_all(self, *reads: Awaitable[Any]) -> list[Any]:
        """Independent reads' answers, in order (see :func:`trip_shared.mongo.read_all`)."""
        return await read_all(reads, in_transaction=self.session is not None)

    def bind(self) -> None:
        """Create repositories here; they share ``self.session``."""

    def collection(self, name: str, tenant_id: str) -> TenantCollection:
        return TenantCollection(self.db[name], tenant_id, self.session, on_write=self._note_write)

    def emit(self, event: Event | Tombstone) -> None:
        if self.session is None:
            raise RuntimeError("a read-only unit of work cannot emit events")
        self.events.append(event)

    def on_commit(self, callback) -> None:
        """Schedule an async callable to run once the transaction has committed (e.g. send an e-mail)."""
        self.after_commit.append(callback)
