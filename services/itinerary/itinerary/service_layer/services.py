"""Use cases of the itinerary service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

from itinerary.domain.model import Itinerary, MembershipChanged
from itinerary.service_layer.unit_of_work import ItineraryUnitOfWork
from trip_shared.contracts import customers as customer_events
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    FieldChange,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryMember,
    ItinerarySummary,
    MembershipChange,
    PocChanged,
)
from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.privacy import confirm_erasure
from trip_shared.read_models import wait_until_known

PRODUCER = "itinerary"
Transaction = Callable[[Callable[[ItineraryUnitOfWork], Awaitable]], Awaitable]
MEMBERSHIP_EVENTS = {"linked": CustomerLinked, "unlinked": CustomerUnlinked, "poc_changed": PocChanged}


def summary(itinerary: Itinerary) -> ItinerarySummary:
    return ItinerarySummary(itinerary_id=itinerary.id, title=itinerary.title, start_date=itinerary.start_date,
                            end_date=itinerary.end_date, stage=itinerary.stage)


def _envelope(itinerary: Itinerary) -> dict:
    return {"tenant_id": itinerary.tenant_id, "aggregate_id": itinerary.id, "aggregate_version": itinerary.version,
            "trip_id": itinerary.id, "producer": PRODUCER}


def _membership_event(itinerary: Itinerary, change: MembershipChanged):
    data = MembershipChange(
        itinerary=summary(itinerary), customer_id=change.customer_id, is_poc=change.is_poc, reason=change.reason,
        customers=[ItineraryMember(customer_id=c.customer_id, is_poc=c.is_poc) for c in itinerary.customers],
    )
    return MEMBERSHIP_EVENTS[change.kind](data=data, **_envelope(itinerary))


async def _load(uow: ItineraryUnitOfWork, tenant_id: str, itinerary_id: str) -> Itinerary:
    itinerary = await uow.itineraries(tenant_id).get(itinerary_id)
    if itinerary is None:
        raise NotFoundError(f"No itinerary {itinerary_id}.", code="itinerary-not-found")
    return itinerary


async def create_itinerary(transaction: Transaction, tenant_id: str, title: str, start_date: date | None,
                           end_date: date | None) -> Itinerary:
    itinerary = Itinerary.draft(tenant_id, title, start_date, end_date)

    async def work(uow: ItineraryUnitOfWork) -> None:
        await uow.itineraries(tenant_id).add(itinerary)
        uow.emit(ItineraryCreated(data=summary(itinerary), **_envelope(itinerary)))

    await transaction(work)
    return itinerary


async def revise_itinerary(transaction: Transaction, tenant_id: str, itinerary_id: str, changes: dict) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        expected_version = itinerary.version
        changed = itinerary.revise(changes)
        if changed:
            await uow.itineraries(tenant_id).save(itinerary, expected_version)
            uow.emit(ItineraryChanged(
                data=summary(itinerary),
                changes=[FieldChange(field=name, before=_plain(before), after=_plain(after))
                         for name, before, after in changed],
                **_envelope(itinerary),
            ))
        return itinerary

    return await transaction(work)


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


async def link_customer(transaction: Transaction, tenant_id: str, itinerary_id: str, customer_id: str,
                        is_poc: bool | None, customer_wait_s: float) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        customer = await uow.known_customers(tenant_id).get(customer_id)
        if customer is None:
            raise NotFoundError(
                f"No customer {customer_id} in this agency. If it was created just now, retry in a moment.",
                code="customer-not-found")
        if customer.get("status") == "inactive":
            raise ConflictError(f"Customer {customer_id} is inactive; reactivate them before linking.",
                                code="customer-inactive")
        return await _apply_membership(uow, itinerary, itinerary.link(customer_id, is_poc))

    async def itinerary_exists(uow: ItineraryUnitOfWork) -> Itinerary:
        return await _load(uow, tenant_id, itinerary_id)

    await transaction(itinerary_exists)  # an unknown itinerary answers at once, without waiting for the customer
    await wait_until_known(transaction, lambda uow: uow.known_customers(tenant_id).get(customer_id), customer_wait_s)
    return await transaction(work)


async def set_poc(transaction: Transaction, tenant_id: str, itinerary_id: str, customer_id: str,
                  is_poc: bool) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        change = itinerary.set_poc(customer_id, is_poc)
        return await _apply_membership(uow, itinerary, change) if change else itinerary

    return await transaction(work)


async def unlink_customer(transaction: Transaction, tenant_id: str, itinerary_id: str,
                          customer_id: str) -> Itinerary:
    async def work(uow: ItineraryUnitOfWork) -> Itinerary:
        itinerary = await _load(uow, tenant_id, itinerary_id)
        return await _apply_membership(uow, itinerary, itinerary.unlink(customer_id))

    return await transaction(work)


async def _apply_membership(uow: ItineraryUnitOfWork, itinerary: Itinerary, change: MembershipChanged) -> Itinerary:
    # Every membership change bumps the version by exactly one.
    await uow.itineraries(itinerary.tenant_id).save(itinerary, itinerary.version - 1)
    uow.emit(_membership_event(itinerary, change))
    return itinerary


async def get_itinerary(transaction: Transaction, tenant_id: str, itinerary_id: str) -> tuple[Itinerary, dict]:
    """The itinerary and what is known of its customers (names), by customer id."""
    async def work(uow: ItineraryUnitOfWork):
        itinerary = await _load(uow, tenant_id, itinerary_id)
        known = await uow.known_customers(tenant_id).get_many([c.customer_id for c in itinerary.customers])
        return itinerary, known

    return await transaction(work)


async def list_itineraries(transaction: Transaction, tenant_id: str, *, customer_id: str | None, limit: int,
                           before: str | None) -> tuple[list[Itinerary], dict]:
    async def work(uow: ItineraryUnitOfWork):
        found = await uow.itineraries(tenant_id).list(customer_id=customer_id, limit=limit, before=before)
        ids = sorted({c.customer_id for itinerary in found for c in itinerary.customers})
        return found, await uow.known_customers(tenant_id).get_many(ids)

    return await transaction(work)


async def record_customer(event: customer_events.CustomerCreated | customer_events.CustomerUpdated
                          | customer_events.CustomerDeactivated, uow: ItineraryUnitOfWork) -> None:
    """Keep the customers read model current; names shown on itineraries come from here."""
    await uow.known_customers(event.tenant_id).apply(event.data.customer_id, event.aggregate_version,
                                                     _known(event.data))


def _known(snapshot: customer_events.CustomerSnapshot) -> dict:
    expiry = snapshot.passport_expiry.isoformat() if snapshot.passport_expiry else None
    return {"first_name": snapshot.first_name, "last_name": snapshot.last_name, "status": snapshot.status,
            "passport_expiry": expiry}


async def customer_deleted(event: customer_events.CustomerDeleted, uow: ItineraryUnitOfWork) -> None:
    """Unlink a deleted customer from every itinerary, announcing each change as its own version."""
    customer_id = event.data.customer_id
    await uow.known_customers(event.tenant_id).forget(customer_id)
    repository = uow.itineraries(event.tenant_id)
    for itinerary in await repository.with_customer(customer_id):
        expected_version = itinerary.version
        uow.emit(_membership_event(itinerary, itinerary.drop_customer(customer_id, "customer_deleted")))
        promoted = itinerary.restore_poc_rule(customer_id)
        if promoted:
            uow.emit(_membership_event(itinerary, promoted))
        await repository.save(itinerary, expected_version)


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
        uow.emit(_membership_event(itinerary, changes[0]))
        if not itinerary.is_linked(survivor.customer_id):
            change = itinerary.link(survivor.customer_id, is_poc=was_poc or not itinerary.customers)
        elif was_poc:
            change = itinerary.set_poc(survivor.customer_id, True)
        else:
            change = itinerary.restore_poc_rule(merged_id)
        if change:
            uow.emit(_membership_event(itinerary, replace(change, reason="customers_merged")))
        await repository.save(itinerary, expected_version)


async def customer_erased(event: customer_events.CustomerErased, uow: ItineraryUnitOfWork) -> None:
    """Links stay (the trip still had a traveller); the name this service copied goes."""
    await uow.known_customers(event.tenant_id).scrub(event.data.customer_id)
    confirm_erasure(uow, event, PRODUCER, ["customer name"])
