"""MongoDB persistence of feedback and of the trips read model, always within one tenant."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from feedback.domain import complaints
from feedback.domain.complaints import Complaint, Proposal
from feedback.domain.incidents import OPEN_STATUSES, SEVERITY_ORDER, STATUSES, CostImpact, Incident
from feedback.domain.model import Feedback
from feedback.domain.records import TimelineEntry
from feedback.domain.surveys import Scores, Survey, SurveyAnswer, SurveySettings
from trip_shared.money import Money
from trip_shared.mongo import TenantCollection
from trip_shared.privacy import ERASED
from trip_shared.read_models import apply_if_newer, apply_parts_if_newer

FEEDBACK, KNOWN_TRIPS, INCIDENTS, KNOWN_BOOKINGS = "feedback", "known_trips", "incidents", "known_bookings"
COMPLAINTS, SURVEYS, SURVEY_ANSWERS, SURVEY_SETTINGS = "complaints", "surveys", "survey_answers", "survey_settings"
SCORECARDS, URGENT_MESSAGES = "supplier_scorecards", "urgent_messages"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[FEEDBACK].create_index(
        [("tenant_id", ASCENDING), ("itinerary_id", ASCENDING), ("submitted_at", ASCENDING)])
    await db[KNOWN_TRIPS].create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await db[KNOWN_TRIPS].create_index([("tenant_id", ASCENDING), ("stage", ASCENDING)])
    await db[KNOWN_BOOKINGS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING)])
    await db[URGENT_MESSAGES].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING),
                                            ("acknowledged_at", ASCENDING)])
    await db[INCIDENTS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING),
                                      ("reported_at", ASCENDING)])
    await db[INCIDENTS].create_index([("tenant_id", ASCENDING), ("status", ASCENDING), ("reported_at", ASCENDING)])
    await db[INCIDENTS].create_index([("status", ASCENDING), ("escalated_at", ASCENDING),
                                      ("response_due_at", ASCENDING)])
    await db[COMPLAINTS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING),
                                       ("received_at", ASCENDING)])
    await db[COMPLAINTS].create_index([("tenant_id", ASCENDING), ("status_rank", ASCENDING),
                                       ("due_at", ASCENDING)])
    await db[COMPLAINTS].create_index([("tenant_id", ASCENDING), ("complainant", ASCENDING)])
    await db[KNOWN_TRIPS].create_index([("stage", ASCENDING), ("surveys_issued", ASCENDING)])
    await db[SURVEYS].create_index([("tenant_id", ASCENDING), ("itinerary_id", ASCENDING)])
    await db[SURVEYS].create_index([("reminded_at", ASCENDING), ("remind_at", ASCENDING)])
    await db[SURVEY_ANSWERS].create_index([("tenant_id", ASCENDING), ("survey_id", ASCENDING)])
    await db[SURVEY_ANSWERS].create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
    # The agency's figures: by period, and each supplier's scorecard.
    await db[SURVEY_ANSWERS].create_index([("tenant_id", ASCENDING), ("answered_at", ASCENDING)])
    await db[SURVEY_ANSWERS].create_index([("tenant_id", ASCENDING), ("rated_suppliers", ASCENDING)])
    await db[SURVEYS].create_index([("tenant_id", ASCENDING), ("issued_at", ASCENDING)])
    await db[SURVEYS].create_index([("issued_at", ASCENDING)])
    await db[SURVEY_ANSWERS].create_index([("survey_id", ASCENDING)])
    await db[INCIDENTS].create_index([("tenant_id", ASCENDING), ("reported_at", ASCENDING)])
    await db[INCIDENTS].create_index([("tenant_id", ASCENDING), ("supplier", ASCENDING)])
    await db[COMPLAINTS].create_index([("tenant_id", ASCENDING), ("received_at", ASCENDING)])
    await db[COMPLAINTS].create_index([("tenant_id", ASCENDING), ("supplier", ASCENDING), ("cause", ASCENDING)])
    await db[KNOWN_BOOKINGS].create_index([("tenant_id", ASCENDING), ("vendor_name", ASCENDING)])
    await db[KNOWN_BOOKINGS].create_index([("tenant_id", ASCENDING), ("service_start", ASCENDING)])


def _from_document(document: dict) -> Feedback:
    document = dict(document)
    return Feedback(id=document.pop("_id"), **document)


class FeedbackRepository:
    def __init__(self, collection: TenantCollection) -> None:
        self._feedback = collection

    async def add(self, feedback: Feedback) -> None:
        document = asdict(feedback)
        document["_id"] = document.pop("id")
        await self._feedback.insert_one(document)

    async def get(self, feedback_id: str) -> Feedback | None:
        document = await self._feedback.find_one({"_id": feedback_id})
        return _from_document(document) if document else None

    async def for_itinerary(self, itinerary_id: str) -> list[Feedback]:
        cursor = self._feedback.find({"itinerary_id": itinerary_id}).sort("submitted_at", ASCENDING)
        return [_from_document(doc) async for doc in cursor]


    async def scrub_comments_of(self, customer_id: str) -> int:
        """A traveller's own words are personal data; the rating stays for the trip's statistics."""
        result = await self._feedback.update_many({"customer_id": customer_id, "comment": {"$ne": None}},
                                                  {"$set": {"comment": ERASED}})
        return result.modified_count


class KnownTrips:
    """Trips and who travels on them, only from ``itinerary.*`` and membership events."""

    def __init__(self, collection: TenantCollection) -> None:
        self._trips = collection

    async def get(self, itinerary_id: str) -> dict | None:
        return await self._trips.find_one({"_id": itinerary_id})

    async def apply(self, itinerary_id: str, version: int, fields: dict, part: str | None = None) -> bool:
        return await apply_if_newer(self._trips, itinerary_id, version, fields, part=part)

    async def apply_with_members(self, itinerary_id: str, version: int, fields: dict, members: dict) -> None:
        """A membership event's trip summary and its membership (a part versioned on its own), in one write."""
        await apply_parts_if_newer(self._trips, itinerary_id, version, {None: fields, "members": members})

    async def in_stages(self, stages: tuple[str, ...]) -> list[dict]:
        return await self._trips.find({"stage": {"$in": list(stages)}}).to_list(None)

    async def mark_completed(self, itinerary_id: str, at: datetime) -> None:
        """When the trip was first seen completed: the post-trip survey's clock."""
        await self._trips.update_one({"_id": itinerary_id, "completed_at": None}, {"$set": {"completed_at": at}})

    async def mark_surveyed(self, itinerary_id: str, kind: str) -> None:
        await self._trips.update_one({"_id": itinerary_id}, {"$addToSet": {"surveys_issued": kind}})

    async def get_many(self, itinerary_ids: set[str]) -> dict[str, dict]:
        return {trip["_id"]: trip async for trip in self._trips.find({"_id": {"$in": sorted(itinerary_ids)}})}

    async def count_starting_between(self, first_day: str, last_day: str) -> int:
        return await self._trips.count_documents({"start_date": {"$gte": first_day, "$lte": last_day},
                                                  "stage": {"$ne": "cancelled"}})

    async def forget_name(self, customer_id: str) -> None:
        await self._trips.update_many({f"traveller_names.{customer_id}": {"$exists": True}},
                                      {"$unset": {f"traveller_names.{customer_id}": ""}})


