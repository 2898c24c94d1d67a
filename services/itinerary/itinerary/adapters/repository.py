"""MongoDB persistence of itineraries and of the customers read model, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from itinerary.domain.agency_settings import AgencySettings, ExchangeRate, ModeSpeed, TravelSettings
from itinerary.domain.agreements import Agreement
from itinerary.domain.disruptions import Disruption
from itinerary.domain.model import Change, Itinerary, LinkedCustomer, Notice, item_from_snapshot, item_snapshot
from itinerary.domain.proposals import Decision, ProposalOption, ProposalRound
from itinerary.domain.stages import StageChange
from trip_shared.clock import utc_now
from trip_shared.mongo import TenantCollection
from trip_shared.privacy import ERASED
from trip_shared.read_models import apply_if_newer

ITINERARIES = "itineraries"
KNOWN_CUSTOMERS = "known_customers"
CUSTOMER_PREFERENCES = "customer_preferences"
AUDIT = "itinerary_audit"
BOOKINGS = "item_bookings"
AGENCY_SETTINGS = "agency_settings"
DELIVERY_PROBLEMS = "delivery_problems"
FINAL_DOCUMENTS = "final_documents"
DISRUPTIONS = "disruptions"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("sort_key", DESCENDING)])
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("customers.customer_id", ASCENDING)])
    await db[ITINERARIES].create_index([("tenant_id", ASCENDING), ("stage", ASCENDING), ("sort_key", DESCENDING)])
    await db[KNOWN_CUSTOMERS].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[CUSTOMER_PREFERENCES].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    # The clock moves trips on their own: booked ones from their first item's start, running ones at their end.
    await db[ITINERARIES].create_index([("stage", ASCENDING), ("next_due_at", ASCENDING)])
    await db[AUDIT].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING), ("version", ASCENDING)])
    await db[BOOKINGS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING)])
    await db[DELIVERY_PROBLEMS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING)])
    await db[DISRUPTIONS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING),
                                        ("reported_at", ASCENDING)])
    # The document issuer's one query across agencies: trips whose final documents are waiting to go.
    await db[FINAL_DOCUMENTS].create_index([("due", ASCENDING), ("requested_at", ASCENDING)])


def _to_document(itinerary: Itinerary) -> dict:
    document = asdict(itinerary)
    document["_id"] = document.pop("id")
    # BSON has no date type: ISO strings keep them exact and sortable.
    for name in ("start_date", "end_date"):
        document[name] = document[name].isoformat() if document[name] else None
    document["markup_percent"] = str(itinerary.markup_percent)
    document["items"] = [{**item_snapshot(item), "id": item.id, "created_at": item.created_at}
                         for item in itinerary.items]
    document["sort_key"] = sort_key(itinerary)
    document["next_due_at"] = _next_due_at(itinerary)
    return document


def _next_due_at(itinerary: Itinerary) -> datetime | None:
    """When the clock next moves this trip on its own, for the ticker's index."""
    if itinerary.stage == "booked":
        return itinerary.first_start
    if itinerary.stage == "in_progress":
        return itinerary.last_end
    return None


def _from_document(document: dict) -> Itinerary:
    document = dict(document)
    document["id"] = document.pop("_id")
    for derived in ("sort_key", "next_due_at"):
        document.pop(derived, None)
    for name in ("start_date", "end_date"):
        document[name] = date.fromisoformat(document[name]) if document[name] else None
    document["customers"] = [LinkedCustomer(**linked) for linked in document["customers"]]
    document["notices"] = [Notice(**notice) for notice in document.get("notices", [])]
    document["items"] = [item_from_snapshot(item) for item in document.get("items", [])]
    document["markup_percent"] = Decimal(document.get("markup_percent", "0"))
    document["stage_history"] = [StageChange(**change) for change in document.get("stage_history", [])]
    document["proposal_rounds"] = [_round_from(sent) for sent in document.get("proposal_rounds", [])]
    document["agreements"] = [Agreement(**asked) for asked in document.get("agreements", [])]
    return Itinerary(**document)


def _round_from(document: dict) -> ProposalRound:
    return ProposalRound(**{**document, "options": [ProposalOption(**option) for option in document["options"]],
                            "decision": Decision(**document["decision"]) if document.get("decision") else None})


