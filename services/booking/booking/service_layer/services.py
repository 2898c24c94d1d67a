"""Use cases of the booking service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Protocol

from booking.domain.follow_up import BookingSettings
from booking.domain.model import CLOSED_STATUSES, Booking, Deposit, Money
from booking.domain.readiness import TripReadiness, trip_readiness
from booking.domain.suppliers import Supplier
from booking.service_layer.unit_of_work import BookingUnitOfWork
from trip_shared.clock import utc_now
from trip_shared.contracts import booking as events
from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.feedback import SupplierScorecardChanged
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    DisruptionApplied,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryState,
    ItinerarySummary,
    PocChanged,
)
from trip_shared.errors import ConflictError, DomainError, NotFoundError
from trip_shared.local_time import duration_label
from trip_shared.privacy import ERASED, confirm_erasure
from trip_shared.read_models import wait_until_known

PRODUCER = "booking"
SUPPLIER_ACTOR = "supplier"
SYSTEM_ACTOR = "system"
Transaction = Callable[[Callable[[BookingUnitOfWork], Awaitable]], Awaitable]


class MakeResponseLink(Protocol):
    """(tenant, booking id, round, valid until) -> (url, expires at): the supplier's answer page for one message;
    ``callback(tenant, supplier id)``: where a webhook supplier posts its answers."""

    def __call__(self, tenant_id: str, booking_id: str, round_: int,
                 respond_by: datetime | None) -> tuple[str, datetime]: ...

    def callback(self, tenant_id: str, supplier_id: str) -> str: ...


@dataclass(frozen=True)
class RequestSpec:
    item_id: str
    supplier_id: str
    price: Money | None = None
    deposit: Deposit | None = None
    vendor_note: str | None = None
    respond_by: datetime | None = None


# --- events ----------------------------------------------------------------------------------------------------------

def details(booking: Booking, contract: type[events.BookingDetails] = events.BookingDetails,
            actor: str | None = None, channel: str | None = None) -> events.BookingDetails:
    document = asdict(booking)
    return contract(
        booking_id=booking.id, itinerary_id=booking.itinerary_id, vendor_name=booking.vendor_name,
        description=booking.description, item_id=booking.item_id, status=booking.status,
        confirmation_code=booking.confirmation_code, confirmed_at=booking.confirmed_at,
        supplier_id=booking.supplier_id, service=booking.service or None, party_adults=booking.party_adults,
        party_children=booking.party_children, traveller_names=booking.traveller_names,
        requirements=[events.RequirementLine(requirement_id=line.id, traveller_id=line.traveller_id,
                                             traveller_name=line.traveller_name, kind=line.kind, text=line.text,
                                             acknowledged_at=line.acknowledged_at) for line in booking.requirements],
        price=document["price"], confirmed_price=document["confirmed_price"], deposit=document["deposit"],
        respond_by=booking.respond_by, round=booking.round, decline_reason=booking.decline_reason,
        alternative=booking.alternative, amendment_changes=booking.amendment_changes,
        cancellation_reason=booking.cancellation_reason, cancellation_reference=booking.cancellation_reference,
        attention=booking.attention, attention_changes=booking.attention_changes, chases=booking.chases,
        reconfirmed_at=booking.reconfirmed_at, voucher_url=booking.voucher_url, actor=actor, channel=channel)


def _emit(uow: BookingUnitOfWork, booking: Booking, contract: type[events.Event], actor: str, channel: str,
          **extra) -> None:
    payload = events.BookingDetails if contract in (events.BookingRequested, events.BookingConfirmed) \
        else events.BookingState
    uow.emit(contract(data=details(booking, payload, actor, channel), tenant_id=booking.tenant_id,
                      aggregate_id=booking.id, aggregate_version=booking.version, trip_id=booking.itinerary_id,
                      producer=PRODUCER, **extra))


def _message(booking: Booking, supplier: Supplier, kind: str, make_link: MakeResponseLink) -> events.SupplierMessage:
    """What notify sends the supplier for this round, with the link that answers it (by e-mail) or the round the
    callback must name (by webhook)."""
    url, expires_at = make_link(booking.tenant_id, booking.id, booking.round, booking.respond_by) \
        if supplier.channel == "email" else (None, None)
    webhook = supplier.channel == "webhook"
    contact = next((contact for contact in supplier.contacts if contact.email), None)
    return events.SupplierMessage(
        kind=kind, supplier_id=supplier.id, supplier_name=supplier.name, channel=supplier.channel,
        language=supplier.language, email=contact.email if contact else None,
        contact_name=contact.name if contact else None, webhook_url=supplier.webhook_url,
        vendor_note=booking.vendor_note,
        amendment_reason=booking.amendment_reason if kind == "amendment" else
        (booking.cancellation_reason if kind == "cancellation" else None),
        response_url=url, response_expires_at=expires_at,
        callback_url=make_link.callback(booking.tenant_id, supplier.id) if webhook else None,
        secret_generation=supplier.secret_generation if webhook else None)


# --- loading ---------------------------------------------------------------------------------------------------------

async def _load(uow: BookingUnitOfWork, tenant_id: str, booking_id: str) -> Booking:
    booking = await uow.bookings(tenant_id).get(booking_id)
    if booking is None:
        raise NotFoundError(f"No booking {booking_id}.", code="booking-not-found")
    return booking


async def _load_supplier(uow: BookingUnitOfWork, tenant_id: str, supplier_id: str) -> Supplier:
    supplier = await uow.suppliers(tenant_id).get(supplier_id)
    if supplier is None:
        raise NotFoundError(f"No supplier {supplier_id}.", code="supplier-not-found")
    return supplier


async def _trip(uow: BookingUnitOfWork, tenant_id: str, itinerary_id: str) -> dict:
    trip = await uow.known_itineraries(tenant_id).get(itinerary_id)
    if trip is None:
        raise NotFoundError(f"No itinerary {itinerary_id} in this agency. If it was created just now, retry "
                            "in a moment.", code="itinerary-not-found")
    return trip


def _item(trip: dict, item_id: str) -> dict:
    item = (trip.get("items") or {}).get(item_id)
    if item is None:
        raise DomainError(f"Item {item_id} is not on itinerary {trip['_id']}. If it was added just now, retry in a "
                          "moment.", code="item-not-on-itinerary")
    return item


def _open_for(bookings: list[Booking], item_id: str) -> Booking | None:
    return next((b for b in bookings if b.item_id == item_id and b.status not in CLOSED_STATUSES), None)


async def _store(uow: BookingUnitOfWork, booking: Booking, expected_version: int | None,
                 settings: BookingSettings | None = None) -> None:
    """Save (or add, without an expected version) a booking, with when the clock should next look at it (by the
    agency's ``settings``, read here unless the caller has them)."""
    booking.schedule(settings or await uow.settings(booking.tenant_id).get())
    if expected_version is None:
        await uow.bookings(booking.tenant_id).add(booking)
    else:
        await uow.bookings(booking.tenant_id).save(booking, expected_version)


# --- requests --------------------------------------------------------------------------------------------------------

async def request_bookings(transaction: Transaction, tenant_id: str, actor: str, itinerary_id: str,
                           specs: list[RequestSpec], make_link: MakeResponseLink,
                           itinerary_wait_s: float) -> list[Booking]:
    """Request each item from its supplier, all or none: an item already held by an open booking is refused."""
    async def known_with_items(uow: BookingUnitOfWork) -> dict | None:
        trip = await uow.known_itineraries(tenant_id).get(itinerary_id)
        items = (trip or {}).get("items") or {}
        return trip if trip and all(spec.item_id in items for spec in specs) else None

    # The itinerary, or an item just added to it, may not have reached this service yet: give it a moment.
    await wait_until_known(transaction, known_with_items, itinerary_wait_s)

    async def work(uow: BookingUnitOfWork) -> list[Booking]:
        trip = await _trip(uow, tenant_id, itinerary_id)
        existing = await uow.bookings(tenant_id).for_itinerary(itinerary_id)
        made = []
        for spec in specs:
            item = _item(trip, spec.item_id)
            supplier = await _load_supplier(uow, tenant_id, spec.supplier_id)
            held = _open_for(existing + made, spec.item_id)
            if held is not None:
                raise ConflictError(f"Item {spec.item_id} already has booking {held.id} ({held.status}); amend or "
                                    "cancel it instead.", code="item-already-requested", booking_id=held.id)
            booking = Booking.request(tenant_id, itinerary_id, supplier=supplier, item=item,
                                      travellers=trip.get("travellers") or [], party=trip.get("party"),
                                      price=spec.price, deposit=spec.deposit, vendor_note=spec.vendor_note,
                                      respond_by=spec.respond_by, actor=actor)
            await _store(uow, booking, None)
            _emit(uow, booking, events.BookingRequested, actor, "api",
                  to_supplier=_message(booking, supplier, "request", make_link))
            made.append(booking)
        return made

    return await transaction(work)


async def unrequested_items(transaction: Transaction, tenant_id: str, itinerary_id: str) -> tuple[list[dict], dict]:
    """The trip's items that need a booking and have no open one, and the agency's active suppliers by name."""
    async def work(uow: BookingUnitOfWork):
        trip = await _trip(uow, tenant_id, itinerary_id)
        existing = await uow.bookings(tenant_id).for_itinerary(itinerary_id)
        items = [item for item in (trip.get("items") or {}).values()
                 if item.get("requires_booking") and _open_for(existing, item["item_id"]) is None]
        suppliers = await uow.suppliers(tenant_id).all(kind=None, active=True)
        return sorted(items, key=lambda item: (item.get("starts_at") is None, str(item.get("starts_at")))), \
            {supplier.name.casefold(): supplier.id for supplier in suppliers}

    return await transaction(work, read_only=True)


# --- answers and moves -----------------------------------------------------------------------------------------------

async def confirm_booking(transaction: Transaction, tenant_id: str, booking_id: str, code: str, *, actor: str,
                          channel: str, price: Money | None = None, acknowledged: list[str] | None = None,
                          answering_round: int | None = None,
                          voucher_link: Callable[[str, str], str] | None = None) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        _check_round(booking, answering_round,
                     repeats=booking.status == "confirmed" and code == booking.confirmation_code)
        expected_version = booking.version
        if booking.confirm(code, actor=actor, channel=channel, price=price):
            if booking.voucher_url is None and voucher_link is not None:
                booking.voucher_url = voucher_link(tenant_id, booking.id)
            _emit(uow, booking, events.BookingConfirmed, actor, channel)
        _acknowledge(uow, booking, acknowledged or [], actor, channel)
        if booking.version != expected_version:
            await _store(uow, booking, expected_version)
        return booking

    return await transaction(work)


def _check_round(booking: Booking, answering_round: int | None, *, repeats: bool = False,
                 answers: str | None = None) -> None:
    """A supplier's answer counts only for the message it answers (``answers``: of that kind only), and only the
    first answer counts: ``repeats`` — the very answer already recorded (a double click) — is harmless, anything
    else on a stale round is refused."""
    if answering_round is None or repeats:
        return
    awaited = booking.awaits(answering_round)
    if awaited is None or (answers is not None and awaited != answers):
        raise _stale(booking)


def _require_round(booking: Booking, answering_round: int | None) -> None:
    """An acknowledgement or a reconfirmation counts from the link of the booking's current message only."""
    if answering_round is not None and answering_round != booking.round:
        raise _stale(booking)


def _stale(booking: Booking) -> ConflictError:
    return ConflictError(_stale_message(booking), code="answer-stale", booking_status=booking.status)


def _stale_message(booking: Booking) -> str:
    last = booking.history[-1]
    return (f"This request was already answered: the booking is {booking.status.replace('_', ' ')} "
            f"since {last.at:%Y-%m-%d %H:%M} UTC.")


def _acknowledge(uow: BookingUnitOfWork, booking: Booking, requirement_ids: list[str], actor: str,
                 channel: str) -> None:
    if not requirement_ids:
        return
    newly = booking.acknowledge(requirement_ids, actor=actor, channel=channel)
    if newly:
        _emit(uow, booking, events.BookingRequirementsAcknowledged, actor, channel,
              acknowledged=[line.id for line in newly])


async def acknowledge_requirements(transaction: Transaction, tenant_id: str, booking_id: str,
                                   requirement_ids: list[str], *, actor: str, channel: str,
                                   answering_round: int | None = None) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        _require_round(booking, answering_round)
        expected_version = booking.version
        _acknowledge(uow, booking, requirement_ids, actor, channel)
        if booking.version != expected_version:
            await _store(uow, booking, expected_version)
        return booking

    return await transaction(work)


async def decline_booking(transaction: Transaction, tenant_id: str, booking_id: str, reason: str, *, actor: str,
                          channel: str, alternative: str | None = None,
                          answering_round: int | None = None) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        _check_round(booking, answering_round)
        expected_version = booking.version
        if booking.decline(reason, actor=actor, channel=channel, alternative=alternative):
            await _store(uow, booking, expected_version)
            _emit(uow, booking, events.BookingDeclined, actor, channel)
        return booking

    return await transaction(work)


async def request_amendment(transaction: Transaction, tenant_id: str, booking_id: str, changes: list[str],
                            reason: str | None, *, actor: str, make_link: MakeResponseLink) -> Booking:
    """Tell the supplier what the trip says now; a booking still awaiting its first answer gets the request
    again, as it is now."""
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        trip = await _trip(uow, tenant_id, booking.itinerary_id)
        item = (trip.get("items") or {}).get(booking.item_id)
        if item is None:
            raise ConflictError("The item of this booking is no longer on the trip: cancel the booking instead.",
                                code="item-removed")
        supplier = await _load_supplier(uow, tenant_id, booking.supplier_id)
        await _send_amendment(uow, booking, booking.version, item, trip, supplier, make_link, changes=changes,
                              reason=reason, actor=actor, channel="api")
        return booking

    return await transaction(work)


async def _send_amendment(uow: BookingUnitOfWork, booking: Booking, expected_version: int, item: dict, trip: dict,
                          supplier: Supplier, make_link: MakeResponseLink, *, changes: list[str],
                          reason: str | None, actor: str, channel: str) -> None:
    """The supplier hears what the trip says now: an amendment of a held booking, or, while the first answer is
    still awaited, the request again as it is now."""
    first_answer_awaited = booking.status == "requested"
    booking.request_amendment(item, trip.get("travellers") or [], trip.get("party"), changes=changes,
                              reason=reason, actor=actor)
    await _store(uow, booking, expected_version)
    contract, kind = (events.BookingRequested, "request") if first_answer_awaited \
        else (events.BookingAmendmentRequested, "amendment")
    _emit(uow, booking, contract, actor, channel, to_supplier=_message(booking, supplier, kind, make_link))


async def request_cancellation(transaction: Transaction, tenant_id: str, booking_id: str, reason: str, *,
                               actor: str, make_link: MakeResponseLink) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        supplier = await _load_supplier(uow, tenant_id, booking.supplier_id)
        expected_version = booking.version
        booking.request_cancellation(reason, actor=actor)
        await _store(uow, booking, expected_version)
        _emit(uow, booking, events.BookingCancellationRequested, actor, "api",
              to_supplier=_message(booking, supplier, "cancellation", make_link))
        return booking

    return await transaction(work)


async def confirm_cancellation(transaction: Transaction, tenant_id: str, booking_id: str, reference: str, *,
                               actor: str, channel: str, answering_round: int | None = None) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        repeats = booking.status == "cancelled" and booking.cancellation_reference == (reference or "").strip()
        _check_round(booking, answering_round, answers="cancellation", repeats=repeats)
        expected_version = booking.version
        if booking.confirm_cancellation(reference, actor=actor, channel=channel):
            await _store(uow, booking, expected_version)
            _emit(uow, booking, events.BookingCancelled, actor, channel)
        return booking

    return await transaction(work)


async def supplier_answer(transaction: Transaction, tenant_id: str, supplier_id: str, booking_id: str,
                          receipt: str, action: str, *, actor: str, answering_round: int, code: str | None,
                          reason: str | None, alternative: str | None, reference: str | None,
                          acknowledged: list[str], price: Money | None,
                          voucher_link: Callable[[str, str], str] | None) -> Booking:
    """A webhook supplier's signed answer. Each signed message counts once (``receipt`` names it: a replay of the
    very same message is refused); the answer itself follows the same rules as one given on the page."""
    async def remember(uow: BookingUnitOfWork) -> None:
        booking = await _load(uow, tenant_id, booking_id)
        if booking.supplier_id != supplier_id:
            raise NotFoundError(f"No booking {booking_id} with this supplier.", code="booking-not-found")
        if not await uow.callback_receipts(tenant_id).first_time(receipt):
            raise ConflictError("This exact signed callback was already received: a replay changes nothing. Sign "
                                "each callback when you send it.", code="webhook-replayed")

    await transaction(remember)
    common = {"actor": actor, "channel": "webhook", "answering_round": answering_round}
    try:
        if action == "confirm":
            return await confirm_booking(transaction, tenant_id, booking_id, code or "", price=price,
                                         acknowledged=acknowledged, voucher_link=voucher_link, **common)
        if action == "decline":
            return await decline_booking(transaction, tenant_id, booking_id, reason or "", alternative=alternative,
                                         **common)
        if action == "cancel":
            return await confirm_cancellation(transaction, tenant_id, booking_id, reference or "", **common)
        if action == "reconfirm":
            return await reconfirm_booking(transaction, tenant_id, booking_id, **common)
        return await acknowledge_requirements(transaction, tenant_id, booking_id, acknowledged, **common)
    except Exception:
        # Refused (stale, or against a rule): nothing changed, so the same signed message may be sent again.
        await transaction(lambda uow: uow.callback_receipts(tenant_id).forget(receipt))
        raise


async def get_booking(transaction: Transaction, tenant_id: str, booking_id: str) -> Booking:
    return await transaction(lambda uow: _load(uow, tenant_id, booking_id), read_only=True)


async def bookings_for(transaction: Transaction, tenant_id: str, itinerary_id: str) -> list[Booking]:
    return await transaction(lambda uow: uow.bookings(tenant_id).for_itinerary(itinerary_id), read_only=True)


async def voucher_of(transaction: Transaction, tenant_id: str, booking_id: str) -> tuple[Booking, Supplier | None]:
    async def work(uow: BookingUnitOfWork):
        booking = await _load(uow, tenant_id, booking_id)
        supplier = await uow.suppliers(tenant_id).get(booking.supplier_id) if booking.supplier_id else None
        return booking, supplier

    return await transaction(work, read_only=True)


# --- following up: the clock's part --------------------------------------------------------------------------------

async def follow_up_due(transaction: Transaction, make_link: MakeResponseLink, now: datetime | None = None) -> int:
    """Expire, chase, escalate and reconfirm what is due; returns how many steps were taken."""
    now = now or utc_now()
    due = await transaction(lambda uow: uow.due_for_follow_up(now), read_only=True)
    taken = 0
    for tenant_id, booking_id in due:
        async def work(uow: BookingUnitOfWork, tenant_id=tenant_id, booking_id=booking_id) -> int:
            booking = await _load(uow, tenant_id, booking_id)
            settings = await uow.settings(tenant_id).get()
            expected_version = booking.version
            step = booking.due(now, settings)
            if step == "expire":
                booking.expire(now)
                _emit(uow, booking, events.BookingExpired, "system", "system")
            elif step in ("chase", "reconfirm"):
                supplier = await _load_supplier(uow, tenant_id, booking.supplier_id)
                if step == "chase":
                    booking.chase(now)
                else:
                    booking.request_reconfirmation(now)
                _emit(uow, booking, events.BookingSupplierReminded, "system", "system",
                      to_supplier=_message(booking, supplier, "reminder" if step == "chase" else "reconfirmation",
                                           make_link))
            elif step == "escalate":
                booking.escalate(now)
                _emit(uow, booking, events.BookingEscalated, "system", "system", escalation=events.Escalation(
                    reason=f"{booking.vendor_name} has not answered ({booking.status.replace('_', ' ')}) after "
                           f"{booking.chases} reminder(s), the last on {booking.last_message_at:%Y-%m-%d %H:%M} UTC: "
                           "call them, or book elsewhere.", notify_email=settings.escalation_email))
            await _store(uow, booking, expected_version, settings)
            return 1 if step else 0

        taken += await transaction(work)
    return taken


async def reconfirm_booking(transaction: Transaction, tenant_id: str, booking_id: str, *, actor: str, channel: str,
                            answering_round: int | None = None) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        _require_round(booking, answering_round)
        expected_version = booking.version
        if booking.reconfirm(actor=actor, channel=channel):
            _emit(uow, booking, events.BookingReconfirmed, actor, channel)
            await _store(uow, booking, expected_version)
        return booking

    return await transaction(work)


async def get_settings(transaction: Transaction, tenant_id: str) -> BookingSettings:
    return await transaction(lambda uow: uow.settings(tenant_id).get(), read_only=True)


async def change_settings(transaction: Transaction, tenant_id: str, changes: dict) -> BookingSettings:
    """New follow-up rules apply to the agency's open bookings at once."""
    async def work(uow: BookingUnitOfWork) -> BookingSettings:
        updated = (await uow.settings(tenant_id).get()).with_changes(changes)
        await uow.settings(tenant_id).save(updated)
        repository = uow.bookings(tenant_id)
        for booking in await repository.open_ones():
            booking.schedule(updated)
            await repository.save(booking, booking.version)
        return updated

    return await transaction(work)


# --- readiness ------------------------------------------------------------------------------------------------------

async def readiness_of_trip(transaction: Transaction, tenant_id: str, itinerary_id: str,
                            now: datetime | None = None) -> TripReadiness:
    async def work(uow: BookingUnitOfWork) -> TripReadiness:
        trip = await _trip(uow, tenant_id, itinerary_id)
        bookings = await uow.bookings(tenant_id).for_itinerary(itinerary_id)
        return trip_readiness(trip, bookings, now or utc_now(), await uow.settings(tenant_id).get())

    return await transaction(work, read_only=True)


async def readiness_departing(transaction: Transaction, tenant_id: str, within_days: int,
                              now: datetime | None = None) -> list[TripReadiness]:
    """Every open trip departing from today to ``within_days`` ahead (by its first day), soonest first."""
    now = now or utc_now()

    async def work(uow: BookingUnitOfWork) -> list[TripReadiness]:
        trips = await uow.known_itineraries(tenant_id).departing(
            now.date().isoformat(), (now + timedelta(days=within_days)).date().isoformat())
        trips = [trip for trip in trips if trip.get("stage") not in ("cancelled", "completed", "archived")]
        bookings = await uow.bookings(tenant_id).for_itineraries([trip["_id"] for trip in trips]) if trips else []
        settings = await uow.settings(tenant_id).get()
        return [trip_readiness(trip, [b for b in bookings if b.itinerary_id == trip["_id"]], now, settings)
                for trip in trips]

    return await transaction(work, read_only=True)


# --- what booking learns from itinerary ------------------------------------------------------------------------------

def _known_trip(summary: ItinerarySummary) -> dict:
    known: dict = {"title": summary.title, "stage": summary.stage}
    starts = sorted(item.start[:10] for item in summary.items or [] if item.start)
    departs_on = summary.start_date.isoformat() if summary.start_date else (starts[0] if starts else None)
    if departs_on:
        known["departs_on"] = departs_on
    if summary.item_ids is not None:
        known["item_ids"] = summary.item_ids
    if summary.items is not None:
        known["items"] = {item.item_id: item.model_dump(mode="json") for item in summary.items}
    if summary.travellers is not None:
        known["travellers"] = [traveller.model_dump(mode="json") for traveller in summary.travellers]
    if summary.party is not None:
        known["party"] = summary.party.model_dump()
    return known


async def rebuild_itinerary(state: ItineraryState, uow: BookingUnitOfWork) -> None:
    """A trip's copy from the state topic: only the copy (what a booking needs to hear of came with the change)."""
    await uow.known_itineraries(state.tenant_id).apply(state.data.itinerary.itinerary_id, state.aggregate_version,
                                                       _known_trip(state.data.itinerary))


async def record_itinerary(event: ItineraryCreated | ItineraryChanged | CustomerLinked | CustomerUnlinked
                           | PocChanged, uow: BookingUnitOfWork, make_link: MakeResponseLink | None = None) -> None:
    """Keep the trip as the supplier must hear of it, and mark each booking the change leaves out of date."""
    summary = event.data.itinerary if isinstance(event, (CustomerLinked, CustomerUnlinked, PocChanged)) \
        else event.data
    known = _known_trip(summary)
    trips = uow.known_itineraries(event.tenant_id)
    if not await trips.apply(summary.itinerary_id, event.aggregate_version, known):
        return
    if summary.items is None:
        return  # an event from before itineraries carried their items: nothing to compare with
    repository = uow.bookings(event.tenant_id)
    booked = [booking for booking in await repository.for_itinerary(summary.itinerary_id)
              if booking.item_id is not None and booking.service]
    if not booked:
        return  # most changes come before anything is booked: nothing more to read
    trip = await trips.get(summary.itinerary_id)
    disruption = event.disruption if isinstance(event, ItineraryChanged) else None
    for booking in booked:
        expected_version = booking.version
        item = (trip.get("items") or {}).get(booking.item_id)
        if not booking.trip_changed(item, trip.get("travellers") or [], trip.get("party"),
                                    trip_cancelled=summary.stage == "cancelled"):
            continue
        supplier = await uow.suppliers(event.tenant_id).get(booking.supplier_id) if disruption else None
        if disruption and booking.attention == "amendment" and supplier and make_link:
            # The planner already decided the new times when shifting the trip: the supplier hears them now.
            await _send_amendment(uow, booking, expected_version, item, trip, supplier, make_link, changes=[],
                                  reason=_disruption_reason(disruption, summary), actor=SYSTEM_ACTOR,
                                  channel="system")
            continue
        await _store(uow, booking, expected_version)
        _emit(uow, booking, events.BookingNeedsAttention, "system", "system")


def _disruption_reason(disruption: DisruptionApplied, summary: ItinerarySummary) -> str:
    """What the supplier reads of why: the disrupted service and by how much, never the incident's account."""
    title = next((item.title for item in summary.items or [] if item.item_id == disruption.item_id), "A service")
    if disruption.kind == "cancellation":
        return f"{title} was cancelled; the trip has been rearranged around it."
    return f"{title} is delayed by {duration_label(disruption.delay_minutes or 0, 'en')}; the later services of " \
        "the trip move with it."


async def customer_erased(event: CustomerErased, uow: BookingUnitOfWork) -> None:
    """Bookings stay (the agency owes the supplier); the traveller's name goes from them and from the trip copy."""
    customer_id = event.data.customer_id
    trips = uow.known_itineraries(event.tenant_id)
    for trip in await trips.with_traveller(customer_id):
        travellers = [{**t, "name": ERASED} if t["customer_id"] == customer_id else t for t in trip["travellers"]]
        await trips.replace_travellers(trip["_id"], travellers)
    repository = uow.bookings(event.tenant_id)
    scrubbed = 0
    for booking in await repository.with_traveller(customer_id):
        expected_version = booking.version
        booking.forget_traveller(customer_id)
        await _store(uow, booking, expected_version)
        scrubbed += 1
    confirm_erasure(uow, event, PRODUCER, ["traveller name on trips", f"{scrubbed} booking(s): name and needs"])


# --- suppliers -------------------------------------------------------------------------------------------------------

async def register_supplier(transaction: Transaction, tenant_id: str, fields: dict) -> Supplier:
    supplier = Supplier.register(tenant_id, fields)

    async def work(uow: BookingUnitOfWork) -> None:
        await uow.suppliers(tenant_id).add(supplier)

    await transaction(work)
    return supplier


async def get_supplier(transaction: Transaction, tenant_id: str, supplier_id: str) -> Supplier:
    async def work(uow: BookingUnitOfWork) -> Supplier:
        return await _load_supplier(uow, tenant_id, supplier_id)

    return await transaction(work, read_only=True)


async def change_supplier(transaction: Transaction, tenant_id: str, supplier_id: str,
                          changes: dict) -> tuple[Supplier, bool]:
    """The changed supplier, and whether the change made it a signing secret (it becoming a webhook supplier)."""
    async def work(uow: BookingUnitOfWork) -> tuple[Supplier, bool]:
        current = await _load_supplier(uow, tenant_id, supplier_id)
        updated = current.changed(changes)
        await uow.suppliers(tenant_id).save(updated, current.version)
        return updated, updated.secret_generation != current.secret_generation

    return await transaction(work)


async def rotate_signing_secret(transaction: Transaction, tenant_id: str, supplier_id: str) -> Supplier:
    async def work(uow: BookingUnitOfWork) -> Supplier:
        supplier = await _load_supplier(uow, tenant_id, supplier_id)
        expected_version = supplier.version
        supplier.rotate_secret()
        await uow.suppliers(tenant_id).save(supplier, expected_version)
        return supplier

    return await transaction(work)


async def find_suppliers(transaction: Transaction, tenant_id: str, *, query: str | None, kind: str | None,
                         active: bool | None) -> list[Supplier]:
    async def work(uow: BookingUnitOfWork) -> list[Supplier]:
        found = await uow.suppliers(tenant_id).all(kind=kind, active=active)
        return [supplier for supplier in found if not query or supplier.matches(query)]

    return await transaction(work, read_only=True)



async def record_scorecard(event: SupplierScorecardChanged, uow: BookingUnitOfWork) -> None:
    """Feedback's scorecard of a supplier, shown with the supplier (matched by name, as its bookings carry it)."""
    await uow.scorecards(event.tenant_id).apply(event.data.supplier, event.aggregate_version,
                                                event.data.model_dump(mode="json"))


async def scorecards_of(transaction: Transaction, tenant_id: str, suppliers: list[Supplier]) -> dict[str, dict]:
    names = [supplier.name for supplier in suppliers]
    return await transaction(lambda uow: uow.scorecards(tenant_id).for_names(names), read_only=True)
