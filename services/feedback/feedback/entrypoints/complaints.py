"""HTTP API of complaints: take them down, find out why, offer a resolution, close them. Shapes and routing only;
the client's side is on their signed pages (client_pages)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from feedback.domain.complaints import CAUSES, LANGUAGES, REMEDIES, SOURCES, STATUSES, Complaint, Proposal
from feedback.entrypoints.incidents import TimelineEntryOut
from feedback.service_layer import services
from trip_shared.clock import utc_now
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Line, Text

router = v1_router(tags=["complaints"])
Id = Annotated[str, Path(max_length=100)]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]
Amount = Annotated[str, Field(max_length=20, pattern=r"^\d{1,12}(\.\d{1,2})?$", description="Exact decimal.")]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"itinerary_id": "<itinerary id>", "complainant": "<customer id>", "language": "zh-Hans",
         "account": "The cooking class started an hour late and nobody told us.", "item_id": "<item id>",
         "owner": "Ana"}]})
    itinerary_id: str = Field(min_length=1, max_length=100)
    complainant: str = Field(min_length=1, max_length=100, description="Customer id of the traveller complaining.")
    account: Text = Field(min_length=1, max_length=5000, description="What the client said, as they said it.")
    language: Language = Field("en", description="The client's language: their messages and pages are in it.")
    item_id: str | None = Field(None, max_length=100, description="The part of the trip it is about.")
    booking_id: str | None = Field(None, max_length=100)
    supplier: Line | None = Field(None, max_length=200)
    incident_id: str | None = Field(None, max_length=100, description="The incident it followed, if any.")
    owner: Line | None = Field(None, max_length=200, description="Who handles it (default: who analyses it).")


class OfferOut(BaseModel):
    remedy: str
    amount: str | None
    currency: str | None
    message: str = Field(description="What the client reads with the offer.")
    proposed_at: datetime
    proposed_by: str

    @classmethod
    def of(cls, proposal: Proposal) -> OfferOut:
        money = proposal.money
        return cls(remedy=proposal.remedy, amount=money.amount if money else None,
                   currency=money.currency if money else None, message=proposal.message,
                   proposed_at=proposal.proposed_at, proposed_by=proposal.proposed_by)


class ComplaintOut(BaseModel):
    id: str
    itinerary_id: str
    source: Literal[SOURCES]  # type: ignore[valid-type]
    status: Status
    complainant: str
    account: str
    language: str
    received_at: datetime
    due_at: datetime | None = Field(description="When the agency owes its next step (none while the client has "
                                                "the turn).")
    overdue: bool = Field(description="The agency's turn, past its deadline.")
    answer_by: datetime | None = Field(description="When the client's time to answer the offer ends.")
    owner: str | None
    item_id: str | None
    booking_id: str | None
    supplier: str | None
    incident_id: str | None
    survey_response_id: str | None
    cause: str | None
    finding: str | None = Field(description="The agency's analysis (internal).")
    offers: list[OfferOut] = Field(description="Every offer made, the latest last.")
    escalation_reason: str | None = Field(description="The client's words when they turned an offer down.")
    accepted_at: datetime | None
    closed_at: datetime | None
    version: int
    timeline: list[TimelineEntryOut]

    @classmethod
    def of(cls, complaint: Complaint, now: datetime) -> ComplaintOut:
        return cls(
            **{name: getattr(complaint, name) for name in cls.model_fields
               if name not in ("overdue", "offers", "timeline")},
            overdue=complaint.overdue(now), offers=[OfferOut.of(p) for p in complaint.proposals],
            timeline=[TimelineEntryOut(at=e.at, actor=e.actor, kind=e.kind, text=e.text)
                      for e in complaint.timeline])


class ComplaintList(BaseModel):
    items: list[ComplaintOut]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: Line = Field(min_length=1, max_length=200)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=5000)


class AnalysisIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"cause": "supplier", "supplier": "Kyoto Cooking School", "booking_id": "<booking id>",
         "finding": "The school double-booked the teacher; they confirm it in writing."}]})
    cause: Literal[CAUSES]  # type: ignore[valid-type]
    finding: Text = Field(min_length=1, max_length=5000, description="What was found (internal).")
    booking_id: str | None = Field(None, max_length=100)
    supplier: Line | None = Field(None, max_length=200, description="Required when the cause is a supplier.")


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"remedy": "refund", "amount": "120.00", "currency": "EUR",
         "message": "We are sorry the class started late. We refund its price in full."}]})
    remedy: Literal[REMEDIES]  # type: ignore[valid-type]
    amount: Amount | None = Field(None, description="A credit or a refund: how much.")
    currency: str | None = Field(None, min_length=3, max_length=3)
    message: Text = Field(min_length=1, max_length=5000, description="What the client reads with the offer.")


class AnswerIn(BaseModel):
    """The client's answer, taken down by staff (on the phone); on their page the client answers themselves."""
    model_config = ConfigDict(extra="forbid")
    answer: Literal["accept", "escalate"]
    reason: Text | None = Field(None, max_length=5000, description="Why they turn it down (escalate).")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text | None = Field(None, max_length=5000, description="What was done; required when the client let "
                                                                 "the offer lapse.")


def _transaction(request: Request):
    return request.app.state.runtime.transaction


