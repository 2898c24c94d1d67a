"""Use cases of the itinerary service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from itinerary.domain import budget as budgets
from itinerary.domain import feasibility
from itinerary.domain.agency_settings import AgencySettings, exchange_rate
from itinerary.domain.agreements import Agreement
from itinerary.domain.disruptions import (
    DISRUPTING_KINDS,
    NOTHING_TO_ASSESS,
    Assessment,
    Disruption,
    assess,
    check_moves,
    shifted,
)
from itinerary.domain.feasibility import Finding, Traveller
from itinerary.domain.items import Item, item_order
from itinerary.domain.model import Change, Itinerary, MembershipChanged, item_from_snapshot, item_revision
from itinerary.domain.proposals import OptionRequest, ProposalRound
from itinerary.domain.stages import SYSTEM_ACTOR, Readiness
from itinerary.domain.travellers import (
    TravellingCustomer,
    full_name,
    needs_of,
    party_size,
    travelling_customers,
)
from itinerary.service_layer.unit_of_work import ItineraryUnitOfWork
from trip_shared import preconditions
from trip_shared.clock import utc_now
from trip_shared.contracts import booking as booking_events
from trip_shared.contracts import customers as customer_events
from trip_shared.contracts.feedback import IncidentReported
from trip_shared.contracts.itinerary import (
    AgreementAsked,
    CustomerLinked,
    CustomerUnlinked,
    DisruptionApplied,
    FieldChange,
    FinalDocumentsData,
    FinalDocumentsIssued,
    IssuedDocument,
    ItemSnapshot,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryMember,
    ItineraryState,
    ItinerarySummary,
    MembershipChange,
    Party,
    Place,
    PocChanged,
    ProposalAnswered,
    ProposalAnsweredData,
    ProposalOptionSummary,
    ProposalRecipient,
    ProposalSent,
    ProposalSentData,
    Requirement,
    TravellerSnapshot,
    TripState,
)
from trip_shared.contracts.notify import ChangeAgreementAnswered, NotificationRecovered, NotificationUndeliverable
from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.preconditions import Precondition
from trip_shared.privacy import confirm_erasure
from trip_shared.read_models import wait_until_known

log = logging.getLogger(__name__)

PRODUCER = "itinerary"
Transaction = Callable[[Callable[[ItineraryUnitOfWork], Awaitable]], Awaitable]
MEMBERSHIP_EVENTS = {"linked": CustomerLinked, "unlinked": CustomerUnlinked, "poc_changed": PocChanged}


def summary(itinerary: Itinerary, travelling: list[TravellingCustomer] | None = None,
            party: tuple[int, int] | None = None) -> ItinerarySummary:
    travellers = None if travelling is None else [
        TravellerSnapshot(customer_id=t.customer_id, name=t.name, is_poc=t.is_poc,
                          requirements=[Requirement(kind=need.kind, text=need.text) for need in t.needs])
        for t in travelling]
    return ItinerarySummary(itinerary_id=itinerary.id, title=itinerary.title, start_date=itinerary.start_date,
                            end_date=itinerary.end_date, stage=itinerary.stage, planner=itinerary.planner,
                            item_ids=[item.id for item in itinerary.items],
                            items=[_item_snapshot(item) for item in sorted(itinerary.items, key=item_order)],
                            travellers=travellers,
                            party=Party(adults=party[0], children=party[1]) if party else None)


async def _announced(uow: ItineraryUnitOfWork, itinerary: Itinerary) -> ItinerarySummary:
    """The summary every itinerary event carries: its items, and who travels with what needs."""
    ids = [linked.customer_id for linked in itinerary.customers]
    known = await uow.known_customers(itinerary.tenant_id).get_many(ids) if ids else {}
    preferences = await uow.preferences(itinerary.tenant_id).get_many(ids) if ids else {}
    return summary(itinerary, travelling_customers(itinerary, known, preferences),
                   party_size(itinerary, preferences))


def _place(location) -> Place | None:
    return Place(address=location.address, lat=location.lat, lon=location.lon) if location else None


def _item_snapshot(item: Item) -> ItemSnapshot:
    return ItemSnapshot(
        item_id=item.id, kind=item.kind, title=item.title, timezone=item.timezone,
        start=item.start.isoformat(timespec="minutes") if item.timed else (item.start.isoformat() if item.start
                                                                           else None),
        end=(item.end.isoformat(timespec="minutes") if item.timed else item.end.isoformat()) if item.end else None,
        end_timezone=item.end_timezone, starts_at=item.start_utc, ends_at=item.end_utc,
        place=_place(item.location), end_place=_place(item.end_location), mode=item.mode, vendor=item.vendor,
        requires_booking=item.requires_booking, travellers=item.travellers)


def _envelope(itinerary: Itinerary) -> dict:
    return {"tenant_id": itinerary.tenant_id, "aggregate_id": itinerary.id, "aggregate_version": itinerary.version,
            "trip_id": itinerary.id, "producer": PRODUCER}


def _publish_state(uow: ItineraryUnitOfWork, itinerary: Itinerary, announced: ItinerarySummary) -> None:
    """The trip's whole state after a change, on the compacted topic services rebuild their copies from."""
    uow.emit(ItineraryState(data=TripState(itinerary=announced, customers=[
        ItineraryMember(customer_id=c.customer_id, is_poc=c.is_poc) for c in itinerary.customers]),
        **_envelope(itinerary)))