async def due_for_a_move(db: AsyncDatabase, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant, itinerary) pairs the clock should move now, across every agency: the ticker's one query per stage
    (SecantusDB scans for "$in" before a range)."""
    found = []
    for stage in ("booked", "in_progress"):
        cursor = db[ITINERARIES].find({"stage": stage, "next_due_at": {"$lte": now}},
                                      projection={"tenant_id": 1}).limit(limit)
        found += [(doc["tenant_id"], doc["_id"]) async for doc in cursor]
    return found


class ItineraryRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._itineraries = collection

    async def get(self, itinerary_id: str) -> Itinerary | None:
        document = await self._itineraries.find_one({"_id": itinerary_id})
        return _from_document(document) if document else None

    async def add(self, itinerary: Itinerary) -> None:
        await self._itineraries.insert_one(_to_document(itinerary))

    async def save(self, itinerary: Itinerary, expected_version: int) -> None:
        await self._itineraries.replace_at_version(itinerary.id, expected_version, _to_document(itinerary), "itinerary")

    async def with_customer(self, customer_id: str) -> list[Itinerary]:
        return [_from_document(doc) async for doc in self._itineraries.find({"customers.customer_id": customer_id})]

    async def list(self, *, customer_id: str | None, limit: int, before: str | None,
                   stage: str | None = None) -> list[Itinerary]:
        """Newest first; ``before`` is the sort key of the last itinerary of the previous page."""
        query: dict = {}
        if customer_id:
            query["customers.customer_id"] = customer_id
        if stage:
            query["stage"] = stage
        if before:
            query["sort_key"] = {"$lt": before}
        cursor = self._itineraries.find(query).sort("sort_key", DESCENDING).limit(limit)
        return [_from_document(doc) async for doc in cursor]


async def trips_by_stage(db: AsyncDatabase) -> dict[str, int]:
    """How many trips are at each stage, across every agency: what itinerary's gauges count."""
    rows = await db[ITINERARIES].aggregate([{"$group": {"_id": "$stage", "trips": {"$sum": 1}}}])
    return {row["_id"]: row["trips"] async for row in rows}


def sort_key(itinerary: Itinerary) -> str:
    """Newest-first page order; the id makes it unique, so it can serve as a cursor."""
    return f"{itinerary.created_at.isoformat()}\x00{itinerary.id}"


class KnownCustomers:
    """What the itinerary service knows of customers, only from ``customer.*`` events."""

    def __init__(self, collection: TenantCollection) -> None:
        self._customers = collection

    async def get(self, customer_id: str) -> dict | None:
        return await self._customers.find_one({"_id": customer_id})

    async def get_many(self, customer_ids: list[str]) -> dict[str, dict]:
        return {doc["_id"]: doc async for doc in self._customers.find({"_id": {"$in": customer_ids}})}

    async def apply(self, customer_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._customers, customer_id, version, fields)

    async def scrub(self, customer_id: str) -> None:
        await self._customers.update_one({"_id": customer_id}, {"$set": {"first_name": ERASED, "last_name": None}})

    async def forget(self, customer_id: str) -> None:
        await self._customers.delete_one({"_id": customer_id})


class CustomerPreferences:
    """Each customer's latest consultation, from ``customer.preferences_recorded``: pace, budget, needs."""

    def __init__(self, collection: TenantCollection) -> None:
        self._preferences = collection

    async def apply(self, customer_id: str, consultation_version: int, preferences: dict) -> bool:
        return await apply_if_newer(self._preferences, customer_id, consultation_version, preferences)

    async def get_many(self, customer_ids: list[str]) -> dict[str, dict]:
        return {doc["_id"]: doc async for doc in self._preferences.find({"_id": {"$in": customer_ids}})}

    async def forget(self, customer_id: str) -> None:
        await self._preferences.delete_one({"_id": customer_id})


class AuditTrail:
    """Every version of an itinerary: who changed what, before and after."""

    def __init__(self, collection: TenantCollection) -> None:
        self._entries = collection

    async def record(self, itinerary: Itinerary, actor: str, action: str, changes: list[Change]) -> None:
        await self._entries.insert_one({
            "_id": f"{itinerary.id}:{itinerary.version}", "itinerary_id": itinerary.id,
            "version": itinerary.version, "at": itinerary.updated_at, "actor": actor, "action": action,
            "changes": [asdict(change) for change in changes]})

    async def entries(self, itinerary_id: str, limit: int, after_version: int) -> list[dict]:
        cursor = self._entries.find({"itinerary_id": itinerary_id, "version": {"$gt": after_version}},
                                    projection={"_id": 0, "tenant_id": 0})
        return await cursor.sort("version", ASCENDING).limit(limit).to_list(None)


class ItemBookings:
    """Booking status of each item, from ``booking.*`` events: what readiness counts."""

    def __init__(self, collection: TenantCollection) -> None:
        self._bookings = collection

    async def apply(self, booking_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._bookings, booking_id, version, fields)

    async def for_itinerary(self, itinerary_id: str) -> list[dict]:
        return await self._bookings.find({"itinerary_id": itinerary_id}, projection={"tenant_id": 0}).to_list(None)


async def documents_due(db: AsyncDatabase, limit: int = 20) -> list[tuple[str, str]]:
    """(tenant, itinerary) pairs whose final documents are to be issued, oldest request first."""
    cursor = db[FINAL_DOCUMENTS].find({"due": True}, projection={"tenant_id": 1}).sort("requested_at", ASCENDING)
    return [(doc["tenant_id"], doc["_id"]) async for doc in cursor.limit(limit)]


