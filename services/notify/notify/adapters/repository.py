"""MongoDB persistence: the contacts and trips read models and the notification records."""
from __future__ import annotations

import copy
from dataclasses import asdict
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, timedelta

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from notify.domain.agency import AgencyProfileRecord
from notify.domain.model import SEND_LEASE, Contact, Notification, Trip
from notify.domain.preferences import MessagePreferences
from notify.domain.subscriptions import WebhookEndpoint
from trip_shared.mongo import TenantCollection, take_one
from trip_shared.privacy import ERASED
from trip_shared.read_models import apply_if_newer, apply_parts_if_newer
from trip_shared.retention import Expiry

CONTACTS, TRIPS, NOTIFICATIONS = "contacts", "trips", "notifications"
# The statuses ops count: what is still to go, going, or will not go without a person.
WATCHED_STATUSES = ("pending", "sending", "failed", "waiting_for_contact")
AGENCY_PROFILES = "agency_profiles"
CHANGE_DIGESTS = "change_digests"
MESSAGE_PREFERENCES = "message_preferences"
WEBHOOK_ENDPOINTS = "webhook_endpoints"
AGREEMENTS = "agreements"
FINAL_DOCUMENTS = "final_documents"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[CONTACTS].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[TRIPS].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[TRIPS].create_index([("stage", ASCENDING)])
    notifications = db[NOTIFICATIONS]
    await notifications.create_index(
        [("tenant_id", ASCENDING), ("itinerary_id", ASCENDING), ("created_at", DESCENDING)])
    await notifications.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("status", ASCENDING)])
    await notifications.create_index(
        [("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("created_at", DESCENDING)])
    await notifications.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
    await notifications.create_index([("status", ASCENDING), ("lease_until", ASCENDING)])
    await notifications.create_index([("escalate_at", ASCENDING)])
    await notifications.create_index([("announce_due", ASCENDING)])
    await db[CHANGE_DIGESTS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING),
                                           ("status", ASCENDING)])
    await db[CHANGE_DIGESTS].create_index([("status", ASCENDING), ("due_at", ASCENDING)])
    await db[FINAL_DOCUMENTS].create_index([("tenant_id", ASCENDING), ("customer_ids", ASCENDING)])
    await db[FINAL_DOCUMENTS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING),
                                            ("issued_at", ASCENDING)])


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


