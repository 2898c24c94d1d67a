"""Use cases of the customers service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from customers.domain.consultation import Consultation, Source
from customers.domain.model import ERASURE_CONFIRMERS, Customer, SearchQuery, duplicate_reasons
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from trip_shared import preconditions
from trip_shared.clock import utc_now
from trip_shared.contracts.customers import (
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerErased,
    CustomersMerged,
    CustomerSnapshot,
    CustomerUpdated,
    DeletedCustomer,
    ErasedCustomer,
    MergedCustomers,
    Preferences,
    PreferencesRecorded,
    ProfileLink,
    ProfileLinkIssued,
)
from trip_shared.contracts.privacy import ErasureConfirmed
from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.preconditions import Precondition
from trip_shared.privacy import forget_published_events

PRODUCER = "customers"
Transaction = Callable[[Callable[[CustomersUnitOfWork], Awaitable]], Awaitable]


class PossibleDuplicate(ConflictError):
    code = "possible-duplicate"


def snapshot(customer: Customer) -> CustomerSnapshot:
    return CustomerSnapshot(
        customer_id=customer.id, first_name=customer.first_name, last_name=customer.last_name,
        emails=customer.emails, phones=customer.phones, preferred_language=customer.preferred_language,
        status=customer.status, passport_expiry=customer.passport_expiry,
    )


def _envelope(customer: Customer) -> dict:
    return {"tenant_id": customer.tenant_id, "aggregate_id": customer.id,
            "aggregate_version": customer.version, "producer": PRODUCER}


def _summary(customer: Customer, reasons: list[str]) -> dict:
    return {"id": customer.id, "first_name": customer.first_name, "last_name": customer.last_name,
            "emails": customer.emails, "phones": customer.phones, "status": customer.status, "reasons": reasons}


async def _load(uow: CustomersUnitOfWork, tenant_id: str, customer_id: str) -> Customer:
    customer = await uow.customers(tenant_id).get(customer_id)
    if customer is None:
        raise NotFoundError(f"No customer {customer_id}.", code="customer-not-found")
    return customer


async def create_customer(transaction: Transaction, tenant_id: str, actor: str, details: dict,
                          allow_duplicate: bool = False) -> Customer:
    """Register a customer, unless it looks like one the agency already has (then say which, and why)."""
    customer = Customer.register(tenant_id, **details)

    async def work(uow: CustomersUnitOfWork) -> None:
        repository = uow.customers(tenant_id)
        if not allow_duplicate:
            candidates = [(other, duplicate_reasons(customer, other))
                          for other in await repository.possible_duplicates(customer)]
            candidates = [(other, reasons) for other, reasons in candidates if reasons]
            if candidates:
                raise PossibleDuplicate(
                    "This looks like a customer the agency already has. Use the existing record, or send the "
                    "request again with allow_duplicate=true if this really is someone else.",
                    duplicates=[_summary(other, reasons) for other, reasons in candidates])
        await repository.add(customer)
        await repository.record_history(customer, actor, "created", [])
        uow.emit(CustomerCreated(data=snapshot(customer), **_envelope(customer)))

    await transaction(work)
    return customer


async def update_customer(transaction: Transaction, tenant_id: str, actor: str, customer_id: str,
                          changes: dict, precondition: Precondition | None = None) -> Customer:
    async def work(uow: CustomersUnitOfWork) -> Customer:
        repository = uow.customers(tenant_id)
        customer = await _load(uow, tenant_id, customer_id)
        preconditions.check(precondition, customer.version, "customer")
        expected_version = customer.version
        changed = customer.update(changes)
        if changed:
            await repository.save(customer, expected_version)
            await repository.record_history(customer, actor, "updated", changed)
            names = [name for name, _, _ in changed]
            if ("status", "active", "inactive") in changed:
                uow.emit(CustomerDeactivated(data=snapshot(customer), **_envelope(customer)))
            else:
                uow.emit(CustomerUpdated(data=snapshot(customer), changed_fields=names, **_envelope(customer)))
        return customer

    return await transaction(work)


async def merge_customers(transaction: Transaction, tenant_id: str, actor: str, survivor_id: str,
                          duplicate_id: str) -> Customer:
    """The duplicate is the same person: the survivor takes its details and links; both keep their history."""
    async def work(uow: CustomersUnitOfWork) -> Customer:
        repository = uow.customers(tenant_id)
        survivor = await _load(uow, tenant_id, survivor_id)
        duplicate = await _load(uow, tenant_id, duplicate_id)
        survivor_version, duplicate_version = survivor.version, duplicate.version
        changed = survivor.absorb(duplicate)
        await repository.save(survivor, survivor_version)
        await repository.save(duplicate, duplicate_version)
        await repository.record_history(survivor, actor, "merged", [("merged_from", None, duplicate.id), *changed])
        await repository.record_history(duplicate, actor, "merged", [("merged_into", None, survivor.id)])
        uow.emit(CustomersMerged(data=MergedCustomers(survivor=snapshot(survivor), merged_customer_id=duplicate.id),
                                 **_envelope(survivor)))
        return survivor

    return await transaction(work)


async def erase_customer(transaction: Transaction, tenant_id: str, actor: str, customer_id: str) -> dict:
    """Right to erasure: scrub the record here, then every service holding a copy scrubs it and confirms."""
    async def work(uow: CustomersUnitOfWork) -> None:
        customer = await _load(uow, tenant_id, customer_id)
        customer.erase()
        repository = uow.customers(tenant_id)
        await repository.save(customer, customer.version - 1)
        await repository.erase_records(customer, actor)
        await forget_published_events(uow, tenant_id, customer_id)
        await uow.erasures(tenant_id).open(customer_id, actor, ERASURE_CONFIRMERS)
        uow.emit(CustomerErased(data=ErasedCustomer(customer_id=customer_id), **_envelope(customer)))

    await transaction(work)
    return await erasure_status(transaction, tenant_id, customer_id)


async def erasure_status(transaction: Transaction, tenant_id: str, customer_id: str) -> dict:
    found = await transaction(lambda uow: uow.erasures(tenant_id).get(customer_id))
    if found is None:
        raise NotFoundError(f"No erasure was requested for customer {customer_id}.", code="erasure-not-found")
    pending = [service for service in found["expected"] if service not in found["confirmations"]]
    return {"customer_id": customer_id, "requested_at": found["requested_at"], "requested_by": found["requested_by"],
            "confirmations": found["confirmations"], "pending": pending, "complete": not pending}


async def record_erasure_confirmation(event: ErasureConfirmed, uow: CustomersUnitOfWork) -> None:
    await uow.erasures(event.tenant_id).confirm(event.data.customer_id, event.data.service, event.data.scrubbed)


async def issue_profile_link(transaction: Transaction, tenant_id: str, customer_id: str,
                             make_link: Callable[[], tuple[str, datetime]]) -> tuple[str, datetime]:
    """A link for the customer to complete their profile; notify e-mails it to them."""
    async def work(uow: CustomersUnitOfWork) -> tuple[str, datetime]:
        customer = await _load(uow, tenant_id, customer_id)
        if customer.status not in ("active", "inactive"):
            raise ConflictError(f"This customer is {customer.status}; their profile cannot be edited.",
                                code="not-editable")
        url, expires_at = make_link()
        uow.emit(ProfileLinkIssued(data=ProfileLink(customer_id=customer_id, url=url, expires_at=expires_at),
                                   **_envelope(customer)))
        return url, expires_at

    return await transaction(work)


async def delete_customer(transaction: Transaction, tenant_id: str, actor: str, customer_id: str,
                          precondition: Precondition | None = None) -> None:
    """Delete the record for good (prefer deactivating); every itinerary then unlinks the customer."""
    async def work(uow: CustomersUnitOfWork) -> None:
        customer = await _load(uow, tenant_id, customer_id)
        preconditions.check(precondition, customer.version, "customer")
        await uow.customers(tenant_id).delete(customer, actor)
        uow.emit(CustomerDeleted(data=DeletedCustomer(customer_id=customer_id), tenant_id=tenant_id,
                                 aggregate_id=customer_id, aggregate_version=customer.version + 1,
                                 producer=PRODUCER))

    await transaction(work)


async def get_customer(transaction: Transaction, tenant_id: str, customer_id: str) -> Customer:
    return await transaction(lambda uow: _load(uow, tenant_id, customer_id))


async def search_customers(transaction: Transaction, tenant_id: str, query: str, *, include_inactive: bool,
                           limit: int, after: str | None) -> list[tuple[str, Customer]]:
    """Best matches first, then by name; each customer comes with the key a next page starts after."""
    parsed = SearchQuery.parse(query)

    async def work(uow: CustomersUnitOfWork) -> list[tuple[str, Customer]]:
        return await uow.customers(tenant_id).search(parsed, include_inactive=include_inactive, limit=limit,
                                                     after=after)

    return await transaction(work)


async def record_consultation(transaction: Transaction, tenant_id: str, actor: str, customer_id: str,
                              preferences: Preferences, source: Source) -> Consultation:
    """A new version of the customer's preferences; the customer's version moves on with it."""
    async def work(uow: CustomersUnitOfWork) -> Consultation:
        repository = uow.customers(tenant_id)
        customer = await _load(uow, tenant_id, customer_id)
        consultation = Consultation.record(
            customer_id, tenant_id, await repository.latest_consultation_version(customer_id),
            preferences.model_dump(mode="python"), source, actor)
        expected_version = customer.version
        customer.version += 1
        customer.updated_at = utc_now()
        await repository.save(customer, expected_version)
        await repository.add_consultation(consultation)
        await repository.record_history(customer, actor, "consultation",
                                        [("consultation", consultation.version - 1, consultation.version)])
        uow.emit(PreferencesRecorded(customer_id=customer_id, consultation_version=consultation.version,
                                     data=preferences, **_envelope(customer)))
        return consultation

    return await transaction(work)


async def consultations(transaction: Transaction, tenant_id: str, customer_id: str) -> list[Consultation]:
    async def work(uow: CustomersUnitOfWork) -> list[Consultation]:
        await _load(uow, tenant_id, customer_id)
        return await uow.customers(tenant_id).consultations(customer_id)

    return await transaction(work)


async def history(transaction: Transaction, tenant_id: str, customer_id: str) -> list[dict]:
    async def work(uow: CustomersUnitOfWork) -> list[dict]:
        await _load(uow, tenant_id, customer_id)
        return await uow.customers(tenant_id).history(customer_id)

    return await transaction(work)


async def export_customer(transaction: Transaction, tenant_id: str, customer_id: str) -> dict:
    """Everything this service holds about one customer (a data-subject access request)."""
    async def work(uow: CustomersUnitOfWork) -> dict:
        repository = uow.customers(tenant_id)
        customer = await _load(uow, tenant_id, customer_id)
        return {"customer": customer, "consultations": await repository.consultations(customer_id),
                "history": await repository.history(customer_id), "exported_at": utc_now()}

    return await transaction(work)
