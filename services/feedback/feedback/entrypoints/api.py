"""HTTP API of the feedback service: request/response shapes and routing only."""
from __future__ import annotations

from datetime import datetime

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from feedback.domain.model import Feedback, average_rating
from feedback.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Text

router = v1_router(tags=["feedback"])


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"itinerary_id": "<itinerary id>", "customer_id": "<customer id>", "rating": 5,
         "comment": "The sushi class was the highlight."}]})
    itinerary_id: str = Field(min_length=1, max_length=100)
    customer_id: str | None = Field(None, max_length=100)
    rating: int = Field(ge=1, le=5, strict=True)
    comment: Text | None = Field(None, max_length=5000)


class FeedbackOut(BaseModel):
    id: str
    itinerary_id: str
    customer_id: str | None
    rating: int
    comment: str | None
    submitted_at: datetime

    @classmethod
    def of(cls, feedback: Feedback) -> FeedbackOut:
        return cls(**{name: getattr(feedback, name) for name in cls.model_fields})


class FeedbackList(BaseModel):
    items: list[FeedbackOut]
    average_rating: float | None


def _transaction(request: Request):
    return request.app.state.runtime.transaction


@router.post("/feedback", status_code=201, response_model=FeedbackOut)
async def submit_feedback(body: FeedbackIn, request: Request, response: Response,
                          principal: Principal = require("feedback:write")) -> FeedbackOut:
    feedback = await services.submit_feedback(_transaction(request), principal.tenant_id, body.itinerary_id,
                                              body.rating, body.customer_id, body.comment,
                                              request.app.state.runtime.settings.read_model_wait_s)
    response.headers["Location"] = f"/v1/feedback/{feedback.id}"
    return FeedbackOut.of(feedback)


@router.get("/feedback", response_model=FeedbackList)
async def list_feedback(request: Request, itinerary_id: str = Query(min_length=1, max_length=100),
                        principal: Principal = require("feedback:read")) -> FeedbackList:
    found = await services.feedback_for(_transaction(request), principal.tenant_id, itinerary_id)
    return FeedbackList(items=[FeedbackOut.of(f) for f in found], average_rating=average_rating(found))


@router.get("/feedback/{feedback_id}", response_model=FeedbackOut)
async def get_feedback(feedback_id: str, request: Request,
                       principal: Principal = require("feedback:read")) -> FeedbackOut:
    return FeedbackOut.of(await services.get_feedback(_transaction(request), principal.tenant_id, feedback_id))
