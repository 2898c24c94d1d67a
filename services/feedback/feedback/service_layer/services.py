"""Use cases of the feedback service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from feedback.adapters.repository import OverdueIncidents, SurveyWork
from feedback.domain import analytics
from feedback.domain.complaints import Complaint, ComplaintConflict
from feedback.domain.incidents import CostImpact, Incident, IncidentConflict
from feedback.domain.model import Feedback
from feedback.domain.operations import WATCHED_STAGES, TripWatch, is_watched, watch
from feedback.domain.record import RecordEntry, trip_record
from feedback.domain.surveys import Scores, Survey, SurveyAnswer, SurveySettings, due_kinds, follow_up_account
from feedback.service_layer.unit_of_work import FeedbackUnitOfWork
from trip_shared.clock import utc_now
from trip_shared.contracts import booking as booking_events
from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.envelope import Event
from trip_shared.contracts.feedback import (
    ComplaintRecorded,
    ComplaintState,
    ComplaintUpdated,
    CostImpactDetails,
    FeedbackDetails,
    FeedbackSubmitted,
    IncidentEscalated,
    IncidentReported,
    IncidentState,
    IncidentUpdated,
    OfferDetails,
    SupplierScorecard,
    SupplierScorecardChanged,
    SurveyAnswerDetails,
    SurveyAnswered,
    SurveyDetails,
    SurveyIssued,
    SurveyReminderDue,
)
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryState,
    PocChanged,
)
from trip_shared.contracts.notify import UrgentMessageAcknowledged, UrgentMessageSent
from trip_shared.errors import ConflictError, NotFoundError
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


def _travellers(trip: dict) -> list[str]:
    """The customers linked to a known trip."""
    return [member["customer_id"] for member in trip.get("members", [])]


def _item_ids(trip: dict) -> list[str]:
    return [item["item_id"] for item in trip.get("items") or []]


async def submit_feedback(transaction: Transaction, tenant_id: str, itinerary_id: str, rating: int,
                          customer_id: str | None, comment: str | None, itinerary_wait_s: float) -> Feedback:
    await wait_until_known(transaction, lambda uow: uow.known_trips(tenant_id).get(itinerary_id), itinerary_wait_s)

    async def work(uow: FeedbackUnitOfWork) -> Feedback:
        trip = await _known_trip(uow, tenant_id, itinerary_id)
        travellers = _travellers(trip)
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
    trips = uow.known_trips(event.tenant_id)
    await trips.apply(event.data.itinerary_id, event.aggregate_version, _trip_fields(event.data))
    if event.data.stage in ("completed", "archived"):
        await trips.mark_completed(event.data.itinerary_id, event.occurred_at)


async def rebuild_trip(state: ItineraryState, uow: FeedbackUnitOfWork) -> None:
    """A trip's copy, with its members, from the state topic."""
    data = state.data.itinerary
    trips = uow.known_trips(state.tenant_id)
    await trips.apply_with_members(data.itinerary_id, state.aggregate_version, _trip_fields(data),
                                   {"members": [member.model_dump() for member in state.data.customers]})
    if data.stage in ("completed", "archived"):
        await trips.mark_completed(data.itinerary_id, state.occurred_at)


def _trip_fields(data) -> dict:
    fields = {"title": data.title, "stage": data.stage, "planner": data.planner,
              "start_date": data.start_date.isoformat() if data.start_date else None,
              "end_date": data.end_date.isoformat() if data.end_date else None}
    if data.travellers is not None:
        fields["traveller_names"] = _names(data.travellers)
    if data.items is not None:
        fields["items"] = [{"item_id": item.item_id, "timezone": item.timezone, "title": item.title,
                            "kind": item.kind, "start": item.start, "end": item.end,
                            "end_timezone": item.end_timezone, "starts_at": item.starts_at, "ends_at": item.ends_at,
                            "travellers": item.travellers}
                           for item in data.items]
    return fields


async def record_membership(event: CustomerLinked | CustomerUnlinked | PocChanged, uow: FeedbackUnitOfWork) -> None:
    data = event.data
    members = {"members": [member.model_dump() for member in data.customers]}
    if data.itinerary.travellers is not None:
        members["traveller_names"] = _names(data.itinerary.travellers)
    await uow.known_trips(event.tenant_id).apply_with_members(
        data.itinerary.itinerary_id, event.aggregate_version, {"title": data.itinerary.title}, members)


