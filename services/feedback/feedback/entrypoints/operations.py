"""HTTP API of the operations view: the agency's trips under way or about to leave, what needs a person first."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field

from feedback.domain.operations import Moment, TripWatch
from feedback.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router

router = v1_router(tags=["operations"])


class MomentOut(BaseModel):
    item_id: str
    title: str
    kind: str
    starts: str | None = Field(description="Local time where it happens, the zone named: 2027-10-01 17:30 "
                                           "(Europe/Rome).")
    ends: str | None

    @classmethod
    def of(cls, moment: Moment | None) -> MomentOut | None:
        return cls(**moment.__dict__) if moment else None


class BookingFlagOut(BaseModel):
    booking_id: str
    item_id: str | None
    vendor_name: str | None
    status: str
    service_starts: str | None


class UnreadMessageOut(BaseModel):
    notification_id: str
    customer_id: str
    kind: str
    subject: str
    status: str = Field(description="Its delivery when last announced: pending, sent, no_address…")
    overdue: bool = Field(description="Unread past the time it should have been (the planners were told).")


class ComplaintFlagOut(BaseModel):
    complaint_id: str
    status: str
    due_at: datetime | None
    overdue: bool


class PartyOut(BaseModel):
    travellers: list[str] = Field(description="Customer ids.")
    names: list[str]
    current: MomentOut | None
    next: MomentOut | None


class TripWatchOut(BaseModel):
    itinerary_id: str
    title: str
    stage: str
    start_date: str | None
    end_date: str | None
    needs_a_person: bool
    current: MomentOut | None = Field(description="What the travellers are doing now (else where they stay).")
    next: MomentOut | None
    open_incidents: dict[str, int] = Field(description="Open or acknowledged incidents by severity, worst first.")
    overdue_incidents: list[str] = Field(description="Ids of open incidents past their response deadline.")
    late_bookings: list[BookingFlagOut] = Field(description="Suppliers past the deadline to answer.")
    unconfirmed_bookings: list[BookingFlagOut] = Field(description="Requested, amended, declined or expired.")
    unread_urgent_messages: list[UnreadMessageOut] = Field(description="Urgent news a client has not confirmed "
                                                                       "reading (from notify).")
    complaints_to_answer: list[ComplaintFlagOut] = Field(description="Complaints whose next step is the "
                                                                     "agency's.")
    parties: list[PartyOut] = Field(description="Where each group of travellers is, when items for some of them "
                                                "have split the party (empty while they are together).")

    @classmethod
    def of(cls, watched: TripWatch) -> TripWatchOut:
        return cls(itinerary_id=watched.itinerary_id, title=watched.title, stage=watched.stage,
                   start_date=watched.start_date, end_date=watched.end_date, needs_a_person=watched.needs_a_person,
                   current=MomentOut.of(watched.current), next=MomentOut.of(watched.next),
                   open_incidents=watched.open_incidents, overdue_incidents=watched.overdue_incidents,
                   late_bookings=watched.late_bookings, unconfirmed_bookings=watched.unconfirmed_bookings,
                   unread_urgent_messages=watched.unread_urgent_messages,
                   complaints_to_answer=watched.complaints_to_answer,
                   parties=[PartyOut(travellers=party.travellers, names=party.names,
                                     current=MomentOut.of(party.current), next=MomentOut.of(party.next))
                            for party in watched.parties])


class TripWatchList(BaseModel):
    items: list[TripWatchOut]


@router.get("/operations/trips", response_model=TripWatchList)
async def trips_to_watch(request: Request, days_ahead: int = Query(3, ge=0, le=30),
                         principal: Principal = require("incidents:read")) -> TripWatchList:
    """Trips in progress and approved or booked ones leaving within ``days_ahead`` days: overdue incidents first,
    then the most severe open one, late then unconfirmed bookings, then the soonest."""
    found = await services.trips_to_watch(request.app.state.runtime.transaction, principal.tenant_id, days_ahead)
    return TripWatchList(items=[TripWatchOut.of(watched) for watched in found])


class RecordEntryOut(BaseModel):
    at: datetime
    subject: str = Field(description="incident, complaint or survey")
    subject_id: str
    step: str = Field(description="What happened to it: reported, acknowledged, analysed, proposed, sent, "
                                  "answered, …")
    actor: str = Field(description="Who: a staff key's name, client:<customer id>, or system.")
    text: str


class TripRecord(BaseModel):
    itinerary_id: str
    items: list[RecordEntryOut]


@router.get("/operations/trips/{itinerary_id}/record", response_model=TripRecord)
async def trip_record(itinerary_id: Annotated[str, Path(max_length=100)], request: Request,
                      principal: Principal = require("incidents:read")) -> TripRecord:
    """The trip's documented deviations and what its travellers said, oldest first: every step of its incidents
    and complaints, its surveys sent and reminded, each answer given (internal: staff accounts included)."""
    found = await services.record_of(request.app.state.runtime.transaction, principal.tenant_id, itinerary_id)
    return TripRecord(itinerary_id=itinerary_id, items=[RecordEntryOut(**vars(entry)) for entry in found])
