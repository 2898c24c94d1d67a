"""Use cases of the feedback service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from feedback.domain.model import Feedback
from feedback.service_layer.unit_of_work import FeedbackUnitOfWork
from trip_shared.contracts.customers import CustomerErased
from trip_shared.contracts.feedback import FeedbackDetails, FeedbackSubmitted
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryCreated,
    PocChanged,
)
from trip_shared.errors import NotFoundError
from trip_shared.privacy import confirm_erasure
from trip_shared.read_models import wait_until_known

PRODUCER = "feedback"
Transaction = Callable[[Callable[[FeedbackUnitOfWork], Awaitable]], Awaitable]


async def submit_feedback(transaction: Transaction, tenant_id: str, itinerary_id: str, rating: int,
                          customer_id: str | None, comment: str | None, itinerary_wait_s: float) -> Feedback:
    await wait_until_known(transaction, lambda uow: uow.known_trips(tenant_id).get(itinerary_id), itinerary_wait_s)

    async def work(uow: FeedbackUnitOfWork) -> Feedback:
        trip = await uow.known_trips(tenant_id).get(itinerary_id)
        if trip is None:
            raise NotFoundError(f"No itinerary {itinerary_id} in this agency. If it was created just now, retry "
                                "in a moment.", code="itinerary-not-found")
        travellers = [member["customer_id"] for member in trip.get("members", [])]
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
    await uow.known_trips(event.tenant_id).apply(event.data.itinerary_id, event.aggregate_version,
                                                 {"title": event.data.title})


async def record_membership(event: CustomerLinked | CustomerUnlinked | PocChanged, uow: FeedbackUnitOfWork) -> None:
    data = event.data
    trips = uow.known_trips(event.tenant_id)
    await trips.apply(data.itinerary.itinerary_id, event.aggregate_version, {"title": data.itinerary.title})
    await trips.apply(data.itinerary.itinerary_id, event.aggregate_version,
                      {"members": [member.model_dump() for member in data.customers]}, part="members")


async def customer_erased(event: CustomerErased, uow: FeedbackUnitOfWork) -> None:
    scrubbed = await uow.feedback(event.tenant_id).scrub_comments_of(event.data.customer_id)
    confirm_erasure(uow, event, PRODUCER, [f"{scrubbed} feedback comment(s)"])