class UrgentMessages:
    """Urgent news notify sent clients and whether they confirmed reading it, from ``notification.urgent_*``."""

    def __init__(self, collection: TenantCollection) -> None:
        self._messages = collection

    async def apply(self, notification_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._messages, notification_id, version, fields)

    async def unread_on(self, itinerary_ids: list[str]) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        async for message in self._messages.find({"itinerary_id": {"$in": itinerary_ids}, "acknowledged_at": None}):
            found.setdefault(message["itinerary_id"], []).append({**message, "notification_id": message["_id"]})
        return found


class KnownBookings:
    """Each booking's status and answer deadline, from ``booking.*`` events: what the operations view flags."""

    def __init__(self, collection: TenantCollection) -> None:
        self._bookings = collection

    async def apply(self, booking_id: str, version: int, fields: dict) -> bool:
        return await apply_if_newer(self._bookings, booking_id, version, fields)

    async def with_service_between(self, first_day: str, last_day: str) -> list[dict]:
        """Bookings whose service starts on those days (local dates, as ISO text sorts)."""
        return await self._bookings.find({"service_start": {"$gte": first_day, "$lt": f"{last_day}~"}}).to_list(None)

    async def count_for(self, vendor_name: str) -> int:
        return await self._bookings.count_documents({"vendor_name": vendor_name})

    async def for_itineraries(self, itinerary_ids: list[str]) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        async for booking in self._bookings.find({"itinerary_id": {"$in": itinerary_ids}}):
            found.setdefault(booking["itinerary_id"], []).append({**booking, "booking_id": booking["_id"]})
        return found


