"""Use cases of the feedback service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from feedback.adapters.repository import OverdueIncidents
from feedback.domain.incidents import CostImpact, Incident, IncidentConflict
from feedback.domain.model import Feedback
from feedback.domain.operations import WATCHED_STAGES, TripWatch, is_watched, watch
from feedback.service_layer.unit_of_work import FeedbackUnitOfWork
from trip_shared.clock import utc_now
from trip_shared.contracts import booking as booking_events
from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.feedback import (
    CostImpactDetails,
    FeedbackDetails,
    FeedbackSubmitted,
    IncidentEscalated,
    IncidentReported,
    IncidentState,
    IncidentUpdated,
)
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryCreated,
    PocChanged,
)
from trip_shared.errors import NotFoundError
from trip_shared.privacy import confirm_erasure, forget_published_events
from trip_shared.read_models import wait_until_known

PRODUCER = "feedback"
Transaction = Callable[[Callable[[FeedbackUnitOfWork], Awaitable]], Awaitable]


async def _known_trip(uow: FeedbackUnitOfWork, tenant_id: str, itinerary_id: str) -> dict:
    trip = await uow.known_trips(tenant_id).get(itinerary_id)
    if trip is None:
        raise NotFoundError(f"No itinerary {itinerary_id} in this agency. If it was created just now, retry "
                            "in a moment.", code="itinerary-not-found")
    return trip


async def submit_feedback(transaction: Transaction, tenant_id: str, itinerary_id: str, rating: int,
                          customer_id: str | None, comment: str | None, itinerary_wait_s: float) -> Feedback:
    await wait_until_known(transaction, lambda uow: uow.known_trips(tenant_id).get(itinerary_id), itinerary_wait_s)

    async def work(uow: FeedbackUnitOfWork) -> Feedback:
        trip = await _known_trip(uow, tenant_id, itinerary_id)
        travellers = [member["customer_id"] for member in trip.get("members", [])]
        feedback = Feedback.submit(tenant_id, itinerary_id, rating, customer_id=customer_id, comment=comment,
                                   travellers=travellers)
        await uow.feedback(tenant_id).add(feedback)
        uow.emit(FeedbackSubmitted(
            tenant_id=tenant_id, aggregate_id=feedback.id, aggregate_version=1, trip_id=itinerary_id,
            producer=PRODUCER,
            data=FeedbackDetails(feedback_id=feedback.id, itinerary_id=itinerary_id, customer_id=customer_id,
                                 rating=rating, comment=feedback.comment),
        ))
        return feedback

    return await transaction(work)


async def get_feedback(transaction: Transaction, tenant_id: str, feedback_id: str) -> Feedback:
    found = await transaction(lambda uow: uow.feedback(tenant_id).get(feedback_id))
    if found is None:
        raise NotFoundError(f"No feedback {feedback_id}.", code="feedback-not-found")
    return found


async def feedback_for(transaction: Transaction, tenant_id: str, itinerary_id: str) -> list[Feedback]:
    return await transaction(lambda uow: uow.feedback(tenant_id).for_itinerary(itinerary_id))


async def record_itinerary(event: ItineraryCreated | ItineraryChanged, uow: FeedbackUnitOfWork) -> None:
    """The trip's title, stage and dates, and each item's zone (an incident on an item is timed where it is)."""
    data = event.data
    fields = {"title": data.title, "stage": data.stage,
              "start_date": data.start_date.isoformat() if data.start_date else None,
              "end_date": data.end_date.isoformat() if data.end_date else None}
    if data.items is not None:
        fields["items"] = [{"item_id": item.item_id, "timezone": item.timezone, "title": item.title,
                            "kind": item.kind, "start": item.start, "end": item.end,
                            "end_timezone": item.end_timezone, "starts_at": item.starts_at, "ends_at": item.ends_at}
                           for item in data.items]
    await uow.known_trips(event.tenant_id).apply(data.itinerary_id, event.aggregate_version, fields)


async def record_membership(event: CustomerLinked | CustomerUnlinked | PocChanged, uow: FeedbackUnitOfWork) -> None:
    data = event.data
    trips = uow.known_trips(event.tenant_id)
    await trips.apply(data.itinerary.itinerary_id, event.aggregate_version, {"title": data.itinerary.title})
    await trips.apply(data.itinerary.itinerary_id, event.aggregate_version,
                      {"members": [member.model_dump() for member in data.customers]}, part="members")


async def customer_erased(event: CustomerErased, uow: FeedbackUnitOfWork) -> None:
    scrubbed = await uow.feedback(event.tenant_id).scrub_comments_of(event.data.customer_id)
    incidents = await uow.incidents(event.tenant_id).scrub_accounts_of(event.data.customer_id)
    for incident_id in incidents:  # its published events carry the same account
        await forget_published_events(uow, event.tenant_id, incident_id)
    confirm_erasure(uow, event, PRODUCER, [f"{scrubbed} feedback comment(s)",
                                           f"{len(incidents)} incident account(s)"])


async def record_booking(event: booking_events.BookingRequested | booking_events.BookingConfirmed
                         | booking_events.BookingDeclined | booking_events.BookingExpired
                         | booking_events.BookingAmendmentRequested | booking_events.BookingCancellationRequested
                         | booking_events.BookingCancelled, uow: FeedbackUnitOfWork) -> None:
    """Each booking's status, supplier and answer deadline: what the operations view flags."""
    data = event.data
    service = data.service
    await uow.known_bookings(event.tenant_id).apply(data.booking_id, event.aggregate_version, {
        "itinerary_id": data.itinerary_id, "item_id": data.item_id, "status": data.status,
        "vendor_name": data.vendor_name, "respond_by": data.respond_by,
        "service_start": service.start if service else None, "service_timezone": service.timezone if service
        else None})


