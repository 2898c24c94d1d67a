"""Post-trip feedback. Plain Python: no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from trip_shared.clock import utc_now
from trip_shared.errors import DomainError

MAX_COMMENT = 5000


class InvalidFeedback(DomainError):
    code = "invalid-feedback"


@dataclass
class Feedback:
    id: str
    tenant_id: str
    itinerary_id: str
    rating: int
    customer_id: str | None = None
    comment: str | None = None
    submitted_at: datetime = field(default_factory=utc_now)

    @classmethod
    def submit(cls, tenant_id: str, itinerary_id: str, rating: int, *, customer_id: str | None,
               comment: str | None, travellers: list[str]) -> Feedback:
        """``travellers`` are the customers linked to the trip; feedback in a customer's name must be theirs."""
        if not 1 <= rating <= 5:
            raise InvalidFeedback("rating must be a whole number from 1 to 5.", code="invalid-rating")
        if customer_id is not None and customer_id not in travellers:
            raise InvalidFeedback(f"Customer {customer_id} is not linked to this trip.", code="customer-not-on-trip")
        comment = (comment or "").strip() or None
        if comment and len(comment) > MAX_COMMENT:
            raise InvalidFeedback(f"comment is longer than {MAX_COMMENT} characters.", code="comment-too-long")
        return cls(id=str(uuid.uuid4()), tenant_id=tenant_id, itinerary_id=itinerary_id, rating=rating,
                   customer_id=customer_id, comment=comment)


def average_rating(feedback: list[Feedback]) -> float | None:
    return round(sum(f.rating for f in feedback) / len(feedback), 2) if feedback else None