def _incident_document(incident: Incident) -> dict:
    document = asdict(incident)
    document["_id"] = document.pop("id")
    # Sort keys, so the list puts what needs a person first: unfinished, then most severe.
    document["status_rank"], document["severity_rank"] = STATUSES.index(incident.status), \
        SEVERITY_ORDER[incident.severity]
    if incident.cost is not None:
        document["cost"] = {"amount": incident.cost.money.amount, "currency": incident.cost.money.currency,
                            "borne_by": incident.cost.borne_by}
    return document


def _incident(document: dict) -> Incident:
    fields = {key: value for key, value in document.items() if key not in ("_id", "status_rank", "severity_rank")}
    cost = fields.pop("cost", None)
    return Incident(id=document["_id"], **{**fields, "timeline": [TimelineEntry(**entry)
                                                                   for entry in fields["timeline"]]},
                    cost=CostImpact(Money(cost["amount"], cost["currency"]), cost["borne_by"]) if cost else None)


class IncidentRepository:
    """Incidents of one agency; each save is checked against the version it was read at."""

    def __init__(self, collection: TenantCollection) -> None:
        self._incidents = collection

    async def add(self, incident: Incident) -> None:
        await self._incidents.insert_one(_incident_document(incident))

    async def get(self, incident_id: str) -> Incident | None:
        document = await self._incidents.find_one({"_id": incident_id})
        return _incident(document) if document else None

    async def save(self, incident: Incident, read_version: int) -> bool:
        """False when someone else changed it since it was read (the caller's transaction is then refused)."""
        document = _incident_document(incident)
        document.pop("_id")
        result = await self._incidents.update_one({"_id": incident.id, "version": read_version}, {"$set": document})
        return result.matched_count == 1

    async def find(self, filters: dict, limit: int) -> list[Incident]:
        """Whatever needs a person first: unfinished before finished, then the most severe, then the oldest."""
        cursor = self._incidents.find(filters).sort([("status_rank", ASCENDING), ("severity_rank", ASCENDING),
                                                     ("reported_at", ASCENDING)]).limit(limit)
        return [_incident(document) async for document in cursor]

    async def scrub_accounts_of(self, customer_id: str) -> list[str]:
        """The staff's account and the timeline of an incident that concerns an erased traveller tell what
        happened to them: they go; the facts the agency counts (kind, severity, times, cost) stay."""
        scrubbed = []
        async for document in self._incidents.find({"travellers": customer_id}):
            timeline = [{**entry, "text": ERASED} for entry in document["timeline"]]
            await self._incidents.update_one({"_id": document["_id"]}, {"$set": {
                "description": ERASED if document.get("description") else None, "summary": ERASED,
                "resolution": ERASED if document.get("resolution") else None, "timeline": timeline}})
            scrubbed.append(document["_id"])
        return scrubbed


class OverdueIncidents:
    """Across agencies: open incidents past their response deadline that have not been escalated."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._incidents = collection

    async def due(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        cursor = self._incidents.find({"status": "open", "escalated_at": None, "response_due_at": {"$lte": now}},
                                      projection={"tenant_id": 1}).sort("response_due_at", DESCENDING).limit(limit)
        return [(document["tenant_id"], document["_id"]) async for document in cursor]


class PlatformFigures:
    """Across agencies, what feedback's gauges count: incidents not yet resolved, and recent surveys with how many
    of their travellers answered."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._incidents, self._surveys, self._answers = db[INCIDENTS], db[SURVEYS], db[SURVEY_ANSWERS]

    async def unresolved_incidents(self) -> list[Incident]:
        found = self._incidents.find({"status": {"$in": list(OPEN_STATUSES)}})
        return [_incident(document) async for document in found]

    async def surveys_issued_since(self, since: datetime) -> tuple[list[Survey], dict[str, int]]:
        surveys = [_survey(document) async for document in self._surveys.find({"issued_at": {"$gte": since}})]
        return surveys, await _answer_counts(self._answers, [survey.id for survey in surveys])


async def _answer_counts(answers, survey_ids: list[str]) -> dict[str, int]:
    """How many travellers answered each survey (one agency's collection, or every agency's)."""
    counts: dict[str, int] = {}
    async for document in answers.find({"survey_id": {"$in": survey_ids}}, projection={"survey_id": 1}):
        counts[document["survey_id"]] = counts.get(document["survey_id"], 0) + 1
    return counts


def _money(money: Money | None) -> dict | None:
    return {"amount": money.amount, "currency": money.currency} if money else None