def _names(travellers) -> dict[str, str]:
    """Who is who on the trip, for the client's pages ("who is writing?")."""
    return {traveller.customer_id: traveller.name for traveller in travellers if traveller.name}


async def customer_erased(event: CustomerErased, uow: FeedbackUnitOfWork) -> None:
    customer_id = event.data.customer_id
    scrubbed = await uow.feedback(event.tenant_id).scrub_comments_of(customer_id)
    incidents = await uow.incidents(event.tenant_id).scrub_accounts_of(customer_id)
    complaints = await uow.complaints(event.tenant_id).scrub_words_of(customer_id)
    answers = await uow.surveys(event.tenant_id).scrub_comments_of(customer_id)
    for aggregate_id in incidents + complaints:  # their published events carry the same words
        await forget_published_events(uow, event.tenant_id, aggregate_id)
    await uow.known_trips(event.tenant_id).forget_name(customer_id)
    confirm_erasure(uow, event, PRODUCER, [f"{scrubbed} feedback comment(s)",
                                           f"{len(incidents)} incident account(s)",
                                           f"{len(complaints)} complaint(s)", f"{answers} survey answer(s)"])


async def record_booking(event: booking_events.BookingRequested | booking_events.BookingConfirmed
                         | booking_events.BookingDeclined | booking_events.BookingExpired
                         | booking_events.BookingAmendmentRequested | booking_events.BookingCancellationRequested
                         | booking_events.BookingCancelled, uow: FeedbackUnitOfWork) -> None:
    """Each booking's status, supplier and answer deadline: what the operations view flags."""
    data = event.data
    service = data.service
    known = await uow.known_bookings(event.tenant_id).apply(data.booking_id, event.aggregate_version, {
        "itinerary_id": data.itinerary_id, "item_id": data.item_id, "status": data.status,
        "vendor_name": data.vendor_name, "respond_by": data.respond_by,
        "service_start": service.start if service else None, "service_timezone": service.timezone if service
        else None})
    if known and isinstance(event, booking_events.BookingRequested):  # one more booking: its rates move
        await _announce_scorecards(uow, event.tenant_id, [data.vendor_name])