async def _announce_membership(uow: ItineraryUnitOfWork, itinerary: Itinerary, change: MembershipChanged) -> None:
    announced = await _announced(uow, itinerary)
    uow.emit(_membership_event(itinerary, change, announced))
    _publish_state(uow, itinerary, announced)


def _membership_event(itinerary: Itinerary, change: MembershipChanged, announced: ItinerarySummary):
    data = MembershipChange(
        itinerary=announced, customer_id=change.customer_id, is_poc=change.is_poc, reason=change.reason,
        customers=[ItineraryMember(customer_id=c.customer_id, is_poc=c.is_poc) for c in itinerary.customers],
    )
    return MEMBERSHIP_EVENTS[change.kind](data=data, **_envelope(itinerary))


async def _load(uow: ItineraryUnitOfWork, tenant_id: str, itinerary_id: str,
                precondition: Precondition | None = None) -> Itinerary:
    itinerary = await uow.itineraries(tenant_id).get(itinerary_id)
    if itinerary is None:
        raise NotFoundError(f"No itinerary {itinerary_id}.", code="itinerary-not-found")
    preconditions.check(precondition, itinerary.version, "itinerary")
    return itinerary


async def create_itinerary(transaction: Transaction, tenant_id: str, actor: str, title: str,
                           start_date: date | None, end_date: date | None, planner: str | None = None) -> Itinerary:
    itinerary = Itinerary.draft(tenant_id, title, start_date, end_date, planner)

    async def work(uow: ItineraryUnitOfWork) -> None:
        await uow.itineraries(tenant_id).add(itinerary)
        await uow.audit(tenant_id).record(itinerary, actor, "created", [
            Change(name, None, value.isoformat() if isinstance(value, date) else value, f"{name} set")
            for name, value in (("title", title), ("start_date", start_date), ("end_date", end_date),
                                ("planner", itinerary.planner)) if value])
        announced = await _announced(uow, itinerary)
        uow.emit(ItineraryCreated(data=announced, **_envelope(itinerary)))
        _publish_state(uow, itinerary, announced)

    await transaction(work)
    return itinerary


async def _commit(uow: ItineraryUnitOfWork, itinerary: Itinerary, expected_version: int, actor: str, action: str,
                  changes: list[Change], agreement: Agreement | None = None,
                  disruption: DisruptionApplied | None = None) -> None:
    """Save a change, keep it in the audit trail and announce what changed (one version, one event) and, when the
    clients must agree to it, that they are asked."""
    await uow.itineraries(itinerary.tenant_id).save(itinerary, expected_version)
    await uow.audit(itinerary.tenant_id).record(itinerary, actor, action, changes)
    if any(change.field == "stage" and change.after == "booked" for change in changes):
        # Everything is confirmed: the clients get their final itinerary, rendered outside this transaction.
        await uow.final_documents(itinerary.tenant_id).request(itinerary.id, "booked", actor)
    announced = await _announced(uow, itinerary)
    _publish_state(uow, itinerary, announced)
    uow.emit(ItineraryChanged(
        data=announced, action=action,
        changes=[FieldChange(field=c.field, before=c.before, after=c.after, description=c.description)
                 for c in changes],
        agreement=AgreementAsked(agreement_id=agreement.id, reason=agreement.reason) if agreement else None,
        disruption=disruption, **_envelope(itinerary),
    ))


async def revise_itinerary(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str, changes: dict,
                           *, drop_items_outside: bool = False, precondition: Precondition | None = None) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id, precondition)
        expected_version = itinerary.version
        changed = itinerary.revise(changes, drop_items_outside=drop_items_outside)
        if changed:
            await _commit(uow, itinerary, expected_version, actor, "details_changed", changed)
        return itinerary

    return await transaction(work)


async def add_item(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                   fields: dict, ask_client: dict | None = None) -> tuple[Itinerary, Item]:
    """``ask_client`` ({"reason"}): the clients must agree to the new item."""
    async def work(uow: ItineraryUnitOfWork):
        itinerary = await _load(uow, tenant_id, itinerary_id)
        expected_version = itinerary.version
        item, changed = itinerary.add_item(fields)
        agreement = itinerary.ask_agreement(changed, ask_client.get("reason")) if ask_client is not None else None
        await _commit(uow, itinerary, expected_version, actor, "item_added", changed, agreement)
        return itinerary, item

    return await transaction(work)


async def change_item(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str, item_id: str,
                      changes: dict, precondition: Precondition | None = None,
                      ask_client: dict | None = None) -> tuple[Itinerary, Item]:
    """``ask_client`` ({"reason"}): the clients must agree to this change."""
    async def work(uow: ItineraryUnitOfWork):
        itinerary = await _load(uow, tenant_id, itinerary_id)
        preconditions.check(precondition, item_revision(itinerary.item(item_id)), "item")
        expected_version = itinerary.version
        item, changed = itinerary.change_item(item_id, changes)
        if changed:
            agreement = itinerary.ask_agreement(changed, ask_client.get("reason")) if ask_client is not None \
                else None
            await _commit(uow, itinerary, expected_version, actor, "item_changed", changed, agreement)
        return itinerary, item

    return await transaction(work)


