"""Use cases of the booking service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from booking.domain.model import Booking
from booking.domain.suppliers import Supplier
from booking.service_layer.unit_of_work import BookingUnitOfWork
from trip_shared.contracts.booking import BookingConfirmed, BookingDetails, BookingRequested
from trip_shared.contracts.itinerary import ItineraryChanged, ItineraryCreated
from trip_shared.errors import DomainError, NotFoundError
from trip_shared.read_models import wait_until_known

PRODUCER = "booking"
Transaction = Callable[[Callable[[BookingUnitOfWork], Awaitable]], Awaitable]


def details(booking: Booking) -> BookingDetails:
    return BookingDetails(booking_id=booking.id, itinerary_id=booking.itinerary_id, vendor_name=booking.vendor_name,
                          description=booking.description, item_id=booking.item_id, status=booking.status,
                          confirmation_code=booking.confirmation_code, confirmed_at=booking.confirmed_at)


def _envelope(booking: Booking) -> dict:
    return {"tenant_id": booking.tenant_id, "aggregate_id": booking.id, "aggregate_version": booking.version,
            "trip_id": booking.itinerary_id, "producer": PRODUCER}


async def request_booking(transaction: Transaction, tenant_id: str, itinerary_id: str, vendor_name: str,
                          description: str | None, item_id: str | None, itinerary_wait_s: float) -> Booking:
    booking = Booking.request(tenant_id, itinerary_id, vendor_name, description, item_id)

    async def known_with_item(uow: BookingUnitOfWork) -> dict | None:
        trip = await uow.known_itineraries(tenant_id).get(itinerary_id)
        return trip if trip and (item_id is None or item_id in (trip.get("item_ids") or [])) else None

    # The itinerary, or the item just added to it, may not have reached this service yet: give it a moment.
    await wait_until_known(transaction, known_with_item, itinerary_wait_s)

    async def work(uow: BookingUnitOfWork) -> None:
        trip = await uow.known_itineraries(tenant_id).get(itinerary_id)
        if trip is None:
            raise NotFoundError(f"No itinerary {itinerary_id} in this agency. If it was created just now, retry "
                                "in a moment.", code="itinerary-not-found")
        if item_id is not None and item_id not in (trip.get("item_ids") or []):
            raise DomainError(f"Item {item_id} is not on itinerary {itinerary_id}. If it was added just now, "
                              "retry in a moment.", code="item-not-on-itinerary")
        await uow.bookings(tenant_id).add(booking)
        uow.emit(BookingRequested(data=details(booking), **_envelope(booking)))

    await transaction(work)
    return booking


async def confirm_booking(transaction: Transaction, tenant_id: str, booking_id: str, code: str) -> Booking:
    async def work(uow: BookingUnitOfWork) -> Booking:
        booking = await _load(uow, tenant_id, booking_id)
        if booking.confirm(code):
            await uow.bookings(tenant_id).save(booking, booking.version - 1)
            uow.emit(BookingConfirmed(data=details(booking), **_envelope(booking)))
        return booking

    return await transaction(work)


async def _load(uow: BookingUnitOfWork, tenant_id: str, booking_id: str) -> Booking:
    booking = await uow.bookings(tenant_id).get(booking_id)
    if booking is None:
        raise NotFoundError(f"No booking {booking_id}.", code="booking-not-found")
    return booking


async def get_booking(transaction: Transaction, tenant_id: str, booking_id: str) -> Booking:
    return await transaction(lambda uow: _load(uow, tenant_id, booking_id))


async def bookings_for(transaction: Transaction, tenant_id: str, itinerary_id: str) -> list[Booking]:
    return await transaction(lambda uow: uow.bookings(tenant_id).for_itinerary(itinerary_id))


async def record_itinerary(event: ItineraryCreated | ItineraryChanged, uow: BookingUnitOfWork) -> None:
    known = {"title": event.data.title}
    if event.data.item_ids is not None:
        known["item_ids"] = event.data.item_ids
    await uow.known_itineraries(event.tenant_id).apply(event.data.itinerary_id, event.aggregate_version, known)


# --- suppliers -----------------------------------------------------------------------------------------------------

async def register_supplier(transaction: Transaction, tenant_id: str, fields: dict) -> Supplier:
    supplier = Supplier.register(tenant_id, fields)

    async def work(uow: BookingUnitOfWork) -> None:
        await uow.suppliers(tenant_id).add(supplier)

    await transaction(work)
    return supplier


async def _load_supplier(uow: BookingUnitOfWork, tenant_id: str, supplier_id: str) -> Supplier:
    supplier = await uow.suppliers(tenant_id).get(supplier_id)
    if supplier is None:
        raise NotFoundError(f"No supplier {supplier_id}.", code="supplier-not-found")
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
        return updated, updated.signing_secret != current.signing_secret

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