class ReadModels:
    """Contacts and trips as last announced by their owners; older events change nothing."""

    def __init__(self, contacts: TenantCollection, trips: TenantCollection) -> None:
        self._contacts = contacts
        self._trips = trips

    async def apply_contact(self, contact: Contact, version: int) -> bool:
        fields = asdict(contact)
        fields.pop("customer_id")
        return await apply_if_newer(self._contacts, contact.customer_id, version, fields)

    async def contact(self, customer_id: str) -> Contact | None:
        document = await self._contacts.find_one({"_id": customer_id})
        if not document:
            return None
        fields = ("first_name", "last_name", "emails", "preferred_language", "status")
        return Contact(customer_id=customer_id, phones=document.get("phones") or [],
                       home_timezone=document.get("home_timezone"), **{name: document[name] for name in fields})

    async def forget_contact(self, customer_id: str) -> None:
        await self._contacts.delete_one({"_id": customer_id})

    async def apply_trip(self, trip: Trip, version: int, members: list[dict] | None = None) -> bool:
        """Keep the newest summary and, separately, the newest membership; with ``members``, True when they are
        now the trip's current membership."""
        fields = {"title": trip.title, "start_date": _iso(trip.start_date), "end_date": _iso(trip.end_date),
                  "stage": trip.stage}
        for name in ("travellers", "items"):
            if getattr(trip, name) is not None:
                fields[name] = getattr(trip, name)
        if members is None:
            return await apply_if_newer(self._trips, trip.itinerary_id, version, fields)
        applied = await apply_parts_if_newer(self._trips, trip.itinerary_id, version,
                                             {None: fields, "members": {"members": members}})
        return applied["members"]

    async def trip(self, itinerary_id: str) -> tuple[Trip | None, list[dict]]:
        document = await self._trips.find_one({"_id": itinerary_id})
        if not document:
            return None, []
        if "title" not in document:  # only its bookings are known so far
            return None, document.get("members", [])
        trip = Trip(itinerary_id=itinerary_id, title=document["title"],
                    start_date=date.fromisoformat(document["start_date"]) if document.get("start_date") else None,
                    end_date=date.fromisoformat(document["end_date"]) if document.get("end_date") else None,
                    stage=document.get("stage") or "inquiry", travellers=document.get("travellers"),
                    items=document.get("items"), reminded=document.get("reminded") or [])
        return trip, document.get("members", [])

    async def record_booking(self, itinerary_id: str, booking_id: str, item_id: str | None, status: str,
                             version: int) -> str | None:
        """Keep each booking's newest status on its trip; the status it had before (None: unknown, or this event
        is older than what is known, and changes nothing)."""
        document = await self._trips.find_one({"_id": itinerary_id}, projection={f"bookings.{booking_id}": 1})
        known = ((document or {}).get("bookings") or {}).get(booking_id)
        if known and known["version"] >= version:
            return None
        await self._trips.update_one({"_id": itinerary_id}, {"$set": {f"bookings.{booking_id}": {
            "item_id": item_id, "status": status, "version": version}}}, upsert=True)
        return known["status"] if known else None

    async def reminded(self, itinerary_id: str, reminder: str) -> None:
        await self._trips.update_one({"_id": itinerary_id}, {"$addToSet": {"reminded": reminder}})

    async def bookings(self, itinerary_id: str) -> dict[str, dict]:
        document = await self._trips.find_one({"_id": itinerary_id}, projection={"bookings": 1})
        return (document or {}).get("bookings") or {}


def to_document(notification: Notification) -> dict:
    document = asdict(notification)
    document["_id"] = document.pop("id")
    return document


_NOTIFICATION_FIELDS = {field.name for field in dataclass_fields(Notification)}


def from_document(document: dict) -> Notification:
    """The notification; what the stores keep beside it (its lease, the channel's id and reports, whether the
    planner was told it is undeliverable) stays in the document."""
    found = {name: value for name, value in document.items() if name in _NOTIFICATION_FIELDS}
    return Notification(id=document["_id"], **found)