async def remove_item(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                      item_id: str, precondition: Precondition | None = None) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork):
        itinerary = await _load(uow, tenant_id, itinerary_id)
        preconditions.check(precondition, item_revision(itinerary.item(item_id)), "item")
        expected_version = itinerary.version
        changed = itinerary.remove_item(item_id)
        await _commit(uow, itinerary, expected_version, actor, "item_removed", changed)
        return itinerary

    return await transaction(work)


async def _readiness(uow: ItineraryUnitOfWork, itinerary: Itinerary) -> tuple[Readiness, dict[str, dict]]:
    """Confirmed required bookings out of those required, and each item's booking, from booking events."""
    bookings = await uow.bookings(itinerary.tenant_id).for_itinerary(itinerary.id)
    by_item: dict[str, dict] = {}
    for booking in sorted(bookings, key=_booking_weight):
        if booking.get("item_id"):
            by_item[booking["item_id"]] = booking  # the item shows its confirmed booking, else an open one
    required = itinerary.required_bookings()
    confirmed = sum(1 for item in required if by_item.get(item.id, {}).get("status") == "confirmed")
    return Readiness(confirmed, len(required)), by_item


def _booking_weight(booking: dict) -> int:
    status = booking.get("status")
    return 2 if status == "confirmed" else 0 if status in ("declined", "expired", "cancelled") else 1


async def move_stage(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str, stage: str,
                     reason: str | None) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork):
        itinerary = await _load(uow, tenant_id, itinerary_id)
        expected_version = itinerary.version
        readiness, _ = await _readiness(uow, itinerary)
        change = itinerary.move_to(stage, actor=actor, now=utc_now(), readiness=readiness, reason=reason)
        await _commit(uow, itinerary, expected_version, actor, "stage_moved", [change])
        return itinerary

    return await transaction(work)


async def move_due_itineraries(transaction: Transaction, now: datetime | None = None) -> int:
    """The clock's part: start trips whose first item has begun and complete those whose last item has ended."""
    now = now or utc_now()
    due = await transaction(lambda uow: uow.due_for_a_move(now))
    moved = 0
    for tenant_id, itinerary_id in due:
        async def work(uow: ItineraryUnitOfWork, tenant_id=tenant_id, itinerary_id=itinerary_id) -> int:
            itinerary = await _load(uow, tenant_id, itinerary_id)
            return await _apply_due_moves(uow, itinerary, now)

        moved += await transaction(work)
    return moved


async def _apply_due_moves(uow: ItineraryUnitOfWork, itinerary: Itinerary, now: datetime) -> int:
    expected_version = itinerary.version
    readiness, _ = await _readiness(uow, itinerary)
    moves = itinerary.due_moves(now, readiness)
    if moves:
        await _commit(uow, itinerary, expected_version, SYSTEM_ACTOR, "stage_moved", moves)
    return len(moves)


# --- final documents ---------------------------------------------------------------------------------------

FINAL_STAGES = ("booked", "in_progress")
# Well inside the largest event the outbox takes (900 KiB of JSON, where base64 makes files a third larger).
DOCUMENTS_BUDGET_BYTES = 560 * 1024
RenderDocuments = Callable[["ItineraryView"], Awaitable[list[IssuedDocument]]]


async def request_final_documents(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                                  note: str | None) -> None:
    """The planner sends the final documents again (the trip changed since, or the client asks)."""
    async def work(uow: ItineraryUnitOfWork) -> None:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        if itinerary.stage not in FINAL_STAGES:
            raise ConflictError(f"The final itinerary goes once every booking is confirmed; this trip is "
                                f"{itinerary.stage}.", code="not-booked-yet")
        await uow.final_documents(tenant_id).request(itinerary_id, "reissued", actor, note)

    await transaction(work)


async def final_documents_state(transaction: Transaction, tenant_id: str, itinerary_id: str) -> dict:
    async def work(uow: ItineraryUnitOfWork) -> dict:
        await _load(uow, tenant_id, itinerary_id)
        return await uow.final_documents(tenant_id).get(itinerary_id) or {"due": False, "issued": []}

    return await transaction(work, read_only=True)


def fit_in_event(documents: list[IssuedDocument]) -> tuple[list[IssuedDocument], list[str]]:
    """The documents an event can carry, calendars first (small, and what a phone imports), then PDFs while they
    fit; the names of those left out, which the client downloads from the trip page instead."""
    carried, left_out, size = [], [], 0
    for document in sorted(documents, key=lambda d: (d.kind != "calendar", d.language)):
        if size + len(document.content) <= DOCUMENTS_BUDGET_BYTES:
            carried.append(document)
            size += len(document.content)
        else:
            left_out.append(document.filename)
    return carried, left_out


