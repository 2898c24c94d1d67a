from __future__ import annotations

from customers.adapters.repository import (
    CONSULTATIONS,
    CUSTOMERS,
    ERASURES,
    HISTORY,
    ISSUED_LINKS,
    SEARCH_ENTRIES,
    CustomerRepository,
    ErasureRequests,
    IssuedLinks,
)
from trip_shared.unit_of_work import UnitOfWork


class CustomersUnitOfWork(UnitOfWork):
    def customers(self, tenant_id: str) -> CustomerRepository:
        return CustomerRepository(self.collection(CUSTOMERS, tenant_id), self.collection(HISTORY, tenant_id),
                                  self.collection(CONSULTATIONS, tenant_id), self.collection(SEARCH_ENTRIES, tenant_id))

    def issued_links(self, tenant_id: str) -> IssuedLinks:
        return IssuedLinks(self.collection(ISSUED_LINKS, tenant_id))

    def erasures(self, tenant_id: str) -> ErasureRequests:
        return ErasureRequests(self.collection(ERASURES, tenant_id))
