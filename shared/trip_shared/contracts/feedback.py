"""Events produced by the feedback service."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload


class FeedbackDetails(Payload):
    feedback_id: str
    itinerary_id: str
    customer_id: str | None = None
    rating: int = Field(ge=1, le=5)
    comment: str | None = None


class FeedbackSubmitted(Event):
    TOPIC = "feedback.submitted"
    event_type: Literal["feedback.submitted"] = "feedback.submitted"
    aggregate_type: Literal["feedback"] = "feedback"
    data: FeedbackDetails