def _out(complaint: Complaint) -> ComplaintOut:
    return ComplaintOut.of(complaint, utc_now())


async def _step(request: Request, principal: Principal, complaint_id: str, step) -> ComplaintOut:
    return _out(await services.change_complaint(_transaction(request), principal.tenant_id, complaint_id, step))


@router.post("/complaints", status_code=201, response_model=ComplaintOut)
async def record_complaint(body: ComplaintIn, request: Request, response: Response,
                           principal: Principal = require("complaints:write")) -> ComplaintOut:
    """Take down a traveller's complaint. The agency owes an offer within three days (``due_at``)."""
    complaint = await services.record_complaint(
        _transaction(request), principal.tenant_id, body.itinerary_id, principal.name,
        request.app.state.runtime.settings.read_model_wait_s, source="staff",
        **body.model_dump(exclude={"itinerary_id"}))
    response.headers["Location"] = f"/v1/complaints/{complaint.id}"
    return _out(complaint)


@router.get("/complaints", response_model=ComplaintList)
async def list_complaints(
        request: Request,
        itinerary_id: str | None = Query(None, max_length=100),
        status: list[Status] | None = Query(None, max_length=6),
        owner: str | None = Query(None, max_length=200),
        supplier: str | None = Query(None, max_length=200),
        overdue: bool | None = Query(None, description="Only those past the agency's deadline (true)."),
        limit: int = Query(100, ge=1, le=500),
        principal: Principal = require("complaints:read")) -> ComplaintList:
    """The agency's turn first, the nearest deadline first; then those waiting for the client; then the closed."""
    filters: dict = {}
    for name, value in (("itinerary_id", itinerary_id), ("owner", owner), ("supplier", supplier)):
        if value:
            filters[name] = value
    if status:
        filters["status"] = {"$in": list(status)}
    if overdue:
        filters["status_rank"], filters["due_at"] = 0, {"$lte": utc_now()}
    found = await services.list_complaints(_transaction(request), principal.tenant_id, filters, limit)
    return ComplaintList(items=[_out(complaint) for complaint in found])


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
async def get_complaint(complaint_id: Id, request: Request,
                        principal: Principal = require("complaints:read")) -> ComplaintOut:
    return _out(await services.get_complaint(_transaction(request), principal.tenant_id, complaint_id))


@router.post("/complaints/{complaint_id}/assign", response_model=ComplaintOut)
async def assign_complaint(complaint_id: Id, body: AssignIn, request: Request,
                           principal: Principal = require("complaints:write")) -> ComplaintOut:
    return await _step(request, principal, complaint_id,
                       lambda complaint, now: complaint.assign(body.owner, principal.name, now))


@router.post("/complaints/{complaint_id}/notes", response_model=ComplaintOut)
async def note_complaint(complaint_id: Id, body: NoteIn, request: Request,
                         principal: Principal = require("complaints:write")) -> ComplaintOut:
    """An internal note on the timeline (never shown to the client)."""
    return await _step(request, principal, complaint_id,
                       lambda complaint, now: complaint.note(body.text, principal.name, now))


@router.post("/complaints/{complaint_id}/analysis", response_model=ComplaintOut)
async def analyse_complaint(complaint_id: Id, body: AnalysisIn, request: Request,
                            principal: Principal = require("complaints:write")) -> ComplaintOut:
    """Why it happened: supplier (named), agency, or external. Counts toward the supplier's scorecard."""
    return await _step(request, principal, complaint_id, lambda complaint, now: complaint.analyse(
        body.cause, body.finding, principal.name, now, booking_id=body.booking_id, supplier=body.supplier))


@router.post("/complaints/{complaint_id}/offer", response_model=ComplaintOut)
async def offer_resolution(complaint_id: Id, body: OfferIn, request: Request,
                           principal: Principal = require("complaints:write")) -> ComplaintOut:
    """Offer an apology, a credit or a refund (409 until analysed). The client is sent it at once, with a signed
    link to accept it or escalate; they have 14 days."""
    proposal = Proposal.of(body.remedy, body.amount, body.currency, body.message, principal.name, utc_now())
    return await _step(request, principal, complaint_id, lambda complaint, now: complaint.propose(proposal))


@router.post("/complaints/{complaint_id}/answer", response_model=ComplaintOut)
async def record_answer(complaint_id: Id, body: AnswerIn, request: Request,
                        principal: Principal = require("complaints:write")) -> ComplaintOut:
    """The client's answer, given to staff rather than on their page."""
    def answer(complaint: Complaint, now: datetime) -> None:
        if body.answer == "accept":
            complaint.accept(principal.name, now)
        else:
            complaint.escalate(body.reason, principal.name, now)
    return await _step(request, principal, complaint_id, answer)


@router.post("/complaints/{complaint_id}/close", response_model=ComplaintOut)
async def close_complaint(complaint_id: Id, request: Request, body: CloseIn | None = None,
                          principal: Principal = require("complaints:write")) -> ComplaintOut:
    """Once an accepted offer is carried out, or when the client let it lapse (then say so in ``note``)."""
    body = body or CloseIn()
    return await _step(request, principal, complaint_id,
                       lambda complaint, now: complaint.close(body.note, principal.name, now))