async def record_urgent_message(event: UrgentMessageSent | UrgentMessageAcknowledged,
                                uow: FeedbackUnitOfWork) -> None:
    """Urgent news to a client, read or not yet: what the operations view flags."""
    data = event.data
    await uow.urgent_messages(event.tenant_id).apply(data.notification_id, event.aggregate_version, {
        "itinerary_id": data.itinerary_id, "customer_id": data.customer_id, "kind": data.kind,
        "subject": data.subject, "status": data.status, "escalate_at": data.escalate_at,
        "acknowledged_at": data.acknowledged_at})


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
        unread = await uow.urgent_messages(tenant_id).unread_on(ids)
        complaints: dict[str, list[Complaint]] = {}
        for complaint in await uow.complaints(tenant_id).find({"itinerary_id": {"$in": ids}, "status_rank": 0},
                                                              10_000):
            complaints.setdefault(complaint.itinerary_id, []).append(complaint)
        return sorted((watch(trip, by_trip.get(trip["_id"], []), bookings.get(trip["_id"], []), now,
                             unread=unread.get(trip["_id"], []), complaints=complaints.get(trip["_id"], []))
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
            on_trip=_travellers(trip),
            cost=CostImpact.of(**cost) if cost else None, **details)
        await uow.incidents(tenant_id).add(incident)
        uow.emit(IncidentReported(**_envelope(incident)))
        await _announce_scorecards(uow, tenant_id, [incident.supplier])
        return incident

    return await transaction(work)


async def get_incident(transaction: Transaction, tenant_id: str, incident_id: str) -> Incident:
    found = await transaction(lambda uow: uow.incidents(tenant_id).get(incident_id), read_only=True)
    if found is None:
        raise NotFoundError(f"No incident {incident_id}.", code="incident-not-found")
    return found


async def list_incidents(transaction: Transaction, tenant_id: str, filters: dict, limit: int) -> list[Incident]:
    return await transaction(lambda uow: uow.incidents(tenant_id).find(filters, limit), read_only=True)


async def _take_step(transaction: Transaction, repository: Callable, aggregate_id: str, step: Callable,
                     missing: NotFoundError, conflict: ConflictError, announce: Callable[[object], Event],
                     then: Callable[[FeedbackUnitOfWork, object], Awaitable] | None = None):
    """One step in the life of an incident or a complaint (``step`` calls the domain), saved against the version
    read and announced; ``then`` does what follows from it in the same transaction."""
    async def work(uow: FeedbackUnitOfWork):
        found_in = repository(uow)
        found = await found_in.get(aggregate_id)
        if found is None:
            raise missing
        read_version = found.version
        step(found, utc_now())
        if not await found_in.save(found, read_version):
            raise conflict
        uow.emit(announce(found))
        if then is not None:
            await then(uow, found)
        return found

    return await transaction(work)


def _changed_at_once(noun: str, conflict: type[ConflictError]) -> ConflictError:
    return conflict(f"Someone changed this {noun} at the same moment; reload it and retry.", code="concurrent-change")


async def change_incident(transaction: Transaction, tenant_id: str, incident_id: str,
                          step: Callable[[Incident, datetime], None]) -> Incident:
    """One step of the incident's life, announced with what the timeline says of it."""
    def announce(incident: Incident) -> IncidentUpdated:
        last = incident.timeline[-1]
        return IncidentUpdated(change=last.kind, note=last.text, **_envelope(incident))

    return await _take_step(transaction, lambda uow: uow.incidents(tenant_id), incident_id, step,
                            NotFoundError(f"No incident {incident_id}.", code="incident-not-found"),
                            _changed_at_once("incident", IncidentConflict), announce)


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


# --- complaints ------------------------------------------------------------------------------------------------

def _complaint_state(complaint: Complaint) -> ComplaintState:
    offer = complaint.proposal
    return ComplaintState(
        complaint_id=complaint.id, itinerary_id=complaint.itinerary_id, source=complaint.source,
        status=complaint.status, complainant=complaint.complainant, language=complaint.language,
        received_at=complaint.received_at, due_at=complaint.due_at, answer_by=complaint.answer_by,
        owner=complaint.owner, item_id=complaint.item_id, booking_id=complaint.booking_id,
        supplier=complaint.supplier, incident_id=complaint.incident_id, cause=complaint.cause,
        escalation_reason=complaint.escalation_reason,
        offer=OfferDetails(remedy=offer.remedy, amount=offer.money.amount if offer.money else None,
                           currency=offer.money.currency if offer.money else None, message=offer.message)
        if offer else None)


def _complaint_envelope(complaint: Complaint) -> dict:
    return {"tenant_id": complaint.tenant_id, "aggregate_id": complaint.id, "aggregate_version": complaint.version,
            "trip_id": complaint.itinerary_id, "producer": PRODUCER, "data": _complaint_state(complaint)}


async def record_complaint(transaction: Transaction, tenant_id: str, itinerary_id: str, actor: str,
                           itinerary_wait_s: float, **details) -> Complaint:
    """Take a complaint down, from staff or from the client's page. A page sent twice (``complaint_id`` is the
    form's own) records it once."""
    await wait_until_known(transaction, lambda uow: uow.known_trips(tenant_id).get(itinerary_id), itinerary_wait_s)

    async def work(uow: FeedbackUnitOfWork) -> Complaint:
        trip = await _known_trip(uow, tenant_id, itinerary_id)
        complaints = uow.complaints(tenant_id)
        if details.get("complaint_id"):
            already = await complaints.get(details["complaint_id"])
            if already is not None:
                if already.itinerary_id != itinerary_id:
                    raise ComplaintConflict("That form belongs to another trip.", code="complaint-id-taken")
                return already
        complaint = Complaint.record(
            tenant_id, itinerary_id, actor=actor, now=utc_now(),
            on_trip=_travellers(trip),
            items=_item_ids(trip), **details)
        await complaints.add(complaint)
        uow.emit(ComplaintRecorded(**_complaint_envelope(complaint)))
        return complaint

    return await transaction(work)


async def get_complaint(transaction: Transaction, tenant_id: str, complaint_id: str) -> Complaint:
    found = await transaction(lambda uow: uow.complaints(tenant_id).get(complaint_id), read_only=True)
    if found is None:
        raise NotFoundError(f"No complaint {complaint_id}.", code="complaint-not-found")
    return found


async def list_complaints(transaction: Transaction, tenant_id: str, filters: dict, limit: int) -> list[Complaint]:
    return await transaction(lambda uow: uow.complaints(tenant_id).find(filters, limit), read_only=True)


async def change_complaint(transaction: Transaction, tenant_id: str, complaint_id: str,
                           step: Callable[[Complaint, datetime], None]) -> Complaint:
    """One step of the complaint's life, by staff or by the client on their page."""
    return await _take_step(
        transaction, lambda uow: uow.complaints(tenant_id), complaint_id, step,
        NotFoundError(f"No complaint {complaint_id}.", code="complaint-not-found"),
        _changed_at_once("complaint", ComplaintConflict),
        lambda complaint: ComplaintUpdated(change=complaint.timeline[-1].kind, **_complaint_envelope(complaint)),
        then=_supplier_blamed)


async def _supplier_blamed(uow: FeedbackUnitOfWork, complaint: Complaint) -> None:
    """An analysis that finds a supplier at fault (or no longer) moves its scorecard."""
    if complaint.timeline[-1].kind == "analysed":
        await _announce_scorecards(uow, complaint.tenant_id, [complaint.supplier])


async def trip_for_pages(transaction: Transaction, tenant_id: str, itinerary_id: str) -> dict:
    """The trip as a client's page shows it: title, items, who travels."""
    return await transaction(lambda uow: _known_trip(uow, tenant_id, itinerary_id), read_only=True)


# --- surveys ---------------------------------------------------------------------------------------------------

def _survey_details(survey: Survey, respondents: list[str]) -> SurveyDetails:
    return SurveyDetails(survey_id=survey.id, itinerary_id=survey.itinerary_id, kind=survey.kind,
                         respondents=respondents, closes_at=survey.closes_at)


async def issue_due_surveys(transaction: Transaction, work: SurveyWork, now: datetime | None = None) -> int:
    """Send every survey a trip is due (each trip in its own transaction, each kind once); the suppliers rated are
    those whose bookings were confirmed."""
    now = now or utc_now()
    issued = 0
    for tenant_id, itinerary_id in await work.trips():
        async def issue(uow: FeedbackUnitOfWork, tenant_id=tenant_id, itinerary_id=itinerary_id) -> int:
            trips, surveys = uow.known_trips(tenant_id), uow.surveys(tenant_id)
            trip = await trips.get(itinerary_id)
            if trip is None:
                return 0
            settings, sent = await surveys.settings(), 0
            for kind in due_kinds(trip, settings, now):
                bookings = (await uow.known_bookings(tenant_id).for_itineraries([itinerary_id])).get(itinerary_id, [])
                suppliers = [booking["vendor_name"] for booking in bookings
                             if booking.get("status") == "confirmed" and booking.get("vendor_name")]
                survey = Survey.issue(tenant_id, trip, kind, suppliers, settings, now)
                await trips.mark_surveyed(itinerary_id, kind)
                if survey.respondents and await surveys.add(survey):
                    uow.emit(SurveyIssued(tenant_id=tenant_id, aggregate_id=survey.id, aggregate_version=1,
                                          trip_id=itinerary_id, producer=PRODUCER,
                                          data=_survey_details(survey, survey.respondents)))
                    sent += 1
            return sent
        issued += await transaction(issue)
    return issued


async def remind_due_surveys(transaction: Transaction, work: SurveyWork, now: datetime | None = None) -> int:
    """The one reminder of each survey whose time has come, to those who have not answered."""
    now = now or utc_now()
    reminded = 0
    for tenant_id, survey_id in await work.reminders(now):
        async def remind(uow: FeedbackUnitOfWork, tenant_id=tenant_id, survey_id=survey_id) -> int:
            surveys = uow.surveys(tenant_id)
            survey = await surveys.get(survey_id)
            if survey is None:
                return 0
            answered = {answer.customer_id for answer in await surveys.answers(survey_id)}
            who = survey.remind(answered, now)
            await surveys.mark_reminded(survey)
            if not who:
                return 0
            uow.emit(SurveyReminderDue(tenant_id=tenant_id, aggregate_id=survey.id, aggregate_version=2,
                                       trip_id=survey.itinerary_id, producer=PRODUCER,
                                       data=_survey_details(survey, who)))
            return 1
        reminded += await transaction(remind)
    return reminded


def _started(trip: dict) -> bool:
    return trip.get("stage") in ("in_progress", "completed", "archived")


async def survey_to_answer(transaction: Transaction, tenant_id: str, survey_id: str,
                           customer_id: str) -> tuple[Survey, dict, SurveyAnswer | None]:
    """The survey as one traveller sees it: what to rate, the trip, and their answer so far."""
    async def work(uow: FeedbackUnitOfWork):
        survey = await uow.surveys(tenant_id).get(survey_id)
        if survey is None:
            raise NotFoundError(f"No survey {survey_id}.", code="survey-not-found")
        trip = await _known_trip(uow, tenant_id, survey.itinerary_id)
        return survey, trip, await uow.surveys(tenant_id).answer(survey_id, customer_id)

    return await transaction(work, read_only=True)


async def answer_survey(transaction: Transaction, tenant_id: str, survey_id: str, customer_id: str,
                        scores: Scores, language: str, revising: int | None) -> SurveyAnswer:
    """Keep a traveller's answer (a second one revises it, keeping the first); a low one opens a complaint so
    someone calls them. ``revising``: the version of the answer the page showed (None: it showed none)."""
    async def work(uow: FeedbackUnitOfWork) -> SurveyAnswer:
        surveys, now = uow.surveys(tenant_id), utc_now()
        survey = await surveys.get(survey_id)
        if survey is None:
            raise NotFoundError(f"No survey {survey_id}.", code="survey-not-found")
        trip = await _known_trip(uow, tenant_id, survey.itinerary_id)
        earlier = await surveys.answer(survey_id, customer_id)
        if (earlier.version if earlier else None) != revising:
            raise ConflictError("This answer changed since the page was opened; here it is as it stands.",
                                code="answer-changed")
        answer = SurveyAnswer.give(survey, customer_id, scores, language=language,
                                   on_trip=_travellers(trip),
                                   trip_started=_started(trip), now=now, earlier=earlier)
        if answer.needs_follow_up:
            complaint = Complaint.record(
                tenant_id, survey.itinerary_id, source="survey", complainant=customer_id,
                account=follow_up_account(scores, survey.kind), actor=f"survey:{survey.kind}", now=now,
                on_trip=_travellers(trip),
                items=_item_ids(trip), language=language,
                survey_response_id=answer.id)
            await uow.complaints(tenant_id).add(complaint)
            uow.emit(ComplaintRecorded(**_complaint_envelope(complaint)))
            answer.complaint_id = complaint.id
        rated = set(scores.supplier_ratings) | {supplier for entry in answer.history[-1:]
                                                for supplier in entry["scores"].supplier_ratings}
        if not await surveys.save_answer(answer):
            raise ConflictError("Another answer came in at the same moment; reload the page.",
                                code="concurrent-change")
        uow.emit(SurveyAnswered(
            tenant_id=tenant_id, aggregate_id=answer.id, aggregate_version=answer.version,
            trip_id=survey.itinerary_id, producer=PRODUCER,
            data=SurveyAnswerDetails(
                survey_id=survey.id, itinerary_id=survey.itinerary_id, kind=survey.kind, customer_id=customer_id,
                overall=scores.overall, nps=scores.nps, item_ratings=scores.item_ratings,
                supplier_ratings=scores.supplier_ratings, consent_to_contact=scores.consent_to_contact,
                revision=answer.version)))
        await _announce_scorecards(uow, tenant_id, rated)
        return answer

    return await transaction(work)


async def surveys_of(transaction: Transaction, tenant_id: str, itinerary_id: str) -> list[tuple[Survey, list]]:
    async def work(uow: FeedbackUnitOfWork):
        surveys = uow.surveys(tenant_id)
        return [(survey, await surveys.answers(survey.id)) for survey in await surveys.for_itinerary(itinerary_id)]

    return await transaction(work, read_only=True)


async def survey_settings(transaction: Transaction, tenant_id: str) -> SurveySettings:
    return await transaction(lambda uow: uow.surveys(tenant_id).settings(), read_only=True)


async def save_survey_settings(transaction: Transaction, tenant_id: str, settings: SurveySettings) -> SurveySettings:
    async def work(uow: FeedbackUnitOfWork) -> SurveySettings:
        await uow.surveys(tenant_id).save_settings(settings)
        return settings

    return await transaction(work)


# --- what the agency learns ------------------------------------------------------------------------------------

def _instants(start: date, end: date) -> tuple[datetime, datetime]:
    """The days from ``start`` to ``end`` inclusive, as instants (UTC days)."""
    return datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)