class NotificationRepository:
    """Tenant-scoped access, for use cases run on behalf of an agency."""

    def __init__(self, collection: TenantCollection) -> None:
        self._notifications = collection

    async def add(self, notification: Notification) -> bool:
        if await self._notifications.find_one({"_id": notification.id}, projection={"_id": 1}):
            return False
        document = to_document(notification)
        if notification.undeliverable:
            document["announce_due"] = True
        await self._notifications.insert_one(document)
        return True

    async def get(self, notification_id: str) -> dict | None:
        return await self._notifications.find_one({"_id": notification_id})

    async def awaiting_contact(self, customer_id: str) -> list[Notification]:
        cursor = self._notifications.find({"customer_id": customer_id,
                                           "status": {"$in": ["waiting_for_contact", "no_address"]}})
        return [from_document(doc) async for doc in cursor]

    async def cancel_undelivered(self, customer_id: str, reason: str) -> int:
        """Notifications that can no longer reach this customer stop waiting; sent ones stay as the record."""
        result = await self._notifications.update_many(
            {"customer_id": customer_id, "status": {"$in": ["pending", "waiting_for_contact", "no_address"]}},
            {"$set": {"status": "cancelled", "last_error": reason}})
        return result.modified_count

    async def scrub(self, customer_id: str) -> int:
        """Keep that a message was sent and when; not to whom, nor what it said. The planners' messages about the
        customer (what they complained of, what happened to them) go the same way: ``about_customer`` names one
        customer, or lists several."""
        result = await self._notifications.update_many(
            {"$or": [{"customer_id": customer_id}, {"details.about_customer": customer_id}]},
            {"$set": {"recipient": None, "subject": ERASED, "body": ERASED, "details": {}}})
        return result.modified_count

    async def replace(self, notification: Notification) -> None:
        """Save the notification's new state, keeping what the stores hold beside it."""
        document = to_document(notification)
        document.pop("_id")
        if notification.undeliverable:
            document["announce_due"] = True
        await self._notifications.update_one({"_id": notification.id}, {"$set": document})

    async def count_resend(self, notification_id: str, resends_before: int) -> int:
        """Number this resend of the notification (1, 2, …)."""
        await self._notifications.update_one({"_id": notification_id}, {"$set": {"resends": resends_before + 1}})
        return resends_before + 1

    async def take_announcement(self, notification_id: str) -> dict | None:
        """The notification, if its delivery problem (or recovery) is still to be announced; taken, so it is
        announced once, in the transaction that emits the event."""
        document = await self._notifications.find_one({"_id": notification_id, "announce_due": True})
        if document is None:
            return None
        await self._notifications.update_one({"_id": notification_id}, {"$unset": {"announce_due": ""}})
        return document

    async def announced(self, notification_id: str, undeliverable: bool, version: int, reason: str | None) -> None:
        changes = {"undeliverable_announced": undeliverable, "announcements": version}
        if reason:
            changes["undeliverable_reason"] = reason  # what the recovery answers
        await self._notifications.update_one({"_id": notification_id}, {"$set": changes})

    async def acknowledge(self, notification_id: str, now: datetime) -> bool:
        """The client read it (the first click counts; again is harmless); nothing escalates any more."""
        result = await self._notifications.update_one(
            {"_id": notification_id, "acknowledged_at": None},
            {"$set": {"acknowledged_at": now, "escalate_at": None}})
        return result.modified_count == 1

    async def take_escalation(self, notification_id: str, now: datetime) -> bool:
        result = await self._notifications.update_one(
            {"_id": notification_id, "acknowledged_at": None, "escalate_at": {"$lte": now}},
            {"$set": {"escalated_at": now, "escalate_at": None}})
        return result.modified_count == 1

    async def messages(self, filters: dict, after: tuple[datetime, str] | None, limit: int) -> list[dict]:
        """Clients' messages matching ``filters``, oldest first: those after the cursor (created at, id), or
        without one the newest ``limit``."""
        query = {**filters, "audience": "client"}
        if after is None:
            newest = await self._notifications.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]) \
                .limit(limit).to_list(limit)
            return newest[::-1]
        at, last_id = after
        found = await self._notifications.find({**query, "created_at": {"$gte": at}}) \
            .sort([("created_at", ASCENDING), ("_id", ASCENDING)]).limit(limit + 50).to_list(limit + 50)
        return [d for d in found if d["created_at"] > at or d["_id"] > last_id][:limit]

    async def search(self, filters: dict, limit: int) -> list[dict]:
        cursor = self._notifications.find(filters).sort([("created_at", DESCENDING), ("_id", ASCENDING)]).limit(limit)
        return await cursor.to_list(limit)


