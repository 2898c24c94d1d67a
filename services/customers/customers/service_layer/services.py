"""Use cases of the customers service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from customers.domain.model import Customer, search_prefix
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot, CustomerUpdated
from trip_shared.errors import NotFoundError

PRODUCER = "customers"
Transaction = Callable[[Callable[[CustomersUnitOfWork], Awaitable]], Awaitable]


def snapshot(customer: Customer) -> CustomerSnapshot:
    return CustomerSnapshot(
        customer_id=customer.id, first_name=customer.first_name, last_name=customer.last_name,
        emails=customer.emails, phones=customer.phones, preferred_language=customer.preferred_language,
        status=customer.status,
    )


def _envelope(customer: Customer) -> dict:
    return {"tenant_id": customer.tenant_id, "aggregate_id": customer.id,
            "aggregate_version": customer.version, "producer": PRODUCER}


@dataclass(frozen=True)
class NewCustomer:
    first_name: str
    last_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    preferred_language: str = "en"


async def create_customer(transaction: Transaction, tenant_id: str, new: NewCustomer) -> Customer:
    customer = Customer.register(
        tenant_id, new.first_name, last_name=new.last_name, emails=list(new.emails), phones=list(new.phones),
        preferred_language=new.preferred_language,
    )

    async def work(uow: CustomersUnitOfWork) -> None:
        await uow.customers(tenant_id).add(customer)
        uow.emit(CustomerCreated(data=snapshot(customer), **_envelope(customer)))

    await transaction(work)
    return customer


async def update_customer(transaction: Transaction, tenant_id: str, customer_id: str, changes: dict) -> Customer:
    async def work(uow: CustomersUnitOfWork) -> Customer:
        repository = uow.customers(tenant_id)
        customer = await repository.get(customer_id)
        if customer is None:
            raise NotFoundError(f"No customer {customer_id}.", code="customer-not-found")
        expected_version = customer.version
        changed = customer.update(changes)
        if changed:
            await repository.save(customer, expected_version)
            uow.emit(CustomerUpdated(data=snapshot(customer), changed_fields=changed, **_envelope(customer)))
        return customer

    return await transaction(work)


async def get_customer(transaction: Transaction, tenant_id: str, customer_id: str) -> Customer:
    async def work(uow: CustomersUnitOfWork) -> Customer | None:
        return await uow.customers(tenant_id).get(customer_id)

    customer = await transaction(work)
    if customer is None:
        raise NotFoundError(f"No customer {customer_id}.", code="customer-not-found")
    return customer


async def search_customers(transaction: Transaction, tenant_id: str, query: str, *, include_inactive: bool,
                           limit: int, after: str | None) -> list[Customer]:
    prefix, _ = search_prefix(query)

    async def work(uow: CustomersUnitOfWork) -> list[Customer]:
        return await uow.customers(tenant_id).search(prefix, include_inactive=include_inactive, limit=limit,
                                                     after=after)

    return await transaction(work)
