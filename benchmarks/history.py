"""Grow the platform's history fast, with the documents its own code writes.

Driving 50,000 customers and 100,000 e-mails through HTTP, Kafka and SMTP would take hours here. Instead the
services' own use cases and consumer handlers run against :class:`SinkDatabase`, which keeps every document they
insert or upsert, and those documents are then written in bulk to each service's database. What lands is what the
running platform would have written for the same history: customers with their search rows, history and published
outbox rows; the contacts and customers read models and inbox rows of the consumers of ``customer.created``;
notifications sent to those customers, each with the inbox row of the event it came from.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pymongo import AsyncMongoClient

from customers.service_layer import services as customer_services
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from itinerary.entrypoints.consumers import GROUP_ID as ITINERARY_GROUP
from itinerary.service_layer import services as itinerary_services
from itinerary.service_layer.unit_of_work import ItineraryUnitOfWork
from notify.entrypoints.consumers import GROUP_ID as NOTIFY_GROUP
from notify.service_layer.services import NotifyHandlers
from notify.service_layer.unit_of_work import NotifyUnitOfWork
from trip_shared.contracts.customers import ProfileLink, ProfileLinkIssued
from trip_shared.messaging.inbox import Inbox
from trip_shared.messaging.outbox import PUBLISHED, Outbox

TENANT = "tenant-a"
NO_SESSION = object()  # the use cases only pass it on; the sink ignores it
CHUNK = 2_000


@dataclass
class Sink:
    """One collection's worth of written documents. Reads find only what was written by ``_id``."""

    documents: dict = field(default_factory=dict)
    known: dict = field(default_factory=dict)

    async def find_one(self, filter_: dict, *_args, **_kwargs) -> dict | None:
        key = filter_.get("_id")
        document = self.documents.get(key) or self.known.get(key)
        return dict(document) if document else None

    def find(self, *_args, **_kwargs) -> _NoRows:
        return _NoRows()  # history is new: nothing else was waiting for it

    async def insert_one(self, document: dict, *_args, **_kwargs) -> None:
        self.documents[document.get("_id") or uuid.uuid4().hex] = dict(document)

    async def insert_many(self, documents, *_args, **_kwargs) -> None:
        for document in documents:
            await self.insert_one(document)

    async def update_one(self, filter_: dict, update: dict, upsert: bool = False, **_kwargs) -> None:
        if set(update) != {"$set"} or not upsert:
            raise NotImplementedError(f"the history sink only takes upserts with $set, not {update}")
        current = self.documents.setdefault(filter_["_id"], dict(filter_))
        current.update(update["$set"])


class _NoRows:
    def __aiter__(self):
        return self

    async def __anext__(self):
        raise StopAsyncIteration

    def limit(self, *_args) -> _NoRows:
        return self

    def sort(self, *_args, **_kwargs) -> _NoRows:
        return self

    async def to_list(self, *_args) -> list:
        return []


class SinkDatabase(dict):
    """Sinks by collection name; ``known`` documents are found by reads but not written again."""

    def __init__(self, known: dict[str, dict] | None = None) -> None:
        super().__init__()
        self._known = known or {}

    def __missing__(self, name: str) -> Sink:
        self[name] = Sink(known=self._known.get(name, {}))
        return self[name]


@dataclass
class GrownHistory:
    customers: int
    notifications: int
    documents: dict[str, int]  # "database.collection" -> documents written


async def grow(mongodb_url: str, *, customers: int, notifications: int, batch: int = 1_000) -> GrownHistory:
    """Write the history of ``customers`` new customers and ``notifications`` e-mails sent to them."""
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True, uuidRepresentation="standard")
    written: dict[str, int] = {}
    created = []
    contacts: dict = {}  # notify's read model, for addressing the e-mails
    try:
        for start in range(0, customers, batch):
            sinks = {name: SinkDatabase() for name in ("customers", "itinerary", "notify")}
            events = await _create_customers(sinks["customers"], start, min(batch, customers - start))
            created += [event.data for event in events]
            await _consume(sinks, events)
            contacts.update(sinks["notify"]["contacts"].documents)
            await _flush(client, sinks, written)
        for start in range(0, notifications, batch):
            sinks = {"notify": SinkDatabase(known={"contacts": contacts})}
            await _sent_notifications(sinks["notify"], created, start, min(batch, notifications - start))
            await _flush(client, sinks, written)
    finally:
        await client.close()
    return GrownHistory(customers, notifications, written)


