"""Events produced by the booking service. Keyed by trip so a trip's bookings stay in order."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload


class BookingDetails(Payload):
    booking_id: str
    itinerary_id: str
    vendor_name: str
    description: str | None = None
    item_id: str | None = Field(None, description="Itinerary item the booking secures, when known.")
    status: Literal["requested", "confirmed"] = "requested"
    confirmation_code: str | None = None
    confirmed_at: datetime | None = None


class BookingRequested(Event):
    TOPIC = "booking.requested"
    event_type: Literal["booking.requested"] = "booking.requested"
    aggregate_type: Literal["booking"] = "booking"
    data: BookingDetails


class BookingConfirmed(Event):
    TOPIC = "booking.confirmed"
    event_type: Literal["booking.confirmed"] = "booking.confirmed"
    aggregate_type: Literal["booking"] = "booking"
    data: BookingDetails