def _complaint_document(complaint: Complaint) -> dict:
    document = asdict(complaint)
    document["_id"] = document.pop("id")
    # The agency's turn first, the nearest deadline first: what needs a person.
    document["status_rank"] = 0 if complaint.status in complaints.AGENCY_TURN else \
        1 + complaints.STATUSES.index(complaint.status)
    document["proposals"] = [{**asdict(proposal), "money": _money(proposal.money)}
                             for proposal in complaint.proposals]
    return document


def _complaint(document: dict) -> Complaint:
    fields = {key: value for key, value in document.items() if key not in ("_id", "status_rank")}
    proposals = [Proposal(**{**proposal, "money": Money(**proposal["money"]) if proposal["money"] else None})
                 for proposal in fields.pop("proposals")]
    timeline = [TimelineEntry(**entry) for entry in fields.pop("timeline")]
    return Complaint(id=document["_id"], proposals=proposals, timeline=timeline, **fields)


class ComplaintRepository:
    """Complaints of one agency; each save is checked against the version it was read at."""

    def __init__(self, collection: TenantCollection) -> None:
        self._complaints = collection

    async def add(self, complaint: Complaint) -> None:
        await self._complaints.insert_one(_complaint_document(complaint))

    async def get(self, complaint_id: str) -> Complaint | None:
        document = await self._complaints.find_one({"_id": complaint_id})
        return _complaint(document) if document else None

    async def save(self, complaint: Complaint, read_version: int) -> bool:
        """False when someone else changed it since it was read (the caller's transaction is then refused)."""
        document = _complaint_document(complaint)
        document.pop("_id")
        result = await self._complaints.update_one({"_id": complaint.id, "version": read_version},
                                                   {"$set": document})
        return result.matched_count == 1

    async def find(self, filters: dict, limit: int) -> list[Complaint]:
        """The agency's turn first, nearest deadline first; then the client's turn, then the closed."""
        cursor = self._complaints.find(filters).sort([("status_rank", ASCENDING), ("due_at", ASCENDING),
                                                      ("received_at", ASCENDING)]).limit(limit)
        return [_complaint(document) async for document in cursor]

    async def scrub_words_of(self, customer_id: str) -> list[str]:
        """Complaints an erased traveller made: their words and the agency's about them go; the figures stay."""
        scrubbed = []
        async for document in self._complaints.find({"complainant": customer_id}):
            complaint = _complaint(document)
            complaint.forget_personal_text(ERASED)
            updated = _complaint_document(complaint)
            updated.pop("_id")
            await self._complaints.update_one({"_id": complaint.id}, {"$set": updated})
            scrubbed.append(complaint.id)
        return scrubbed


class SurveyRepository:
    """Surveys of one agency, their answers and the agency's survey settings."""

    def __init__(self, surveys: TenantCollection, answers: TenantCollection, settings: TenantCollection) -> None:
        self._surveys, self._answers, self._settings = surveys, answers, settings

    async def add(self, survey: Survey) -> bool:
        """False when this trip already has this kind of survey (one of a kind per trip)."""
        document = asdict(survey)
        document["_id"] = document.pop("id")
        if await self._surveys.find_one({"_id": survey.id}, projection={"_id": 1}):
            return False
        await self._surveys.insert_one(document)
        return True

    async def get(self, survey_id: str) -> Survey | None:
        document = await self._surveys.find_one({"_id": survey_id})
        return _survey(document) if document else None

    async def for_itinerary(self, itinerary_id: str) -> list[Survey]:
        cursor = self._surveys.find({"itinerary_id": itinerary_id}).sort("issued_at", ASCENDING)
        return [_survey(document) async for document in cursor]

    async def mark_reminded(self, survey: Survey) -> None:
        await self._surveys.update_one({"_id": survey.id}, {"$set": {"reminded_at": survey.reminded_at}})

    async def answer(self, survey_id: str, customer_id: str) -> SurveyAnswer | None:
        document = await self._answers.find_one({"_id": f"{survey_id}:{customer_id}"})
        return _answer(document) if document else None

    async def answers(self, survey_id: str) -> list[SurveyAnswer]:
        cursor = self._answers.find({"survey_id": survey_id}).sort("answered_at", ASCENDING)
        return [_answer(document) async for document in cursor]

    async def save_answer(self, answer: SurveyAnswer) -> bool:
        """Saved against the version it revises; False when another answer came in meanwhile."""
        document = _answer_document(answer)
        if answer.version == 1:
            if await self._answers.find_one({"_id": answer.id}, projection={"_id": 1}):
                return False
            await self._answers.insert_one(document)
            return True
        document.pop("_id")
        result = await self._answers.update_one({"_id": answer.id, "version": answer.version - 1},
                                                {"$set": document})
        return result.matched_count == 1

    async def answers_between(self, start: datetime, end: datetime) -> list[SurveyAnswer]:
        cursor = self._answers.find({"answered_at": {"$gte": start, "$lt": end}})
        return [_answer(document) async for document in cursor]

    async def answers_rating(self, supplier: str) -> list[SurveyAnswer]:
        return [_answer(document) async for document in self._answers.find({"rated_suppliers": supplier})]

    async def issued_between(self, start: datetime, end: datetime) -> list[Survey]:
        cursor = self._surveys.find({"issued_at": {"$gte": start, "$lt": end}})
        return [_survey(document) async for document in cursor]

    async def answer_counts(self, survey_ids: list[str]) -> dict[str, int]:
        return await _answer_counts(self._answers, survey_ids)

    async def scrub_comments_of(self, customer_id: str) -> int:
        scrubbed = 0
        async for document in self._answers.find({"customer_id": customer_id}):
            answer = _answer(document)
            answer.forget_comments(ERASED)
            updated = _answer_document(answer)
            updated.pop("_id")
            await self._answers.update_one({"_id": answer.id}, {"$set": updated})
            scrubbed += 1
        return scrubbed

    async def settings(self) -> SurveySettings:
        document = await self._settings.find_one({"_id": self._settings.tenant_id})
        if not document:
            return SurveySettings()
        return SurveySettings(document["mid_trip_day"], document["post_trip_delay_hours"],
                              document["reminder_after_hours"])

    async def save_settings(self, settings: SurveySettings) -> None:
        # One document per agency, keyed by it: ids are unique across agencies.
        await self._settings.update_one({"_id": self._settings.tenant_id}, {"$set": asdict(settings)}, upsert=True)


