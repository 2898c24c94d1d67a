"""Erasure requests: each service that holds personal data scrubs its copy and says so, the same way."""
from __future__ import annotations

from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.privacy import ErasureConfirmation, ErasureConfirmed
from trip_shared.messaging.outbox import Outbox
from trip_shared.unit_of_work import UnitOfWork

ERASED = "[erased]"


def confirm_erasure(uow: UnitOfWork, request: CustomerErased, service: str, scrubbed: list[str]) -> None:
    """Announce, in the scrubbing transaction itself, that this service no longer holds the customer's data."""
    customer_id = request.data.customer_id
    uow.emit(ErasureConfirmed(
        tenant_id=request.tenant_id, aggregate_id=customer_id, aggregate_version=request.aggregate_version,
        producer=service, data=ErasureConfirmation(customer_id=customer_id, service=service, scrubbed=scrubbed),
    ))


async def forget_published_events(uow: UnitOfWork, tenant_id: str, aggregate_id: str) -> int:
    """The outbox keeps published events for a week; an erasure deletes this aggregate's at once."""
    return await Outbox(uow.db).forget_published(uow.session, tenant_id, aggregate_id)