class DeliveryQueue:
    """The sender's view: claims due notifications across agencies, so one is never sent by two workers."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._notifications = collection

    async def claim(self, notification_id: str | None = None, *, channels: list[str] | None = None) -> dict | None:
        """Move one due notification (or the given one; or one of these ``channels`` only) to ``sending`` under a
        lease; None if there is none."""
        now = datetime.now(UTC)
        claim = {"$set": {"status": "sending", "lease_until": now + SEND_LEASE}}
        # Two indexed queries, not one $or, and no findAndModify (take_one): SecantusDB answers both by scanning
        # every notification ever sent.
        for due, order in (({"status": "pending", "next_attempt_at": {"$lte": now}}, "next_attempt_at"),
                           ({"status": "sending", "lease_until": {"$lt": now}}, "lease_until")):
            query = {**due, "_id": notification_id} if notification_id else dict(due)
            if channels:
                query["channel"] = {"$in": channels}
            taken = await take_one(self._notifications, query, claim, sort=[(order, ASCENDING)], attempts=3)
            if taken is not None:  # read again: what is sent is the row as it is now, leased
                return await self._notifications.find_one({"_id": taken["_id"]})
        return None

    async def counts(self) -> dict[tuple[str, str], int]:
        """How many deliveries wait, are being sent, or failed for good, by (status, channel): across agencies,
        for ops."""
        rows = await self._notifications.aggregate([
            {"$match": {"status": {"$in": list(WATCHED_STATUSES)}}},
            {"$group": {"_id": {"status": "$status", "channel": "$channel"}, "n": {"$sum": 1}}}])
        return {(row["_id"]["status"], row["_id"]["channel"]): row["n"] async for row in rows}

    async def mark_sent(self, notification_id: str, message_id: str, *, announced_undeliverable: bool = False) -> None:
        """Sent. One the planner was told had not reached its client is announced again: it has now."""
        changes = {"status": "sent", "sent_at": datetime.now(UTC), "message_id": message_id, "last_error": None}
        if announced_undeliverable:
            changes["announce_due"] = True
        await self._notifications.update_one({"_id": notification_id, "status": "sending"},
                                             {"$set": changes, "$unset": {"lease_until": ""}})

    async def record_report(self, notification_id: str, message_id: str, status: str, error: str | None,
                            now: datetime) -> bool:
        """The channel's word on a sent message: delivered, or bounced (urgent news that bounced escalates now,
        not when its time to be read runs out). Only a sent message moves, so a late or repeated report changes
        nothing (False). A report that overtakes the sender's own record of the send is kept until that lands."""
        changes: dict = {"status": status, "reported_at": now}
        if error:
            changes["last_error"] = error[:500]
        if status == "bounced":
            changes["announce_due"] = True
        result = await self._notifications.update_one(
            {"_id": notification_id, "message_id": message_id, "status": "sent"}, {"$set": changes})
        if result.modified_count and status == "bounced":
            await self._notifications.update_one({"_id": notification_id, "escalate_at": {"$ne": None}},
                                                 {"$set": {"escalate_at": now}})
        if result.modified_count:
            return True
        early = await self._notifications.update_one(
            {"_id": notification_id, "status": "sending"},
            {"$set": {"early_report": {"message_id": message_id, "status": status, "error": error, "at": now}}})
        return early.modified_count == 1

    async def apply_early_report(self, notification_id: str) -> None:
        document = await self._notifications.find_one({"_id": notification_id}, projection={"early_report": 1})
        report = (document or {}).get("early_report")
        if report:
            await self.record_report(notification_id, report["message_id"], report["status"], report["error"],
                                     report["at"])

    async def mark_failed(self, notification: Notification) -> None:
        await self._notifications.update_one(
            {"_id": notification.id, "status": "sending"},
            {"$set": {"status": notification.status, "attempts": notification.attempts,
                      "last_error": notification.last_error, "next_attempt_at": notification.next_attempt_at,
                      **({"announce_due": True} if notification.undeliverable else {})},
             "$unset": {"lease_until": ""}})


class FinalDocumentSets:
    """The final itineraries notify attaches: each set kept once, however many clients (and resends) it goes to."""

    def __init__(self, collection: TenantCollection) -> None:
        self._sets = collection

    async def add(self, set_id: str, itinerary_id: str, documents: list[dict], customer_ids: list[str],
                  keep_until: datetime, message: dict, issued_at: datetime) -> None:
        """``message``: what the e-mail that carries the set says about it (reason, note, files)."""
        if await self._sets.find_one({"_id": set_id}, projection={"_id": 1}) is None:
            await self._sets.insert_one({"_id": set_id, "itinerary_id": itinerary_id, "documents": documents,
                                         "customer_ids": customer_ids, "keep_until": keep_until,
                                         "message": message, "issued_at": issued_at})

    async def latest_message(self, itinerary_id: str) -> dict | None:
        """What the trip's latest final itinerary e-mail says (for a preview), without its files."""
        found = await self._sets.find_one({"itinerary_id": itinerary_id}, projection={"message": 1},
                                          sort=[("issued_at", -1)])
        return found.get("message") if found else None

    async def forget_customer(self, customer_id: str) -> int:
        """The documents name their travellers: those naming an erased one go."""
        return (await self._sets.delete_many({"customer_ids": customer_id})).deleted_count


