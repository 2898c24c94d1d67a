"""MongoDB persistence of bookings and of the itineraries read model, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from booking.domain.follow_up import BookingSettings
from booking.domain.model import AWAITING, Booking, Deposit, Money, RequirementLine, Transition
from booking.domain.suppliers import Contact, Supplier
from trip_shared.clock import utc_now
from trip_shared.mongo import TenantCollection
from trip_shared.read_models import apply_if_newer

BOOKINGS, KNOWN_ITINERARIES, SUPPLIERS, SETTINGS = "bookings", "known_itineraries", "suppliers", "booking_settings"
SCORECARDS = "supplier_scorecards"
CALLBACK_RECEIPTS = "callback_receipts"
# A callback older than the signature tolerance is refused as stale anyway: its receipt need not be kept longer.
RECEIPT_KEPT = timedelta(minutes=10)


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[BOOKINGS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING), ("created_at", ASCENDING)])
    await db[BOOKINGS].create_index([("follow_up_at", ASCENDING)])
    await db[BOOKINGS].create_index([("status", ASCENDING)])
    await db[CALLBACK_RECEIPTS].create_index([("tenant_id", ASCENDING), ("at", ASCENDING)])
    await db[KNOWN_ITINERARIES].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[KNOWN_ITINERARIES].create_index([("tenant_id", ASCENDING), ("departs_on", ASCENDING)])
    await db[SUPPLIERS].create_index([("tenant_id", ASCENDING), ("name_key", ASCENDING)])


def _to_document(booking: Booking) -> dict:
    document = asdict(booking)
    document["_id"] = document.pop("id")
    if booking.deposit is not None:
        document["deposit"]["due_date"] = booking.deposit.due_date.isoformat()  # BSON has no plain date
    return document


def _from_document(document: dict) -> Booking:
    document = dict(document)
    for name in ("price", "confirmed_price"):
        if document.get(name):
            document[name] = Money(**document[name])
    if document.get("deposit"):
        deposit = document["deposit"]
        document["deposit"] = Deposit(deposit["amount"], deposit["currency"], date.fromisoformat(deposit["due_date"]))
    document["requirements"] = [RequirementLine(**line) for line in document.get("requirements", [])]
    document["history"] = [Transition(**step) for step in document.get("history", [])]
    return Booking(id=document.pop("_id"), **document)


class BookingRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._bookings = collection

    async def get(self, booking_id: str) -> Booking | None:
        document = await self._bookings.find_one({"_id": booking_id})
        return _from_document(document) if document else None

    async def add(self, booking: Booking) -> None:
        await self._bookings.insert_one(_to_document(booking))

    async def save(self, booking: Booking, expected_version: int) -> None:
        await self._bookings.replace_at_version(booking.id, expected_version, _to_document(booking), "booking")

    async def open_ones(self) -> list[Booking]:
        cursor = self._bookings.find({"status": {"$in": ["requested", "confirmed", "amendment_requested",
                                                         "cancellation_requested"]}})
        return [_from_document(doc) async for doc in cursor]

    async def for_itineraries(self, itinerary_ids: list[str]) -> list[Booking]:
        cursor = self._bookings.find({"itinerary_id": {"$in": itinerary_ids}}).sort("created_at", ASCENDING)
        return [_from_document(doc) async for doc in cursor]

    async def for_itinerary(self, itinerary_id: str) -> list[Booking]:
        cursor = self._bookings.find({"itinerary_id": itinerary_id}).sort("created_at", ASCENDING)
        return [_from_document(doc) async for doc in cursor]

    async def with_traveller(self, customer_id: str) -> list[Booking]:
        cursor = self._bookings.find({"travellers.customer_id": customer_id})
        return [_from_document(doc) async for doc in cursor]


async def due_for_follow_up(db: AsyncDatabase, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant, booking) pairs whose follow-up time has come, across every agency: the clock's one query."""
    cursor = db[BOOKINGS].find({"follow_up_at": {"$lte": now}}, projection={"tenant_id": 1}) \
        .sort("follow_up_at", ASCENDING).limit(limit)
    return [(doc["tenant_id"], doc["_id"]) async for doc in cursor]


async def awaiting_suppliers(db: AsyncDatabase) -> list[Booking]:
    """Bookings waiting for a supplier's answer, across every agency: what booking's gauges count."""
    return [_from_document(document)
            async for document in db[BOOKINGS].find({"status": {"$in": list(AWAITING)}})]