async def _create_customers(db: SinkDatabase, start: int, count: int) -> list:
    events: list = []

    async def transaction(work, read_only: bool = False):
        uow = CustomersUnitOfWork(db, None if read_only else NO_SESSION)
        result = await work(uow)
        if uow.events:
            await Outbox(db).stage(NO_SESSION, uow.events)
            events.extend(uow.events)
        return result

    for number in range(start, start + count):
        details = {"first_name": f"Hist{number:06d}", "last_name": f"Family{number % 997:03d}",
                   "emails": [f"history{number}@example.com"], "phones": [f"+44 20 7{number:07d}"],
                   "preferred_language": "zh-Hans" if number % 3 == 0 else "en"}
        await customer_services.create_customer(transaction, TENANT, "history", details, allow_duplicate=True)
    published_at = datetime.now(UTC)
    for row in db[Outbox.COLLECTION].documents.values():
        row.update(status=PUBLISHED, published_at=published_at)
    return events


async def _consume(sinks: dict[str, SinkDatabase], events: list) -> None:
    """What itinerary and notify write on receiving these ``customer.created`` events."""
    notify_handlers = NotifyHandlers(dispatcher=None)  # nothing is waiting for a new contact, so nothing is sent
    for event in events:
        await itinerary_services.record_customer(event, ItineraryUnitOfWork(sinks["itinerary"], NO_SESSION))
        await notify_handlers.record_contact(event, NotifyUnitOfWork(sinks["notify"], NO_SESSION))
    await Inbox(sinks["itinerary"]).claim_all(NO_SESSION, ITINERARY_GROUP, events)
    await Inbox(sinks["notify"]).claim_all(NO_SESSION, NOTIFY_GROUP, events)


async def _sent_notifications(db: SinkDatabase, created: list, start: int, count: int) -> None:
    """A profile link e-mailed to one customer after another, through notify's own handler, then sent."""
    events = []
    for number in range(start, start + count):
        customer = created[number % len(created)]
        events.append(ProfileLinkIssued(
            tenant_id=TENANT, aggregate_id=customer.customer_id, aggregate_version=2, producer="customers",
            data=ProfileLink(customer_id=customer.customer_id, url=f"https://trips.example.com/p/{number}",
                             expires_at=datetime.now(UTC))))
    handlers = NotifyHandlers(dispatcher=None)  # sending is the dispatcher's, after commit: not run here
    for event in events:
        await handlers.profile_link_issued(event, NotifyUnitOfWork(db, NO_SESSION))
    await Inbox(db).claim_all(NO_SESSION, NOTIFY_GROUP, events)
    sent_at = datetime.now(UTC)
    for number, notification in enumerate(db["notifications"].documents.values(), start):
        notification.update(status="sent", sent_at=sent_at, message_id=f"<history-{number}@trips.example.com>")


async def _flush(client: AsyncMongoClient, sinks: dict[str, SinkDatabase], written: dict[str, int]) -> None:
    for database, collections in sinks.items():
        for name, sink in collections.items():
            documents = list(sink.documents.values())
            for start in range(0, len(documents), CHUNK):
                await client[database][name].insert_many(documents[start:start + CHUNK], ordered=False)
            key = f"{database}.{name}"
            written[key] = written.get(key, 0) + len(documents)


if __name__ == "__main__":  # python benchmarks/history.py MONGODB_URL [customers] [notifications]
    import sys

    url, *counts = sys.argv[1:]
    numbers = [int(count) for count in counts] + [50_000, 100_000][len(counts):]
    grown = asyncio.run(grow(url, customers=numbers[0], notifications=numbers[1]))
    for key, count in sorted(grown.documents.items()):
        print(f"{key:<40} {count:>9}")