async def issue_final_documents(transaction: Transaction, render: RenderDocuments, tenant_id: str,
                                itinerary_id: str) -> FinalDocumentsIssued | None:
    """Render the trip's final documents as it stands and announce them (notify sends them to the clients). The
    rendering runs outside any transaction; if the trip changes meanwhile, the next round renders it again."""
    async def read(uow: ItineraryUnitOfWork):
        request = await uow.final_documents(tenant_id).get(itinerary_id)
        itinerary = await uow.itineraries(tenant_id).get(itinerary_id)
        return request, await _view(uow, itinerary) if itinerary else None

    request, view = await transaction(read, read_only=True)
    if not request or not request.get("due"):
        return None
    if view is None or view.itinerary.stage not in FINAL_STAGES:
        await transaction(lambda uow: uow.final_documents(tenant_id).withdraw(itinerary_id, request["request_id"]))
        return None
    documents, left_out = fit_in_event(await render(view))

    async def announce(uow: ItineraryUnitOfWork) -> FinalDocumentsIssued | None:
        itinerary = await uow.itineraries(tenant_id).get(itinerary_id)
        if itinerary is None or itinerary.version != view.itinerary.version:
            return None
        event = FinalDocumentsIssued(
            data=FinalDocumentsData(itinerary=await _announced(uow, itinerary), reason=request["reason"],
                                    note=request.get("note"), documents=documents, left_out=left_out,
                                    issued_by=request["actor"]),
            **_envelope(itinerary))
        record = {"version": itinerary.version, "at": utc_now(), "reason": request["reason"],
                  "actor": request["actor"], "event_id": str(event.event_id),
                  "documents": [d.filename for d in documents], "left_out": left_out}
        if not await uow.final_documents(tenant_id).issued(itinerary_id, request["request_id"], record):
            return None
        uow.emit(event)
        return event

    return await transaction(announce)


async def issue_due_documents(transaction: Transaction, render: RenderDocuments) -> int:
    """The document issuer's round: every trip whose final documents wait."""
    issued = 0
    for tenant_id, itinerary_id in await transaction(lambda uow: uow.documents_due(), read_only=True):
        try:
            issued += bool(await issue_final_documents(transaction, render, tenant_id, itinerary_id))
        except Exception:  # one trip's trouble (a font missing, a conflict) must not hold up the others
            log.exception("final documents not issued", extra={"itinerary_id": itinerary_id})
    return issued


async def record_booking(event: booking_events.BookingRequested | booking_events.BookingConfirmed
                         | booking_events.BookingDeclined | booking_events.BookingExpired
                         | booking_events.BookingAmendmentRequested | booking_events.BookingCancellationRequested
                         | booking_events.BookingCancelled | booking_events.BookingRequirementsAcknowledged
                         | booking_events.BookingNeedsAttention, uow: ItineraryUnitOfWork) -> None:
    """Each item's booking status; the last confirmation a trip needed moves it to booked."""
    data = event.data
    applied = await uow.bookings(event.tenant_id).apply(data.booking_id, event.aggregate_version, {
        "itinerary_id": data.itinerary_id, "item_id": data.item_id, "status": data.status,
        "vendor_name": data.vendor_name, "confirmation_code": data.confirmation_code, "attention": data.attention,
        "requirements_pending": sum(1 for line in data.requirements if line.acknowledged_at is None),
        "voucher_url": data.voucher_url})
    itinerary = await uow.itineraries(event.tenant_id).get(data.itinerary_id)
    if applied and itinerary is not None:
        await _apply_due_moves(uow, itinerary, utc_now())


async def record_agreement_answer(event: ChangeAgreementAnswered, uow: ItineraryUnitOfWork) -> None:
    """A client's answer to a change they had to agree to, on the trip (its own version, in the audit trail)."""
    data = event.data
    itinerary = await uow.itineraries(event.tenant_id).get(data.itinerary_id)
    if itinerary is None:
        return
    expected_version = itinerary.version
    change = itinerary.record_agreement_answer(data.agreement_id, data.customer_id, data.answer, data.answered_at)
    if change:
        await _commit(uow, itinerary, expected_version, f"customer:{data.customer_id}", "agreement_answered", [change])


async def record_incident(event: IncidentReported, uow: ItineraryUnitOfWork) -> None:
    """A delay or cancellation of one of a trip's items is a disruption the planner works around; other incidents
    are feedback's to follow."""
    data = event.data
    if data.kind not in DISRUPTING_KINDS or data.item_id is None:
        return
    disruptions = uow.disruptions(event.tenant_id)
    itinerary = await uow.itineraries(event.tenant_id).get(data.itinerary_id)
    if itinerary is None or await disruptions.get(data.incident_id) is not None:
        return  # not a trip of this agency's, or already known (the inbox already makes a redelivery a no-op)
    await disruptions.save(Disruption(
        incident_id=data.incident_id, itinerary_id=data.itinerary_id, item_id=data.item_id, kind=data.kind,
        delay_minutes=data.delay_minutes, summary=data.summary, reported_at=event.occurred_at))


async def disruptions_of(transaction: Transaction, tenant_id: str,
                         itinerary_id: str) -> list[tuple[Disruption, Assessment]]:
    """Each disruption of the trip with, while open, what it does to the trip as it is now (one already shifted
    is history: nothing to assess)."""
    async def work(uow: ItineraryUnitOfWork):
        itinerary = await _load(uow, tenant_id, itinerary_id)
        disruptions = await uow.disruptions(tenant_id).for_itinerary(itinerary_id)
        view = await _view(uow, itinerary) if any(d.status == "open" for d in disruptions) else None
        return [(disruption, assess(itinerary.items, disruption, view.findings) if disruption.status == "open"
                 else NOTHING_TO_ASSESS) for disruption in disruptions]

    return await transaction(work, read_only=True)


