"""Events produced by the booking service. Keyed by trip so a trip's bookings stay in order.

Every event carries the booking as it is after the move (``data``) and, when the move is a message the supplier
must get (a request, an amendment, a cancellation), ``to_supplier``: who they are, how they are reached and the
signed link they answer at. Notify delivers it; booking never sends anything itself.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload
from trip_shared.contracts.itinerary import Place

BookingStatus = Literal["requested", "confirmed", "declined", "expired", "amendment_requested",
                        "cancellation_requested", "cancelled"]


class Money(Payload):
    amount: str = Field(description="Exact decimal, e.g. '1250.00'.")
    currency: str = Field(description="ISO 4217, e.g. JPY.")


class DepositTerms(Payload):
    amount: str
    currency: str
    due_date: date


class RequestedService(Payload):
    """The item as the supplier was told of it: local times in the item's zone, which is named."""

    kind: str
    title: str
    timezone: str
    start: str | None = Field(None, description="Local time (2026-05-01T19:00) or day (2026-05-01) in timezone.")
    end: str | None = None
    end_timezone: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: Place | None = None
    end_place: Place | None = None
    mode: str | None = None


class RequirementLine(Payload):
    requirement_id: str
    traveller_id: str | None = None
    traveller_name: str | None = None
    kind: Literal["dietary", "accessibility", "other"]
    text: str
    acknowledged_at: datetime | None = None


class BookingDetails(Payload):
    booking_id: str
    itinerary_id: str
    vendor_name: str
    description: str | None = None
    item_id: str | None = Field(None, description="Itinerary item the booking secures, when known.")
    status: Literal["requested", "confirmed"] = "requested"
    confirmation_code: str | None = None
    confirmed_at: datetime | None = None
    supplier_id: str | None = None
    service: RequestedService | None = None
    party_adults: int | None = None
    party_children: int | None = None
    traveller_names: list[str] = Field(default_factory=list)
    requirements: list[RequirementLine] = Field(default_factory=list)
    price: Money | None = None
    confirmed_price: Money | None = None
    deposit: DepositTerms | None = None
    respond_by: datetime | None = None
    round: int = Field(1, description="Counts the messages that await the supplier's answer.")
    decline_reason: str | None = None
    alternative: str | None = Field(None, description="What the supplier offered instead, when it declined.")
    amendment_changes: list[str] = Field(default_factory=list)
    cancellation_reason: str | None = None
    cancellation_reference: str | None = None
    attention: Literal["amendment", "cancellation"] | None = Field(
        None, description="The trip changed since the supplier was told: an amendment or a cancellation is due.")
    attention_changes: list[str] = Field(default_factory=list)
    chases: int = Field(0, description="Reminders sent for the current round.")
    voucher_url: str | None = Field(None, description="The client's signed link to the voucher PDF (shown while "
                                                      "the booking is confirmed).")
    reconfirmed_at: datetime | None = None
    actor: str | None = Field(None, description="Who made this move: a staff member, 'supplier' or 'system'.")
    channel: str | None = Field(None, description="Through which: api, phone, email, webhook or system.")


class BookingState(BookingDetails):
    status: BookingStatus = "requested"


class SupplierMessage(Payload):
    """A message the supplier must get; notify delivers it on the supplier's channel."""

    kind: Literal["request", "amendment", "cancellation", "reminder", "reconfirmation"]
    supplier_id: str
    supplier_name: str
    channel: Literal["email", "webhook"]
    language: Literal["en", "zh-Hans"] = "en"
    email: str | None = None
    contact_name: str | None = None
    webhook_url: str | None = None
    vendor_note: str | None = Field(None, description="The agency's note to the supplier (never an internal one).")
    amendment_reason: str | None = None
    response_url: str | None = Field(None, description="Signed link to the supplier's answer page for this round.")
    response_expires_at: datetime | None = None
    callback_url: str | None = Field(None, description="Where a webhook supplier posts its signed answer.")
    secret_generation: int | None = Field(None, description="Which of the webhook supplier's signing secrets signs "
                                                            "(the secret is derived, never sent).")


class _BookingEvent(Event):
    aggregate_type: Literal["booking"] = "booking"


class BookingRequested(_BookingEvent):
    TOPIC = "booking.requested"
    event_type: Literal["booking.requested"] = "booking.requested"
    data: BookingDetails
    to_supplier: SupplierMessage | None = None


class BookingConfirmed(_BookingEvent):
    TOPIC = "booking.confirmed"
    event_type: Literal["booking.confirmed"] = "booking.confirmed"
    data: BookingDetails


class BookingDeclined(_BookingEvent):
    TOPIC = "booking.declined"
    event_type: Literal["booking.declined"] = "booking.declined"
    data: BookingState


class BookingExpired(_BookingEvent):
    TOPIC = "booking.expired"
    event_type: Literal["booking.expired"] = "booking.expired"
    data: BookingState


class BookingAmendmentRequested(_BookingEvent):
    TOPIC = "booking.amendment_requested"
    event_type: Literal["booking.amendment_requested"] = "booking.amendment_requested"
    data: BookingState
    to_supplier: SupplierMessage | None = None


class BookingCancellationRequested(_BookingEvent):
    TOPIC = "booking.cancellation_requested"
    event_type: Literal["booking.cancellation_requested"] = "booking.cancellation_requested"
    data: BookingState
    to_supplier: SupplierMessage | None = None


class BookingCancelled(_BookingEvent):
    TOPIC = "booking.cancelled"
    event_type: Literal["booking.cancelled"] = "booking.cancelled"
    data: BookingState


class BookingRequirementsAcknowledged(_BookingEvent):
    TOPIC = "booking.requirements_acknowledged"
    event_type: Literal["booking.requirements_acknowledged"] = "booking.requirements_acknowledged"
    data: BookingState
    acknowledged: list[str] = Field(default_factory=list, description="The requirement ids acknowledged now.")


class BookingNeedsAttention(_BookingEvent):
    """The trip changed under a booking (or changed back): data.attention says what is due, if anything."""

    TOPIC = "booking.attention_changed"
    event_type: Literal["booking.attention_changed"] = "booking.attention_changed"
    data: BookingState


class BookingSupplierReminded(_BookingEvent):
    """A reminder of an unanswered message (to_supplier.kind reminder), or a reconfirmation request before the
    service (reconfirmation); notify delivers it."""

    TOPIC = "booking.supplier_reminded"
    event_type: Literal["booking.supplier_reminded"] = "booking.supplier_reminded"
    data: BookingState
    to_supplier: SupplierMessage | None = None


class Escalation(Payload):
    reason: str = Field(description="Why a person must act, in words.")
    notify_email: str | None = Field(None, description="The agency's planners' desk (booking settings).")


class BookingEscalated(_BookingEvent):
    """A supplier did not answer after every reminder: the planner must call them."""

    TOPIC = "booking.escalated"
    event_type: Literal["booking.escalated"] = "booking.escalated"
    data: BookingState
    escalation: Escalation


class BookingReconfirmed(_BookingEvent):
    TOPIC = "booking.reconfirmed"
    event_type: Literal["booking.reconfirmed"] = "booking.reconfirmed"
    data: BookingState