class Attachments:
    """The sender's view of the final documents: the files of a set in one language, for one e-mail."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._sets = collection

    def expiry(self) -> Expiry:
        return Expiry(self._sets, "keep_until", timedelta(0))

    async def files(self, tenant_id: str, set_id: str, language: str) -> list[tuple[str, str, bytes]] | None:
        """(filename, media type, content) of the set in ``language`` (English when it has none); None when the
        set is gone (erased, or past its retention)."""
        found = await self._sets.find_one({"_id": set_id, "tenant_id": tenant_id})
        if found is None:
            return None
        languages = {document["language"] for document in found["documents"]}
        chosen = language if language in languages else "en"
        return [(document["filename"], document["media_type"], bytes(document["content"]))
                for document in found["documents"] if document["language"] == chosen]


class ChangeDigests:
    """Per trip and topic (its changes, its confirmations), what the client has not been told yet (one open digest
    at a time), and the digests sent, with whom they went to."""

    def __init__(self, collection: TenantCollection) -> None:
        self._digests = collection

    async def open_for(self, itinerary_id: str, topic: str) -> dict | None:
        return await self._digests.find_one({"itinerary_id": itinerary_id, "status": "open", "topic": topic})

    async def add(self, digest: dict) -> None:
        await self._digests.insert_one(digest)

    async def append(self, digest_id: str, entries: list[dict], fields: dict) -> bool:
        """Add to a still-open digest; False if it was sent meanwhile."""
        result = await self._digests.update_one({"_id": digest_id, "status": "open"},
                                                {"$push": {"changes": {"$each": entries}}, "$set": fields})
        return result.modified_count == 1

    async def close(self, digest_id: str, status: str, recipients: list[str], now: datetime) -> bool:
        """Mark it told (or with nobody to tell); False if another sender closed it first."""
        result = await self._digests.update_one(
            {"_id": digest_id, "status": "open"},
            {"$set": {"status": status, "recipients": recipients, "closed_at": now}})
        return result.modified_count == 1

    async def postpone(self, digest_id: str, due_at: datetime) -> None:
        await self._digests.update_one({"_id": digest_id, "status": "open"}, {"$set": {"due_at": due_at}})

    async def get(self, digest_id: str) -> dict | None:
        return await self._digests.find_one({"_id": digest_id})


class DueDigests:
    """The digest sender's view, across agencies: open digests whose quiet period has passed."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._digests = collection

    async def due(self, now: datetime, limit: int = 50) -> list[dict]:
        cursor = self._digests.find({"status": "open", "due_at": {"$lte": now}},
                                    projection={"_id": 1, "tenant_id": 1}).sort("due_at", ASCENDING).limit(limit)
        return await cursor.to_list(limit)


class DueAnnouncements:
    """Deliveries whose trouble (or recovery) the trip's planner has not heard of yet, across agencies."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._notifications = collection

    async def due(self, limit: int = 50) -> list[dict]:
        return await self._notifications.find({"announce_due": True},
                                              projection={"_id": 1, "tenant_id": 1}).limit(limit).to_list(limit)


class UnacknowledgedUrgent:
    """Urgent messages past their time to be read, across agencies."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._notifications = collection

    async def due(self, now: datetime, limit: int = 50) -> list[dict]:
        return await self._notifications.find({"escalate_at": {"$lte": now}},
                                              projection={"_id": 1, "tenant_id": 1}).limit(limit).to_list(limit)