class SettingsRepository:
    """One document per agency: how its bookings are followed up."""

    def __init__(self, collection: TenantCollection) -> None:
        self._settings = collection
        self._id = collection.tenant_id  # _id is unique across agencies

    async def get(self) -> BookingSettings:
        document = await self._settings.find_one({"_id": self._id})
        if not document:
            return BookingSettings()
        return BookingSettings(**{k: v for k, v in document.items() if k not in ("_id", "tenant_id")})

    async def save(self, settings: BookingSettings) -> None:
        await self._settings.save_at_version(self._id, settings.version - 1, asdict(settings), "booking settings")


class CallbackReceipts:
    """The signed callbacks received in the last minutes, so the same message is applied once."""

    def __init__(self, collection: TenantCollection) -> None:
        self._receipts = collection

    async def first_time(self, receipt: str) -> bool:
        now = utc_now()
        await self._receipts.delete_many({"at": {"$lt": now - RECEIPT_KEPT}})
        try:
            await self._receipts.insert_one({"_id": receipt, "at": now})
        except DuplicateKeyError:
            return False
        return True

    async def forget(self, receipt: str) -> None:
        await self._receipts.delete_one({"_id": receipt})


class KnownItineraries:
    """What booking knows of itineraries, only from ``itinerary.*`` events."""

    def __init__(self, collection: TenantCollection) -> None:
        self._itineraries = collection

    async def get(self, itinerary_id: str) -> dict | None:
        return await self._itineraries.find_one({"_id": itinerary_id})

    async def apply(self, itinerary_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._itineraries, itinerary_id, version, fields)

    async def with_traveller(self, customer_id: str) -> list[dict]:
        return [doc async for doc in self._itineraries.find({"travellers.customer_id": customer_id})]

    async def departing(self, first_day: str, last_day: str) -> list[dict]:
        cursor = self._itineraries.find({"departs_on": {"$gte": first_day, "$lte": last_day}}).sort("departs_on", 1)
        return [doc async for doc in cursor]

    async def replace_travellers(self, itinerary_id: str, travellers: list[dict]) -> None:
        await self._itineraries.update_one({"_id": itinerary_id}, {"$set": {"travellers": travellers}})


class KnownScorecards:
    """Each supplier's scorecard as feedback last published it, by the supplier's name."""

    def __init__(self, collection: TenantCollection) -> None:
        self._cards = collection

    def _key(self, supplier: str) -> str:
        return f"{self._cards.tenant_id}:{supplier}"  # ids are unique across agencies

    async def apply(self, supplier: str, version: int, card: dict) -> bool:
        return await apply_if_newer(self._cards, self._key(supplier), version, {"card": card})

    async def for_names(self, names: list[str]) -> dict[str, dict]:
        cursor = self._cards.find({"_id": {"$in": [self._key(name) for name in names]}})
        return {document["card"]["supplier"]: document["card"] async for document in cursor}


class SupplierRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._suppliers = collection

    async def get(self, supplier_id: str) -> Supplier | None:
        document = await self._suppliers.find_one({"_id": supplier_id})
        return _supplier_from_document(document) if document else None

    async def add(self, supplier: Supplier) -> None:
        await self._suppliers.insert_one(_supplier_document(supplier))

    async def save(self, supplier: Supplier, expected_version: int) -> None:
        await self._suppliers.replace_at_version(supplier.id, expected_version, _supplier_document(supplier),
                                                 "supplier")

    async def all(self, *, kind: str | None, active: bool | None) -> list[Supplier]:
        """An agency's suppliers in name order; an agency has hundreds, not millions, so a page is read whole."""
        query: dict = {}
        if kind:
            query["kind"] = kind
        if active is not None:
            query["active"] = active
        cursor = self._suppliers.find(query).sort("name_key", ASCENDING)
        return [_supplier_from_document(doc) async for doc in cursor]


def _supplier_document(supplier: Supplier) -> dict:
    document = asdict(supplier)
    document["_id"] = document.pop("id")
    document["name_key"] = supplier.name.casefold()
    return document


def _supplier_from_document(document: dict) -> Supplier:
    document = {key: value for key, value in document.items() if key not in ("name_key", "signing_secret")}
    document["contacts"] = [Contact(**contact) for contact in document.get("contacts", [])]
    return Supplier(id=document.pop("_id"), **document)