def _survey(document: dict) -> Survey:
    fields = {key: value for key, value in document.items() if key != "_id"}
    return Survey(id=document["_id"], **fields)


def _scores_document(scores: Scores) -> dict:
    # Suppliers are named as the agency wrote them ("Kyoto Co. Ltd."): values, never field names.
    document = asdict(scores)
    document["supplier_ratings"] = [{"supplier": name, "rating": rating}
                                    for name, rating in scores.supplier_ratings.items()]
    return document


def _scores(document: dict) -> Scores:
    return Scores(**{**document, "supplier_ratings": {entry["supplier"]: entry["rating"]
                                                      for entry in document["supplier_ratings"]}})


def _answer_document(answer: SurveyAnswer) -> dict:
    document = {**asdict(answer), "scores": _scores_document(answer.scores),
                "history": [{**entry, "scores": _scores_document(entry["scores"])} for entry in answer.history],
                "rated_suppliers": sorted(answer.scores.supplier_ratings)}
    document["_id"] = document.pop("id")
    return document


def _answer(document: dict) -> SurveyAnswer:
    fields = {key: value for key, value in document.items() if key not in ("_id", "rated_suppliers")}
    fields["scores"] = _scores(fields["scores"])
    fields["history"] = [{**entry, "scores": _scores(entry["scores"])} for entry in fields["history"]]
    return SurveyAnswer(id=document["_id"], **fields)


class SurveyWork:
    """Across agencies: trips that may be due a survey, and surveys whose reminder is due."""

    def __init__(self, trips: AsyncCollection, surveys: AsyncCollection) -> None:
        self._trips, self._surveys = trips, surveys

    async def trips(self, limit: int = 500) -> list[tuple[str, str]]:
        # The post-trip survey is the last a trip gets: once it went, there is nothing more to send.
        cursor = self._trips.find(
            {"stage": {"$in": ["in_progress", "completed", "archived"]}, "surveys_issued": {"$ne": "post_trip"}},
            projection={"tenant_id": 1}).limit(limit)
        return [(document["tenant_id"], document["_id"]) async for document in cursor]

    async def reminders(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        cursor = self._surveys.find({"reminded_at": None, "remind_at": {"$lte": now}},
                                    projection={"tenant_id": 1}).limit(limit)
        return [(document["tenant_id"], document["_id"]) async for document in cursor]


class Scorecards:
    """The version of each supplier's scorecard, so its events can be told apart in order."""

    def __init__(self, collection: TenantCollection) -> None:
        self._cards = collection

    async def next_version(self, supplier: str) -> int:
        key = f"{self._cards.tenant_id}:{supplier}"  # ids are unique across agencies
        found = await self._cards.find_one({"_id": key})
        version = (found or {}).get("version", 0) + 1
        await self._cards.update_one({"_id": key}, {"$set": {"supplier": supplier, "version": version}}, upsert=True)
        return version