async def shift_for_disruption(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                               incident_id: str, moves: dict[str, int] | None,
                               precondition: Precondition | None = None) -> tuple[Itinerary, Disruption]:
    """Move the trip around a disruption in one change: the proposed shift, or the planner's own ``moves``
    (item id → minutes). Booking hears which bookings it changes, notify tells the travellers."""
    async def work(uow: ItineraryUnitOfWork) -> tuple[Itinerary, Disruption]:
        itinerary = await _load(uow, tenant_id, itinerary_id, precondition)
        disruptions = uow.disruptions(tenant_id)
        disruption = await disruptions.get(incident_id)
        if disruption is None or disruption.itinerary_id != itinerary_id:
            raise NotFoundError(f"No disruption {incident_id} on this trip.", code="disruption-not-found")
        chosen = moves
        if chosen is None:
            view = await _view(uow, itinerary)
            chosen = assess(itinerary.items, disruption, view.findings).moves
            if disruption.kind == "delay" and disruption.delay_minutes:
                chosen = {disruption.item_id: disruption.delay_minutes, **chosen}
        chosen = check_moves(chosen, itinerary.items)
        disruption.record_shift(chosen, actor, utc_now())
        expected_version = itinerary.version
        changes: list[Change] = []
        for item_id, minutes in chosen.items():
            moved = shifted(itinerary.item(item_id), minutes)
            _, changed = itinerary.change_item(item_id, {"start": moved.start, "end": moved.end,
                                                         "start_occurrence": moved.start_occurrence,
                                                         "end_occurrence": moved.end_occurrence})
            changes += changed
        await disruptions.save(disruption)
        await _commit(uow, itinerary, expected_version, actor, "disruption_shift", changes,
                      disruption=DisruptionApplied(incident_id=incident_id, item_id=disruption.item_id,
                                                   kind=disruption.kind, delay_minutes=disruption.delay_minutes))
        return itinerary, disruption

    return await transaction(work)


async def record_delivery_problem(event: NotificationUndeliverable | NotificationRecovered,
                                  uow: ItineraryUnitOfWork) -> None:
    """A message that did not reach a client is on their trip for the planner to act on, until it does."""
    data = event.data
    await uow.delivery_problems(event.tenant_id).apply(data.notification_id, event.aggregate_version, {
        **data.model_dump(mode="json", exclude={"notification_id"}), "at": event.occurred_at,
        "open": event.event_type == NotificationUndeliverable.TOPIC})


async def record_preferences(event: customer_events.PreferencesRecorded, uow: ItineraryUnitOfWork) -> None:
    """The latest consultation's pace, budget and needs: pacing checks and the budget read them; the trips the
    customer travels on are announced again when their needs changed, so vendors can be told."""
    preferences = uow.preferences(event.tenant_id)
    before = (await preferences.get_many([event.customer_id])).get(event.customer_id)
    recorded = event.data.model_dump(mode="json")
    if await preferences.apply(event.customer_id, event.consultation_version, recorded):
        await _announce_traveller_change(
            uow, event.tenant_id, event.customer_id, "requirements",
            [need.text for need in needs_of(before)], [need.text for need in needs_of(recorded)],
            "A traveller's requirements changed")


async def _announce_traveller_change(uow: ItineraryUnitOfWork, tenant_id: str, customer_id: str, what: str,
                                     before, after, description: str) -> None:
    if before == after:
        return
    for itinerary in await uow.itineraries(tenant_id).with_customer(customer_id):
        expected_version = itinerary.version
        change = itinerary.traveller_changed(customer_id, what, before, after, description)
        if change:
            await _commit(uow, itinerary, expected_version, SYSTEM_ACTOR, "travellers_changed", [change])


MakeLink = Callable[[str, str], tuple[str, datetime]]  # (round id, customer id) -> (url, expires at)


class FeasibilityErrors(ConflictError):
    code = "feasibility-errors"


async def send_proposal(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                        options: list[OptionRequest], message: str | None, make_link: MakeLink,
                        override_reason: str | None = None) -> ProposalRound:
    """Freeze the options, move the trip to proposed, and have notify e-mail each POC their own link.

    A trip with error findings (it cannot work as planned) is proposed only with an override and its reason,
    which the audit trail keeps beside the findings it overrode."""
    async def work(uow: ItineraryUnitOfWork) -> ProposalRound:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        expected_version = itinerary.version
        view = await _view(uow, itinerary)
        sent, changes = itinerary.send_proposal(options, actor=actor, now=utc_now(), message=message,
                                                readiness=view.readiness)
        # Each option is checked as the client would live it: alternatives (two hotels for the same nights) are
        # not in each other's way.
        errors = [(option.title, finding) for option in sent.options
                  for finding in view.errors_of([item_from_snapshot(item) for item in option.items])]
        if errors and not (override_reason or "").strip():
            raise FeasibilityErrors(
                f"{len(errors)} error finding(s): the trip cannot work as planned. Fix them, or propose it anyway "
                "with override_reason saying why.",
                findings=[{"option": option, "kind": f.kind, "message": f.message, "items": list(f.items)}
                          for option, f in errors])
        if errors:
            changes.append(Change("feasibility_override", None, {
                "reason": override_reason.strip(),
                "findings": [f"{f.kind} ({option}): {f.message}" for option, f in errors]},
                f"Proposed despite {len(errors)} error finding(s): {override_reason.strip()}"))
        await _commit(uow, itinerary, expected_version, actor, "proposal_sent", changes)
        recipients = []
        for customer_id in sent.recipients:
            url, expires_at = make_link(sent.id, customer_id)
            recipients.append(ProposalRecipient(customer_id=customer_id, url=url, expires_at=expires_at))
        uow.emit(ProposalSent(data=ProposalSentData(
            itinerary=summary(itinerary), proposal_id=sent.id, message=sent.message, recipients=recipients,
            options=[ProposalOptionSummary(option_id=o.id, title=o.title, note=o.note, prices=o.prices)
                     for o in sent.options]), **_envelope(itinerary)))
        return sent

    return await transaction(work)


