"""HTTP API of the booking service: request/response shapes and routing only."""
from __future__ import annotations

from datetime import datetime

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from booking.domain.model import Booking
from booking.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Line, Text

router = v1_router(tags=["bookings"])


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"itinerary_id": "<itinerary id>", "item_id": "<item id>", "vendor_name": "British Airways"}]})
    itinerary_id: str = Field(min_length=1, max_length=100)
    vendor_name: Line = Field(min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=2000)
    item_id: str | None = Field(None, max_length=100)


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmation_code: Line = Field(min_length=1, max_length=100)


class BookingOut(BaseModel):
    id: str
    itinerary_id: str
    vendor_name: str
    description: str | None
    item_id: str | None
    status: str
    confirmation_code: str | None
    confirmed_at: datetime | None
    version: int
    created_at: datetime

    @classmethod
    def of(cls, booking: Booking) -> BookingOut:
        return cls(**{name: getattr(booking, name) for name in cls.model_fields})


class BookingList(BaseModel):
    items: list[BookingOut]


def _transaction(request: Request):
    return request.app.state.runtime.transaction


@router.post("/bookings", status_code=201, response_model=BookingOut)
async def request_booking(body: BookingIn, request: Request, response: Response,
                          principal: Principal = require("bookings:write")) -> BookingOut:
    booking = await services.request_booking(_transaction(request), principal.tenant_id, body.itinerary_id,
                                             body.vendor_name, body.description, body.item_id,
                                             request.app.state.runtime.settings.read_model_wait_s)
    response.headers["Location"] = f"/v1/bookings/{booking.id}"
    return BookingOut.of(booking)


@router.post("/bookings/{booking_id}/confirmation", response_model=BookingOut)
async def confirm_booking(booking_id: str, body: ConfirmationIn, request: Request,
                          principal: Principal = require("bookings:write")) -> BookingOut:
    return BookingOut.of(await services.confirm_booking(_transaction(request), principal.tenant_id, booking_id,
                                                        body.confirmation_code))


@router.get("/bookings", response_model=BookingList)
async def list_bookings(request: Request, itinerary_id: str = Query(min_length=1, max_length=100),
                        principal: Principal = require("bookings:read")) -> BookingList:
    found = await services.bookings_for(_transaction(request), principal.tenant_id, itinerary_id)
    return BookingList(items=[BookingOut.of(b) for b in found])


@router.get("/bookings/{booking_id}", response_model=BookingOut)
async def get_booking(booking_id: str, request: Request,
                      principal: Principal = require("bookings:read")) -> BookingOut:
    return BookingOut.of(await services.get_booking(_transaction(request), principal.tenant_id, booking_id))
