"""HTTP API of the itinerary service: request/response shapes and routing only."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from itinerary.adapters.repository import sort_key
from itinerary.domain.model import Itinerary
from itinerary.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.pagination import decode_cursor, encode_cursor
from trip_shared.web.problems import ApiProblem

router = v1_router(tags=["itineraries"])


class ItineraryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    start_date: date | None = None
    end_date: date | None = None


class ItineraryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    start_date: date | None = None
    end_date: date | None = None


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=100)
    is_poc: bool | None = Field(None, description="Omit to let the first linked customer become the POC.")


class PocIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_poc: bool


class LinkedCustomerOut(BaseModel):
    customer_id: str
    is_poc: bool
    linked_at: datetime
    first_name: str | None = Field(description="From the customers service; null until its event arrives.")
    last_name: str | None
    passport_expires_before_trip_ends: bool = Field(
        False, description="True when the customer's passport expires before the trip's last day.")


class NoticeOut(BaseModel):
    kind: str
    message: str
    at: datetime


class ItineraryOut(BaseModel):
    id: str
    title: str
    start_date: date | None
    end_date: date | None
    stage: str
    customers: list[LinkedCustomerOut]
    notices: list[NoticeOut] = Field(description="Changes the platform made for the planner to review.")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, itinerary: Itinerary, known: dict[str, dict]) -> ItineraryOut:
        return cls(
            id=itinerary.id, title=itinerary.title, start_date=itinerary.start_date, end_date=itinerary.end_date,
            stage=itinerary.stage, version=itinerary.version, created_at=itinerary.created_at,
            updated_at=itinerary.updated_at,
            notices=[NoticeOut(kind=n.kind, message=n.message, at=n.at) for n in itinerary.notices],
            customers=[
                LinkedCustomerOut(customer_id=c.customer_id, is_poc=c.is_poc, linked_at=c.linked_at,
                                  first_name=known.get(c.customer_id, {}).get("first_name"),
                                  last_name=known.get(c.customer_id, {}).get("last_name"),
                                  passport_expires_before_trip_ends=itinerary.passport_expires_too_soon(
                                      _date(known.get(c.customer_id, {}).get("passport_expiry"))))
                for c in itinerary.customers
            ],
        )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class ItineraryPage(BaseModel):
    items: list[ItineraryOut]
    next_cursor: str | None = None


class LinkedCustomerList(BaseModel):
    items: list[LinkedCustomerOut]


def _transaction(request: Request):
    return request.app.state.runtime.transaction


async def _view(request: Request, principal: Principal, itinerary_id: str) -> ItineraryOut:
    itinerary, known = await services.get_itinerary(_transaction(request), principal.tenant_id, itinerary_id)
    return ItineraryOut.of(itinerary, known)


@router.post("/itineraries", status_code=201, response_model=ItineraryOut)
async def create_itinerary(body: ItineraryIn, request: Request, response: Response,
                           principal: Principal = require("itineraries:write")) -> ItineraryOut:
    itinerary = await services.create_itinerary(_transaction(request), principal.tenant_id, body.title,
                                                body.start_date, body.end_date)
    response.headers["Location"] = f"/v1/itineraries/{itinerary.id}"
    return ItineraryOut.of(itinerary, {})


@router.get("/itineraries", response_model=ItineraryPage)
async def list_itineraries(request: Request, customer_id: str | None = Query(None, max_length=100),
                           limit: int = Query(20, ge=1, le=100), cursor: str | None = Query(None),
                           principal: Principal = require("itineraries:read")) -> ItineraryPage:
    found, known = await services.list_itineraries(_transaction(request), principal.tenant_id,
                                                   customer_id=customer_id, limit=limit + 1,
                                                   before=decode_cursor(cursor))
    page = found[:limit]
    next_cursor = encode_cursor(sort_key(page[-1])) if len(found) > limit else None
    return ItineraryPage(items=[ItineraryOut.of(i, known) for i in page], next_cursor=next_cursor)


@router.get("/itineraries/{itinerary_id}", response_model=ItineraryOut)
async def get_itinerary(itinerary_id: str, request: Request,
                        principal: Principal = require("itineraries:read")) -> ItineraryOut:
    return await _view(request, principal, itinerary_id)


@router.patch("/itineraries/{itinerary_id}", response_model=ItineraryOut)
async def revise_itinerary(itinerary_id: str, body: ItineraryPatch, request: Request,
                           principal: Principal = require("itineraries:write")) -> ItineraryOut:
    changes = body.model_dump(exclude_unset=True)
    if "title" in changes and changes["title"] is None:
        raise ApiProblem(422, "title-required", "The request is not valid", "title cannot be null.")
    await services.revise_itinerary(_transaction(request), principal.tenant_id, itinerary_id, changes)
    return await _view(request, principal, itinerary_id)


@router.get("/itineraries/{itinerary_id}/customers", response_model=LinkedCustomerList)
async def list_linked_customers(itinerary_id: str, request: Request,
                                principal: Principal = require("itineraries:read")) -> LinkedCustomerList:
    return LinkedCustomerList(items=(await _view(request, principal, itinerary_id)).customers)


@router.post("/itineraries/{itinerary_id}/customers", status_code=201, response_model=ItineraryOut)
async def link_customer(itinerary_id: str, body: LinkIn, request: Request,
                        principal: Principal = require("itineraries:write")) -> ItineraryOut:
    await services.link_customer(_transaction(request), principal.tenant_id, itinerary_id, body.customer_id,
                                 body.is_poc, request.app.state.runtime.settings.read_model_wait_s)
    return await _view(request, principal, itinerary_id)


@router.patch("/itineraries/{itinerary_id}/customers/{customer_id}", response_model=ItineraryOut)
async def set_poc(itinerary_id: str, customer_id: str, body: PocIn, request: Request,
                  principal: Principal = require("itineraries:write")) -> ItineraryOut:
    await services.set_poc(_transaction(request), principal.tenant_id, itinerary_id, customer_id, body.is_poc)
    return await _view(request, principal, itinerary_id)


@router.delete("/itineraries/{itinerary_id}/customers/{customer_id}", response_model=ItineraryOut)
async def unlink_customer(itinerary_id: str, customer_id: str, request: Request,
                          principal: Principal = require("itineraries:write")) -> ItineraryOut:
    await services.unlink_customer(_transaction(request), principal.tenant_id, itinerary_id, customer_id)
    return await _view(request, principal, itinerary_id)