async def answer_proposal(transaction: Transaction, tenant_id: str, itinerary_id: str, round_id: str,
                          customer_id: str, *, approve: bool, option_id: str | None, comment: str | None) -> None:
    """A POC's answer from the client page; the trip moves on (approved) or back (planning)."""
    async def work(uow: ItineraryUnitOfWork) -> None:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        expected_version = itinerary.version
        changes = itinerary.answer_proposal(round_id, customer_id, approve=approve, option_id=option_id,
                                            comment=comment, now=utc_now())
        answered = itinerary.proposal_rounds[-1]
        decision = answered.decision
        await _commit(uow, itinerary, expected_version, f"customer {customer_id}", "proposal_answered", changes)
        uow.emit(ProposalAnswered(data=ProposalAnsweredData(
            itinerary=summary(itinerary), proposal_id=round_id, customer_id=customer_id, outcome=decision.outcome,
            option_id=decision.option_id, comment=decision.comment,
            option_title=answered.option(decision.option_id).title if decision.option_id else None),
            **_envelope(itinerary)))

    await transaction(work)


@dataclass(frozen=True)
class ItineraryView:
    """An itinerary with everything shown alongside it: customers, checks, budget, booking readiness."""

    itinerary: Itinerary
    known: dict[str, dict]
    preferences: dict[str, dict]
    readiness: Readiness
    bookings_by_item: dict[str, dict]
    settings: AgencySettings = field(default_factory=AgencySettings)
    delivery_problems: list[dict] = field(default_factory=list)  # messages its clients did not receive

    @property
    def traveller_names(self) -> list[str]:
        """The linked customers' names as the customers service last announced them, points of contact first."""
        customers = sorted(self.itinerary.customers, key=lambda customer: not customer.is_poc)
        names = (" ".join(part for part in (self.known.get(customer.customer_id, {}).get("first_name"),
                                             self.known.get(customer.customer_id, {}).get("last_name")) if part)
                 for customer in customers)
        return [name for name in names if name]

    @property
    def confirmed_item_ids(self) -> set[str]:
        return {item_id for item_id, booking in self.bookings_by_item.items() if booking.get("status") == "confirmed"}

    @property
    def pace(self) -> str | None:
        """The slowest traveller sets the pace."""
        paces = [self.preferences.get(c.customer_id, {}).get("pace") for c in self.itinerary.customers]
        for pace in ("relaxed", "standard", "packed"):
            if pace in paces:
                return pace
        return None

    @property
    def travellers(self) -> list[Traveller]:
        travellers = []
        for linked in self.itinerary.customers:
            known = self.known.get(linked.customer_id, {})
            name = " ".join(part for part in (known.get("first_name"), known.get("last_name")) if part)
            expiry = known.get("passport_expiry")
            travellers.append(Traveller(name or linked.customer_id,
                                        date.fromisoformat(expiry) if expiry else None))
        return travellers

    def findings(self, items: list[Item] | None = None) -> list[Finding]:
        """The trip's findings, or those of some of its items (an option of a proposal), with this trip's dates,
        travellers and the agency's settings."""
        return feasibility.check(self.itinerary.items if items is None else items,
                                 start_date=self.itinerary.start_date, end_date=self.itinerary.end_date,
                                 pace=self.pace, travel=self.settings.travel, travellers=self.travellers)

    def errors_of(self, items: list[Item]) -> list[Finding]:
        return [finding for finding in self.findings(items) if finding.severity == "error"]

    def budget(self) -> budgets.BudgetSummary:
        client_budget = None
        for linked in self.itinerary.pocs + self.itinerary.customers:
            given = self.preferences.get(linked.customer_id, {}).get("budget")
            if given:
                client_budget = budgets.ClientBudget(
                    *(Decimal(str(given[name])).quantize(budgets.CENT) if given.get(name) is not None else None
                      for name in ("minimum", "maximum")), given["currency"])
                break
        return budgets.summarise(self.itinerary.items, self.itinerary.markup_percent, client_budget,
                                 self.settings.exchange_rates)


async def _view(uow: ItineraryUnitOfWork, itinerary: Itinerary) -> ItineraryView:
    ids, tenant_id = [c.customer_id for c in itinerary.customers], itinerary.tenant_id
    (readiness, by_item), customers, preferences, settings, problems = await uow.read_all(
        _readiness(uow, itinerary), uow.known_customers(tenant_id).get_many(ids),
        uow.preferences(tenant_id).get_many(ids), uow.agency_settings(tenant_id).get(),
        uow.delivery_problems(tenant_id).open_for(itinerary.id))
    return ItineraryView(itinerary, customers, preferences, readiness, by_item, settings, problems)