async def _announce_scorecards(uow: FeedbackUnitOfWork, tenant_id: str, suppliers: Iterable[str | None]) -> None:
    """Publish the scorecard of each supplier named, as it stands after this transaction's change."""
    for supplier in sorted({supplier for supplier in suppliers if supplier}):
        card = analytics.scorecard(
            supplier, await uow.surveys(tenant_id).answers_rating(supplier),
            await uow.incidents(tenant_id).find({"supplier": supplier}, 100_000),
            await uow.complaints(tenant_id).find({"supplier": supplier, "cause": "supplier"}, 100_000),
            await uow.known_bookings(tenant_id).count_for(supplier))
        version = await uow.scorecards(tenant_id).next_version(supplier)
        uow.emit(SupplierScorecardChanged(
            tenant_id=tenant_id, aggregate_id=supplier, aggregate_version=version, producer=PRODUCER,
            data=SupplierScorecard(supplier=supplier, ratings=card.ratings, average_rating=card.average_rating,
                                   bookings=card.bookings, incidents=card.incidents,
                                   incidents_per_100_bookings=card.incidents_per_100_bookings,
                                   complaints=card.complaints)))


async def satisfaction_report(transaction: Transaction, tenant_id: str, start: date, end: date,
                              by: str) -> list[dict]:
    async def work(uow: FeedbackUnitOfWork) -> list[dict]:
        answers = await uow.surveys(tenant_id).answers_between(*_instants(start, end))
        trips = await uow.known_trips(tenant_id).get_many({answer.itinerary_id for answer in answers})
        return analytics.satisfaction(answers, trips, by)

    return await transaction(work, read_only=True)


