"""HTTP API of surveys: what was sent, who answered what, and the agency's survey settings. Shapes and routing
only; travellers answer on their signed pages (client_pages)."""
from __future__ import annotations

from datetime import datetime

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field

from feedback.domain.surveys import Survey, SurveyAnswer, SurveySettings
from feedback.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router

router = v1_router(tags=["surveys"])


class SurveyAnswerOut(BaseModel):
    customer_id: str
    overall: int
    nps: int
    item_ratings: dict[str, int]
    supplier_ratings: dict[str, int]
    comment: str | None
    consent_to_contact: bool
    language: str
    answered_at: datetime
    version: int = Field(description="1, or more when the traveller changed their answer.")
    earlier: list[dict] = Field(description="Their earlier answers, oldest first: {answered_at, overall, nps}.")
    complaint_id: str | None = Field(description="The follow-up a low answer opened.")

    @classmethod
    def of(cls, answer: SurveyAnswer) -> SurveyAnswerOut:
        scores = answer.scores
        return cls(customer_id=answer.customer_id, overall=scores.overall, nps=scores.nps,
                   item_ratings=scores.item_ratings, supplier_ratings=scores.supplier_ratings,
                   comment=scores.comment, consent_to_contact=scores.consent_to_contact, language=answer.language,
                   answered_at=answer.answered_at, version=answer.version, complaint_id=answer.complaint_id,
                   earlier=[{"answered_at": entry["answered_at"], "overall": entry["scores"].overall,
                             "nps": entry["scores"].nps} for entry in answer.history])


class SurveyOut(BaseModel):
    id: str
    itinerary_id: str
    kind: str
    issued_at: datetime
    remind_at: datetime
    reminded_at: datetime | None
    closes_at: datetime
    respondents: list[str]
    items: list[dict] = Field(description="What travellers rate: {item_id, title, kind}.")
    suppliers: list[str]
    response_rate: float = Field(description="Share of the respondents who answered, 0 to 1.")
    answers: list[SurveyAnswerOut]

    @classmethod
    def of(cls, survey: Survey, answers: list[SurveyAnswer]) -> SurveyOut:
        return cls(**{name: getattr(survey, name) for name in cls.model_fields
                      if name not in ("response_rate", "answers")},
                   response_rate=round(len(answers) / len(survey.respondents), 3) if survey.respondents else 0.0,
                   answers=[SurveyAnswerOut.of(answer) for answer in answers])


class SurveyList(BaseModel):
    items: list[SurveyOut]


class SurveySettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mid_trip_day: int = Field(2, ge=0, le=60, strict=True, description="The day of the trip (1 = the first) whose "
                                                                        "evening has the check-in; 0 for none.")
    post_trip_delay_hours: int = Field(24, ge=0, le=336, strict=True, description="How long after the trip is "
                                                                                   "completed the survey goes.")
    reminder_after_hours: int = Field(72, ge=1, le=336, strict=True, description="When the one reminder goes to "
                                                                                  "those who have not answered.")


class SurveySettingsOut(SurveySettingsIn):
    pass


def _transaction(request: Request):
    return request.app.state.runtime.transaction


@router.get("/surveys", response_model=SurveyList)
async def list_surveys(request: Request, itinerary_id: str = Query(min_length=1, max_length=100),
                       principal: Principal = require("feedback:read")) -> SurveyList:
    """A trip's check-in and survey, with every traveller's answer (their comments included: staff only)."""
    found = await services.surveys_of(_transaction(request), principal.tenant_id, itinerary_id)
    return SurveyList(items=[SurveyOut.of(survey, answers) for survey, answers in found])


@router.get("/survey-settings", response_model=SurveySettingsOut)
async def get_survey_settings(request: Request,
                              principal: Principal = require("feedback:read")) -> SurveySettingsOut:
    return SurveySettingsOut(**vars(await services.survey_settings(_transaction(request), principal.tenant_id)))


@router.put("/survey-settings", response_model=SurveySettingsOut)
async def put_survey_settings(body: SurveySettingsIn, request: Request,
                              principal: Principal = require("feedback:write")) -> SurveySettingsOut:
    """When the agency's surveys go; applies to surveys not yet sent."""
    saved = await services.save_survey_settings(_transaction(request), principal.tenant_id,
                                                SurveySettings.of(**body.model_dump()))
    return SurveySettingsOut(**vars(saved))