class ActiveTrips:
    """The reminder clock's view, across agencies: trips that may have a reminder due."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._trips = collection

    async def listed(self, stages: tuple[str, ...]) -> list[dict]:
        return await self._trips.find({"stage": {"$in": list(stages)}},
                                      projection={"_id": 1, "tenant_id": 1}).to_list(None)


class AgencyProfileRepository:
    """One profile per agency (the tenant), versioned."""

    def __init__(self, collection: TenantCollection) -> None:
        self._profiles = collection
        self._id = collection.tenant_id

    async def get(self) -> AgencyProfileRecord | None:
        document = await self._profiles.find_one({"_id": self._id})
        if not document:
            return None
        return AgencyProfileRecord(**{name: document.get(name) for name in AgencyProfileRecord.field_names()
                                      if document.get(name) is not None}, version=document["version"])

    async def save(self, record: AgencyProfileRecord) -> None:
        await self._profiles.save_at_version(self._id, record.version - 1, asdict(record), "agency profile")


class WebhookEndpointRepository:
    """An agency's own endpoints subscribing to its messages."""

    def __init__(self, collection: TenantCollection, read: dict | None = None) -> None:
        """``read``: what this unit of work already read of them (a batch of events asks once)."""
        self._endpoints = collection
        self._read = {} if read is None else read

    async def listed(self) -> list[WebhookEndpoint]:
        if "listed" not in self._read:
            self._read["listed"] = await self._endpoints.find({}, projection={"tenant_id": 0}) \
                .sort("created_at", ASCENDING).to_list(None)
        return [WebhookEndpoint(id=d.pop("_id"), **d) for d in copy.deepcopy(self._read["listed"])]

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        document = await self._endpoints.find_one({"_id": endpoint_id}, projection={"tenant_id": 0})
        return WebhookEndpoint(id=document.pop("_id"), **document) if document else None

    async def save(self, endpoint: WebhookEndpoint) -> None:
        document = asdict(endpoint)
        document.pop("id")
        self._read.clear()
        await self._endpoints.update_one({"_id": endpoint.id}, {"$set": document}, upsert=True)

    async def remove(self, endpoint_id: str) -> bool:
        self._read.clear()
        return (await self._endpoints.delete_one({"_id": endpoint_id})).deleted_count == 1


class Agreements:
    """Changes the clients were asked to agree to (what they were shown), and each one's latest answer."""

    def __init__(self, collection: TenantCollection) -> None:
        self._agreements = collection

    async def add(self, agreement_id: str, itinerary_id: str, changes: list[dict], reason: str | None) -> None:
        if not await self._agreements.find_one({"_id": agreement_id}, projection={"_id": 1}):
            await self._agreements.insert_one({"_id": agreement_id, "itinerary_id": itinerary_id,
                                               "changes": changes, "reason": reason, "answers": {}})

    async def get(self, agreement_id: str) -> dict | None:
        return await self._agreements.find_one({"_id": agreement_id})

    async def answer(self, agreement_id: str, customer_id: str, answer: str, now: datetime) -> int:
        """Keep the answer; how many times this customer has answered (the version of their answer)."""
        document = await self.get(agreement_id) or {}
        version = int(((document.get("answers") or {}).get(customer_id) or {}).get("version") or 0) + 1
        await self._agreements.update_one({"_id": agreement_id}, {"$set": {
            f"answers.{customer_id}": {"answer": answer, "at": now, "version": version}}})
        return version


class MessagePreferencesRepository:
    """Per customer, the kinds of message they stopped."""

    def __init__(self, collection: TenantCollection, read: dict | None = None) -> None:
        """``read``: what this unit of work already read, by customer (a message asks for the same twice)."""
        self._preferences = collection
        self._read = {} if read is None else read

    async def get(self, customer_id: str) -> MessagePreferences:
        if customer_id not in self._read:
            self._read[customer_id] = await self._preferences.find_one({"_id": customer_id}) or {}
        document = self._read[customer_id]
        preferences = MessagePreferences(customer_id, set(document.get("opted_out") or []))
        if document.get("channels"):
            preferences.channels = list(document["channels"])
        return preferences

    async def save(self, preferences: MessagePreferences) -> None:
        self._read.pop(preferences.customer_id, None)
        await self._preferences.update_one(
            {"_id": preferences.customer_id},
            {"$set": {"opted_out": sorted(preferences.opted_out), "channels": preferences.channels}}, upsert=True)

    async def forget(self, customer_id: str) -> None:
        self._read.pop(customer_id, None)
        await self._preferences.delete_one({"_id": customer_id})