async def incident_report(transaction: Transaction, tenant_id: str, start: date, end: date) -> dict:
    async def work(uow: FeedbackUnitOfWork) -> dict:
        lower, upper = _instants(start, end)
        incidents = await uow.incidents(tenant_id).find({"reported_at": {"$gte": lower, "$lt": upper}}, 100_000)
        bookings = await uow.known_bookings(tenant_id).with_service_between(start.isoformat(), end.isoformat())
        trips = await uow.known_trips(tenant_id).count_starting_between(start.isoformat(), end.isoformat())
        return analytics.incident_rates(incidents, bookings, trips)

    return await transaction(work, read_only=True)


async def complaint_report(transaction: Transaction, tenant_id: str, start: date, end: date) -> list[dict]:
    async def work(uow: FeedbackUnitOfWork) -> list[dict]:
        lower, upper = _instants(start, end)
        found = await uow.complaints(tenant_id).find({"received_at": {"$gte": lower, "$lt": upper}}, 100_000)
        return analytics.complaint_resolution(found, utc_now())

    return await transaction(work, read_only=True)


async def response_report(transaction: Transaction, tenant_id: str, start: date, end: date) -> list[dict]:
    async def work(uow: FeedbackUnitOfWork) -> list[dict]:
        surveys = await uow.surveys(tenant_id).issued_between(*_instants(start, end))
        counts = await uow.surveys(tenant_id).answer_counts([survey.id for survey in surveys])
        return analytics.response_rates(surveys, Counter(counts))

    return await transaction(work, read_only=True)


async def record_of(transaction: Transaction, tenant_id: str, itinerary_id: str) -> list[RecordEntry]:
    """Every incident, complaint and survey step of the trip, in the order it happened."""
    async def work(uow: FeedbackUnitOfWork) -> list[RecordEntry]:
        await _known_trip(uow, tenant_id, itinerary_id)
        on_trip = {"itinerary_id": itinerary_id}
        surveys = await uow.surveys(tenant_id).for_itinerary(itinerary_id)
        answers = [answer for survey in surveys for answer in await uow.surveys(tenant_id).answers(survey.id)]
        return trip_record(await uow.incidents(tenant_id).find(on_trip, 10_000),
                           await uow.complaints(tenant_id).find(on_trip, 10_000), surveys, answers)

    return await transaction(work, read_only=True)