class FinalDocuments:
    """Per trip: whether its final documents (PDF and calendar) are waiting to be issued, at whose request, and
    every time they were."""

    def __init__(self, collection: TenantCollection) -> None:
        self._requests = collection

    async def request(self, itinerary_id: str, reason: str, actor: str, note: str | None = None) -> None:
        """A newer request replaces one still waiting: the documents go once, as the trip is then."""
        await self._requests.update_one({"_id": itinerary_id}, {"$set": {
            "due": True, "request_id": uuid4().hex, "reason": reason, "actor": actor, "note": note,
            "requested_at": utc_now()}, "$setOnInsert": {"issued": []}}, upsert=True)

    async def get(self, itinerary_id: str) -> dict | None:
        return await self._requests.find_one({"_id": itinerary_id}, projection={"tenant_id": 0})

    async def issued(self, itinerary_id: str, request_id: str, record: dict) -> bool:
        """Close this request with what was sent; False when a newer request came in meanwhile (it goes next)."""
        result = await self._requests.update_one({"_id": itinerary_id, "request_id": request_id, "due": True},
                                                 {"$set": {"due": False}, "$push": {"issued": record}})
        return result.modified_count == 1

    async def withdraw(self, itinerary_id: str, request_id: str) -> None:
        """The trip is no longer booked (a booking fell through, it was cancelled): nothing final to send."""
        await self._requests.update_one({"_id": itinerary_id, "request_id": request_id}, {"$set": {"due": False}})


class DeliveryProblems:
    """Messages notify could not get to a trip's clients (from ``notification.*`` events), for the planner."""

    def __init__(self, collection: TenantCollection) -> None:
        self._problems = collection

    async def apply(self, notification_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._problems, notification_id, version, fields)

    async def open_for(self, itinerary_id: str) -> list[dict]:
        return await self._problems.find({"itinerary_id": itinerary_id, "open": True},
                                         projection={"tenant_id": 0}).sort("at", ASCENDING).to_list(None)

    async def forget_customer(self, customer_id: str) -> None:
        await self._problems.delete_many({"customer_id": customer_id})


class Disruptions:
    """Delays and cancellations reported on a trip's items (from ``feedback.incident_*``), and how each was met.
    Saved in the transaction that changes the itinerary, whose version check guards both."""

    def __init__(self, collection: TenantCollection) -> None:
        self._disruptions = collection

    async def get(self, incident_id: str) -> Disruption | None:
        document = await self._disruptions.find_one({"_id": incident_id}, projection={"tenant_id": 0})
        return _disruption(document) if document else None

    async def for_itinerary(self, itinerary_id: str) -> list[Disruption]:
        cursor = self._disruptions.find({"itinerary_id": itinerary_id}, projection={"tenant_id": 0})
        return [_disruption(document) for document in await cursor.sort("reported_at", ASCENDING).to_list(None)]

    async def save(self, disruption: Disruption) -> None:
        document = asdict(disruption)
        document["_id"] = document.pop("incident_id")
        await self._disruptions.replace_one({"_id": document["_id"]}, document, upsert=True)


def _disruption(document: dict) -> Disruption:
    document = dict(document)
    return Disruption(incident_id=document.pop("_id"), **document)


class AgencySettingsRepository:
    """One document per agency: its travel assumptions and exchange rates, versioned like any aggregate."""

    def __init__(self, collection: TenantCollection) -> None:
        self._settings = collection
        self._id = collection.tenant_id  # _id is unique across agencies

    async def get(self) -> AgencySettings:
        document = await self._settings.find_one({"_id": self._id})
        return _settings_from_document(document) if document else AgencySettings()

    async def save(self, settings: AgencySettings, expected_version: int) -> None:
        await self._settings.save_at_version(self._id, expected_version, _settings_to_document(settings),
                                             "agency settings")


def _settings_to_document(settings: AgencySettings) -> dict:
    travel = asdict(settings.travel)
    return {"version": settings.version, "travel": travel,
            "exchange_rates": [{**asdict(rate), "rate": str(rate.rate), "as_of": rate.as_of.isoformat()}
                               for rate in settings.exchange_rates]}


def _settings_from_document(document: dict) -> AgencySettings:
    travel = dict(document.get("travel") or {})
    speeds = {mode: ModeSpeed(**speed) for mode, speed in (travel.pop("speeds", None) or {}).items()}
    defaults = TravelSettings()
    return AgencySettings(
        travel=TravelSettings(speeds={**defaults.speeds, **speeds}, **travel),
        exchange_rates=tuple(ExchangeRate(**{**rate, "rate": Decimal(rate["rate"]),
                                             "as_of": date.fromisoformat(rate["as_of"])})
                             for rate in document.get("exchange_rates", [])),
        version=document["version"])