async def view_itinerary(transaction: Transaction, tenant_id: str, itinerary_id: str, *,
                         itinerary: Itinerary | None = None) -> ItineraryView:
    """The whole view; ``itinerary``: the itinerary as a change just committed it (not read again)."""
    async def work(uow: ItineraryUnitOfWork):
        return await _view(uow, itinerary or await _load(uow, tenant_id, itinerary_id))

    # Outside a transaction: on the embedded server a transaction's lock spans all its reads, and the view is a
    # dozen of them; every read sees the latest committed data, and the ETag is the version the itinerary was read at.
    return await transaction(work, read_only=True)


async def history(transaction: Transaction, tenant_id: str, itinerary_id: str, *, limit: int,
                  after_version: int) -> list[dict]:
    async def work(uow: ItineraryUnitOfWork):
        await _load(uow, tenant_id, itinerary_id)
        return await uow.audit(tenant_id).entries(itinerary_id, limit, after_version)

    return await transaction(work)


async def link_customer(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str, customer_id: str,
                        is_poc: bool | None, customer_wait_s: float) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        customer = await uow.known_customers(tenant_id).get(customer_id)
        if customer is None:
            raise _UnknownCustomer(
                f"No customer {customer_id} in this agency. If it was created just now, retry in a moment.",
                code="customer-not-found")
        if customer.get("status") == "inactive":
            raise ConflictError(f"Customer {customer_id} is inactive; reactivate them before linking.",
                                code="customer-inactive")
        return await _apply_membership(uow, itinerary, itinerary.link(customer_id, is_poc), actor)

    # Straight to the transaction: an unknown itinerary answers at once, and only a customer not known yet (created
    # a moment ago, its event still on its way) is waited for, then the link tried once more.
    try:
        return await transaction(work)
    except _UnknownCustomer:
        await wait_until_known(transaction, lambda uow: uow.known_customers(tenant_id).get(customer_id),
                               customer_wait_s)
    return await transaction(work)


class _UnknownCustomer(NotFoundError):
    """No such customer in the read model (yet)."""


async def set_poc(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str, customer_id: str,
                  is_poc: bool, precondition: Precondition | None = None) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id, precondition)
        change = itinerary.set_poc(customer_id, is_poc)
        return await _apply_membership(uow, itinerary, change, actor) if change else itinerary

    return await transaction(work)


async def unlink_customer(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                          customer_id: str, precondition: Precondition | None = None) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id, precondition)
        return await _apply_membership(uow, itinerary, itinerary.unlink(customer_id), actor)

    return await transaction(work)


async def _apply_membership(uow: ItineraryUnitOfWork, itinerary: Itinerary, change: MembershipChanged,
                            actor: str) -> Itinerary:
    # Every membership change bumps the version by exactly one.
    await uow.itineraries(itinerary.tenant_id).save(itinerary, itinerary.version - 1)
    await uow.audit(itinerary.tenant_id).record(itinerary, actor, f"customer_{change.kind}",
                                                [_membership_change(change)])
    await _announce_membership(uow, itinerary, change)
    return itinerary


def _membership_change(change: MembershipChanged) -> Change:
    after = None if change.kind == "unlinked" else {"is_poc": change.is_poc}
    before = {"linked": None, "unlinked": {"linked": True}, "poc_changed": {"is_poc": not change.is_poc}}[change.kind]
    why = f" ({change.reason})" if change.reason else ""
    return Change(f"customers.{change.customer_id}", before, after,
                  f"customer {change.customer_id} {change.kind.replace('_', ' ')}{why}")


async def get_itinerary(transaction: Transaction, tenant_id: str, itinerary_id: str) -> Itinerary:
    """The itinerary alone, for what needs nothing else (the calendar, the PDF, the shared page)."""
    return await transaction(lambda uow: _load(uow, tenant_id, itinerary_id))


async def list_itineraries(transaction: Transaction, tenant_id: str, *, customer_id: str | None, limit: int,
                           before: str | None, stage: str | None = None) -> tuple[list[Itinerary], dict]:
    async def work(uow: ItineraryUnitOfWork):
        found = await uow.itineraries(tenant_id).list(customer_id=customer_id, limit=limit, before=before,
                                                      stage=stage)
        ids = sorted({c.customer_id for itinerary in found for c in itinerary.customers})
        return found, await uow.known_customers(tenant_id).get_many(ids)

    return await transaction(work)


async def record_customer(event: customer_events.CustomerCreated | customer_events.CustomerUpdated
                          | customer_events.CustomerDeactivated, uow: ItineraryUnitOfWork) -> None:
    """Keep the customers read model current; names shown on itineraries come from here, and a renamed
    traveller's open trips are announced again (a vendor's booking may be in their name)."""
    customers = uow.known_customers(event.tenant_id)
    before = full_name(await customers.get(event.data.customer_id))
    if await customers.apply(event.data.customer_id, event.aggregate_version, _known(event.data)):
        await _announce_traveller_change(uow, event.tenant_id, event.data.customer_id, "name", before,
                                         full_name(_known(event.data)), "A traveller's name changed")


def _known(snapshot: customer_events.CustomerSnapshot) -> dict:
    expiry = snapshot.passport_expiry.isoformat() if snapshot.passport_expiry else None
    return {"first_name": snapshot.first_name, "last_name": snapshot.last_name, "status": snapshot.status,
            "passport_expiry": expiry, "preferred_language": snapshot.preferred_language}