async def trips_to_watch(transaction: Transaction, tenant_id: str, days_ahead: int,
                         now: datetime | None = None) -> list[TripWatch]:
    """The agency's trips under way and leaving within ``days_ahead`` days, what needs a person first."""
    now = now or utc_now()

    async def work(uow: FeedbackUnitOfWork) -> list[TripWatch]:
        trips = [trip for trip in await uow.known_trips(tenant_id).in_stages(WATCHED_STAGES)
                 if is_watched(trip, now.date(), days_ahead)]
        ids = [trip["_id"] for trip in trips]
        incidents = await uow.incidents(tenant_id).find({"itinerary_id": {"$in": ids},
                                                         "status": {"$in": ["open", "acknowledged"]}}, 10_000)
        by_trip: dict[str, list] = {}
        for incident in incidents:
            by_trip.setdefault(incident.itinerary_id, []).append(incident)
        bookings = await uow.known_bookings(tenant_id).for_itineraries(ids)
        return sorted((watch(trip, by_trip.get(trip["_id"], []), bookings.get(trip["_id"], []), now)
                       for trip in trips), key=TripWatch.urgency)

    return await transaction(work, read_only=True)


# --- incidents -------------------------------------------------------------------------------------------------

def _incident_state(incident: Incident) -> IncidentState:
    cost = incident.cost
    return IncidentState(
        incident_id=incident.id, itinerary_id=incident.itinerary_id, kind=incident.kind,
        severity=incident.severity, status=incident.status, summary=incident.summary,
        description=incident.description, occurred_local=incident.occurred_local, timezone=incident.timezone,
        occurred_at=incident.occurred_at, response_due_at=incident.response_due_at, item_id=incident.item_id,
        booking_id=incident.booking_id, supplier=incident.supplier, delay_minutes=incident.delay_minutes,
        owner=incident.owner, travellers=incident.travellers, resolution=incident.resolution,
        cost=CostImpactDetails(amount=cost.money.amount, currency=cost.money.currency, borne_by=cost.borne_by)
        if cost else None)


def _envelope(incident: Incident) -> dict:
    return {"tenant_id": incident.tenant_id, "aggregate_id": incident.id, "aggregate_version": incident.version,
            "trip_id": incident.itinerary_id, "producer": PRODUCER, "data": _incident_state(incident)}


async def report_incident(transaction: Transaction, tenant_id: str, itinerary_id: str, actor: str,
                          itinerary_wait_s: float, cost: dict | None = None, **details) -> Incident:
    """Record what went wrong on a trip, timed where it happened, with the deadline for a person to answer."""
    await wait_until_known(transaction, lambda uow: uow.known_trips(tenant_id).get(itinerary_id), itinerary_wait_s)

    async def work(uow: FeedbackUnitOfWork) -> Incident:
        trip = await _known_trip(uow, tenant_id, itinerary_id)
        incident = Incident.report(
            tenant_id, itinerary_id, actor=actor, now=utc_now(),
            item_zones={item["item_id"]: item["timezone"] for item in trip.get("items") or []},
            on_trip=[member["customer_id"] for member in trip.get("members", [])],
            cost=CostImpact.of(**cost) if cost else None, **details)
        await uow.incidents(tenant_id).add(incident)
        uow.emit(IncidentReported(**_envelope(incident)))
        return incident

    return await transaction(work)


async def get_incident(transaction: Transaction, tenant_id: str, incident_id: str) -> Incident:
    found = await transaction(lambda uow: uow.incidents(tenant_id).get(incident_id), read_only=True)
    if found is None:
        raise NotFoundError(f"No incident {incident_id}.", code="incident-not-found")
    return found


async def list_incidents(transaction: Transaction, tenant_id: str, filters: dict, limit: int) -> list[Incident]:
    return await transaction(lambda uow: uow.incidents(tenant_id).find(filters, limit), read_only=True)


async def change_incident(transaction: Transaction, tenant_id: str, incident_id: str,
                          step: Callable[[Incident, datetime], None]) -> Incident:
    """One step of the incident's life (``step`` calls the domain), saved against the version read and
    announced with what the timeline says of it."""
    async def work(uow: FeedbackUnitOfWork) -> Incident:
        incidents = uow.incidents(tenant_id)
        incident = await incidents.get(incident_id)
        if incident is None:
            raise NotFoundError(f"No incident {incident_id}.", code="incident-not-found")
        read_version = incident.version
        step(incident, utc_now())
        if not await incidents.save(incident, read_version):
            raise IncidentConflict("Someone changed this incident at the same moment; reload it and retry.",
                                   code="concurrent-change")
        last = incident.timeline[-1]
        uow.emit(IncidentUpdated(change=last.kind, note=last.text, **_envelope(incident)))
        return incident

    return await transaction(work)


async def escalate_overdue_incidents(transaction: Transaction, overdue: OverdueIncidents,
                                     now: datetime | None = None) -> int:
    """Every open incident past its response deadline escalates once, each in its own transaction."""
    now = now or utc_now()
    escalated = 0
    for tenant_id, incident_id in await overdue.due(now):
        async def work(uow: FeedbackUnitOfWork, tenant_id=tenant_id, incident_id=incident_id) -> bool:
            incidents = uow.incidents(tenant_id)
            incident = await incidents.get(incident_id)
            if incident is None:
                return False
            read_version = incident.version
            if not incident.escalate(now) or not await incidents.save(incident, read_version):
                return False  # acknowledged meanwhile, or another replica escalated it first
            uow.emit(IncidentEscalated(reason=incident.timeline[-1].text, **_envelope(incident)))
            return True
        escalated += await transaction(work)
    return escalated
