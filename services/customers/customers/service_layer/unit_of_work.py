from __future__ import annotations

from customers.adapters.repository import COLLECTION, CustomerRepository
from trip_shared.unit_of_work import UnitOfWork


class CustomersUnitOfWork(UnitOfWork):
    def customers(self, tenant_id: str) -> CustomerRepository:
        return CustomerRepository(self.collection(COLLECTION, tenant_id))