async def rebuild_customer(state: customer_events.CustomerState, uow: ItineraryUnitOfWork) -> None:
    """A customer's copy from the state topic: only the read model, nothing announced (nothing changed)."""
    await uow.known_customers(state.tenant_id).apply(state.data.customer_id, state.aggregate_version,
                                                     _known(state.data))


async def forget_customer_copy(tenant_id: str, customer_id: str, uow: ItineraryUnitOfWork) -> None:
    """A tombstone on the state topic: the customer is gone (their own events did the rest when they happened)."""
    await uow.known_customers(tenant_id).forget(customer_id)


async def customer_deleted(event: customer_events.CustomerDeleted, uow: ItineraryUnitOfWork) -> None:
    """Unlink a deleted customer from every itinerary, announcing each change as its own version."""
    customer_id = event.data.customer_id
    await uow.known_customers(event.tenant_id).forget(customer_id)
    await uow.preferences(event.tenant_id).forget(customer_id)
    await uow.delivery_problems(event.tenant_id).forget_customer(customer_id)
    repository = uow.itineraries(event.tenant_id)
    for itinerary in await repository.with_customer(customer_id):
        expected_version = itinerary.version
        changes = [itinerary.drop_customer(customer_id, "customer_deleted")]
        await _announce_membership(uow, itinerary, changes[0])
        promoted = itinerary.restore_poc_rule(customer_id)
        if promoted:
            changes.append(promoted)
            await _announce_membership(uow, itinerary, promoted)
        await repository.save(itinerary, expected_version)
        await uow.audit(event.tenant_id).record(itinerary, SYSTEM_ACTOR, "customer_deleted",
                                                [_membership_change(change) for change in changes])


async def customers_merged(event: customer_events.CustomersMerged, uow: ItineraryUnitOfWork) -> None:
    """The duplicate's links move to the survivor, keeping who was a point of contact."""
    merged_id, survivor = event.data.merged_customer_id, event.data.survivor
    known = uow.known_customers(event.tenant_id)
    await known.forget(merged_id)
    await known.apply(survivor.customer_id, event.aggregate_version, _known(survivor))
    repository = uow.itineraries(event.tenant_id)
    for itinerary in await repository.with_customer(merged_id):
        expected_version = itinerary.version
        was_poc = itinerary.linked(merged_id).is_poc
        changes = [itinerary.drop_customer(merged_id, "customers_merged")]
        await _announce_membership(uow, itinerary, changes[0])
        if not itinerary.is_linked(survivor.customer_id):
            change = itinerary.link(survivor.customer_id, is_poc=was_poc or not itinerary.customers)
        elif was_poc:
            change = itinerary.set_poc(survivor.customer_id, True)
        else:
            change = itinerary.restore_poc_rule(merged_id)
        if change:
            changes.append(replace(change, reason="customers_merged"))
            await _announce_membership(uow, itinerary, changes[-1])
        await repository.save(itinerary, expected_version)
        await uow.audit(event.tenant_id).record(itinerary, SYSTEM_ACTOR, "customers_merged",
                                                [_membership_change(change) for change in changes])


async def customer_erased(event: customer_events.CustomerErased, uow: ItineraryUnitOfWork) -> None:
    """Links stay (the trip still had a traveller); the name this service copied goes."""
    await uow.known_customers(event.tenant_id).scrub(event.data.customer_id)
    await uow.preferences(event.tenant_id).forget(event.data.customer_id)
    confirm_erasure(uow, event, PRODUCER, ["customer name", "customer preferences"])


# --- the agency's own settings -----------------------------------------------------------------------------------

async def agency_settings(transaction: Transaction, tenant_id: str) -> AgencySettings:
    async def work(uow: ItineraryUnitOfWork) -> AgencySettings:
        return await uow.agency_settings(tenant_id).get()

    return await transaction(work, read_only=True)


async def _change_settings(transaction: Transaction, tenant_id: str,
                           change: Callable[[AgencySettings], AgencySettings]) -> AgencySettings:
    async def work(uow: ItineraryUnitOfWork) -> AgencySettings:
        repository = uow.agency_settings(tenant_id)
        current = await repository.get()
        updated = replace(change(current), version=current.version + 1)
        await repository.save(updated, current.version)
        return updated

    return await transaction(work)


async def change_travel_settings(transaction: Transaction, tenant_id: str, changes: dict) -> AgencySettings:
    return await _change_settings(transaction, tenant_id,
                                  lambda settings: replace(settings, travel=settings.travel.with_changes(changes)))


async def set_exchange_rate(transaction: Transaction, tenant_id: str, actor: str, from_currency: str,
                            to_currency: str, rate, as_of: date, source: str) -> AgencySettings:
    entered = exchange_rate(from_currency, to_currency, rate, as_of, source, entered_by=actor, entered_at=utc_now())
    return await _change_settings(transaction, tenant_id, lambda settings: settings.with_rate(entered))


async def remove_exchange_rate(transaction: Transaction, tenant_id: str, from_currency: str,
                               to_currency: str) -> AgencySettings:
    return await _change_settings(transaction, tenant_id,
                                  lambda settings: settings.without_rate(from_currency, to_currency))
