"""HTTP API of the booking service: request/response shapes and routing only."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from booking.domain.model import Booking, Deposit, Money
from booking.entrypoints import vouchers
from booking.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Line, Text, refuse_nulls

router = v1_router(tags=["bookings"])
Amount = Field(pattern=r"^\d{1,12}(\.\d{1,2})?$", max_length=15,
               description="Exact decimal, at most two decimals: '1250.00'.")
Currency = Field(pattern=r"^[A-Za-z]{3}$", max_length=3, description="ISO 4217, e.g. JPY.")
Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Amount
    currency: str = Currency

    def domain(self, what: str = "price") -> Money:
        return Money.of(self.amount, self.currency, what)


class DepositIn(MoneyIn):
    due_date: date

    def terms(self) -> Deposit:
        money = self.domain("deposit")
        return Deposit(money.amount, money.currency, self.due_date)


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "itinerary_id": "<itinerary id>", "item_id": "<item id>", "supplier_id": "<supplier id>",
        "price": {"amount": "84000", "currency": "JPY"},
        "deposit": {"amount": "20000", "currency": "JPY", "due_date": "2027-09-01"},
        "vendor_note": "Anniversary trip: a quiet room facing the garden, please.",
        "respond_by": "2027-08-20T09:00:00Z"}]})
    itinerary_id: str = Field(min_length=1, max_length=100)
    item_id: str = Field(min_length=1, max_length=100)
    supplier_id: str = Field(min_length=1, max_length=100)
    price: MoneyIn | None = None
    deposit: DepositIn | None = None
    vendor_note: Text | None = Field(None, max_length=2000, description="For the supplier to read (never an "
                                                                         "internal note).")
    respond_by: AwareDatetime | None = Field(None, description="Unanswered by then, the request expires.")


class TripRequestsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "suppliers": {"<item id>": "<supplier id>"}, "respond_by": "2027-08-20T09:00:00Z"}]})
    suppliers: dict[Id, Id] = Field(default_factory=dict, max_length=500,
                                      description="item id → supplier id; an item not named here goes to the "
                                                  "active supplier whose name is the item's vendor.")
    vendor_note: Text | None = Field(None, max_length=2000)
    respond_by: AwareDatetime | None = None


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmation_code: Line = Field(min_length=1, max_length=100)
    confirmed_price: MoneyIn | None = None
    acknowledged_requirements: list[Id] = Field(default_factory=list, max_length=100,
                                                 description="Requirement ids the supplier acknowledged.")


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=2000)
    alternative: Text | None = Field(None, max_length=2000, description="What the supplier offered instead.")


class AcknowledgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requirement_ids: list[Id] = Field(min_length=1, max_length=100)


class AmendmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "changes": ["dinner moved to 20:00"], "reason": "The flight lands later."}]})
    changes: list[Annotated[Line, StringConstraints(max_length=500)]] = Field(default_factory=list, max_length=50,
                                description="What changes, in words; by default what the trip changed since the "
                                            "supplier was told.")
    reason: Text | None = Field(None, max_length=2000)


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=2000)


class CancellationConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cancellation_reference: Line = Field(min_length=1, max_length=100)


class MoneyOut(BaseModel):
    amount: str
    currency: str


class DepositOut(MoneyOut):
    due_date: date


class RequirementOut(BaseModel):
    id: str
    traveller_id: str | None
    traveller_name: str | None
    kind: str
    text: str
    acknowledged_at: datetime | None
    acknowledged_via: str | None


class TransitionOut(BaseModel):
    at: datetime
    actor: str
    channel: str
    from_status: str | None
    to_status: str
    note: str | None


class BookingOut(BaseModel):
    id: str
    itinerary_id: str
    item_id: str | None
    supplier_id: str | None
    vendor_name: str
    status: str
    round: int
    service: dict = Field(description="The item as the supplier was told of it (local times in its zone).")
    party_adults: int
    party_children: int
    traveller_names: list[str]
    requirements: list[RequirementOut]
    price: MoneyOut | None
    deposit: DepositOut | None
    vendor_note: str | None
    respond_by: datetime | None
    confirmation_code: str | None
    confirmed_price: MoneyOut | None
    confirmed_at: datetime | None
    decline_reason: str | None
    alternative: str | None
    amendment_changes: list[str]
    cancellation_reason: str | None
    cancellation_reference: str | None
    attention: str | None = Field(description="amendment or cancellation: the trip changed since the supplier "
                                              "was told, and one call sends it.")
    attention_changes: list[str]
    chases: int = Field(description="Reminders sent for the current message.")
    escalated_at: datetime | None
    reconfirmation_requested_at: datetime | None
    reconfirmed_at: datetime | None
    voucher_url: str | None = Field(description="The client's signed link to the voucher PDF.")
    history: list[TransitionOut]
    description: str | None
    version: int
    created_at: datetime

    @classmethod
    def of(cls, booking: Booking) -> BookingOut:
        fields = {name: getattr(booking, name) for name in cls.model_fields
                  if name not in ("requirements", "history", "price", "deposit", "confirmed_price")}
        money = {name: vars(getattr(booking, name)) if getattr(booking, name) else None
                 for name in ("price", "deposit", "confirmed_price")}
        requirements = [RequirementOut(**{name: getattr(line, name) for name in RequirementOut.model_fields})
                        for line in booking.requirements]
        return cls(**fields, **money, requirements=requirements,
                   history=[TransitionOut(**vars(step)) for step in booking.history])


class BookingList(BaseModel):
    items: list[BookingOut]


class Skipped(BaseModel):
    item_id: str
    title: str
    reason: str


class TripRequestsOut(BaseModel):
    requested: list[BookingOut]
    skipped: list[Skipped] = Field(description="Items that need a booking but were not requested, and why.")


class BookingSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "chase_after_hours": 24, "chases_before_escalation": 2, "reconfirm_days_before": 3,
        "escalation_email": "planners@agency.example"}]})
    chase_after_hours: int | None = Field(None, ge=1, le=720, description="From a message to each reminder.")
    chases_before_escalation: int | None = Field(None, ge=0, le=10,
                                                 description="Reminders before the planner is told.")
    reconfirm_days_before: int | None = Field(None, ge=0, le=60,
                                              description="Days before the service to ask for a reconfirmation; "
                                                          "0: never.")
    escalation_email: Line | None = Field(None, max_length=200, description="The planners' desk for escalations.")


class BookingSettingsOut(BaseModel):
    chase_after_hours: int
    chases_before_escalation: int
    reconfirm_days_before: int
    escalation_email: str | None
    version: int


def _transaction(request: Request):
    return request.app.state.runtime.transaction


def _links(request: Request):
    return request.app.state.response_links


def _wait(request: Request) -> float:
    return request.app.state.runtime.settings.read_model_wait_s


@router.post("/bookings", status_code=201, response_model=BookingOut)
async def request_booking(body: BookingIn, request: Request, response: Response,
                          principal: Principal = require("bookings:write")) -> BookingOut:
    """Request one item of a trip from a supplier: notify sends them the request in their language, with a link
    (or a webhook) to answer it."""
    spec = services.RequestSpec(body.item_id, body.supplier_id, body.price.domain() if body.price else None,
                                body.deposit.terms() if body.deposit else None, body.vendor_note, body.respond_by)
    [booking] = await services.request_bookings(_transaction(request), principal.tenant_id, principal.name,
                                                body.itinerary_id, [spec], _links(request), _wait(request))
    response.headers["Location"] = f"/v1/bookings/{booking.id}"
    return BookingOut.of(booking)


@router.post("/itineraries/{itinerary_id}/booking-requests", status_code=201, response_model=TripRequestsOut)
async def request_trip(itinerary_id: str, body: TripRequestsIn, request: Request,
                       principal: Principal = require("bookings:write")) -> TripRequestsOut:
    """Request every item of the trip that needs a booking and has none open, each from its supplier."""
    items, by_name = await services.unrequested_items(_transaction(request), principal.tenant_id, itinerary_id)
    specs, skipped = [], []
    for item in items:
        supplier_id = body.suppliers.get(item["item_id"]) or by_name.get((item.get("vendor") or "").casefold())
        if supplier_id is None:
            skipped.append(Skipped(item_id=item["item_id"], title=item["title"],
                                   reason="no supplier named for it, and no active supplier is called "
                                          f"{item.get('vendor')!r}" if item.get("vendor") else
                                          "no supplier named for it, and the item names no vendor"))
            continue
        specs.append(services.RequestSpec(item["item_id"], supplier_id, vendor_note=body.vendor_note,
                                          respond_by=body.respond_by))
    made = await services.request_bookings(_transaction(request), principal.tenant_id, principal.name,
                                           itinerary_id, specs, _links(request), 0) if specs else []
    return TripRequestsOut(requested=[BookingOut.of(booking) for booking in made], skipped=skipped)


@router.post("/bookings/{booking_id}/confirmation", response_model=BookingOut)
async def confirm_booking(booking_id: str, body: ConfirmationIn, request: Request,
                          principal: Principal = require("bookings:write")) -> BookingOut:
    """Record a confirmation the supplier gave another way (by phone, say)."""
    return BookingOut.of(await services.confirm_booking(
        _transaction(request), principal.tenant_id, booking_id, body.confirmation_code, actor=principal.name,
        channel="phone", price=body.confirmed_price.domain("confirmed_price") if body.confirmed_price else None,
        acknowledged=body.acknowledged_requirements, voucher_link=request.app.state.voucher_links))


@router.post("/bookings/{booking_id}/decline", response_model=BookingOut)
async def decline_booking(booking_id: str, body: DeclineIn, request: Request,
                          principal: Principal = require("bookings:write")) -> BookingOut:
    """Record that the supplier declined (by phone, say), maybe offering an alternative."""
    return BookingOut.of(await services.decline_booking(
        _transaction(request), principal.tenant_id, booking_id, body.reason, actor=principal.name, channel="phone",
        alternative=body.alternative))


@router.post("/bookings/{booking_id}/requirements/acknowledgement", response_model=BookingOut)
async def acknowledge_requirements(booking_id: str, body: AcknowledgementIn, request: Request,
                                   principal: Principal = require("bookings:write")) -> BookingOut:
    """Record that the supplier acknowledged these special requirements (by phone, say)."""
    return BookingOut.of(await services.acknowledge_requirements(
        _transaction(request), principal.tenant_id, booking_id, body.requirement_ids, actor=principal.name,
        channel="phone"))


@router.post("/bookings/{booking_id}/amendment", response_model=BookingOut)
async def request_amendment(booking_id: str, body: AmendmentIn, request: Request,
                            principal: Principal = require("bookings:write")) -> BookingOut:
    """Ask the supplier to change the booking to what the trip says now."""
    return BookingOut.of(await services.request_amendment(
        _transaction(request), principal.tenant_id, booking_id, body.changes, body.reason, actor=principal.name,
        make_link=_links(request)))


@router.post("/bookings/{booking_id}/cancellation", response_model=BookingOut)
async def request_cancellation(booking_id: str, body: CancellationIn, request: Request,
                               principal: Principal = require("bookings:write")) -> BookingOut:
    """Ask the supplier to cancel; it is cancelled once they confirm, with their reference."""
    return BookingOut.of(await services.request_cancellation(
        _transaction(request), principal.tenant_id, booking_id, body.reason, actor=principal.name,
        make_link=_links(request)))


@router.post("/bookings/{booking_id}/cancellation/confirmation", response_model=BookingOut)
async def confirm_cancellation(booking_id: str, body: CancellationConfirmationIn, request: Request,
                               principal: Principal = require("bookings:write")) -> BookingOut:
    """Record the supplier's cancellation reference given another way."""
    return BookingOut.of(await services.confirm_cancellation(
        _transaction(request), principal.tenant_id, booking_id, body.cancellation_reference, actor=principal.name,
        channel="phone"))


@router.get("/bookings", response_model=BookingList)
async def list_bookings(request: Request, itinerary_id: str = Query(min_length=1, max_length=100),
                        principal: Principal = require("bookings:read")) -> BookingList:
    found = await services.bookings_for(_transaction(request), principal.tenant_id, itinerary_id)
    return BookingList(items=[BookingOut.of(b) for b in found])


@router.get("/bookings/{booking_id}/voucher.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The voucher PDF."}})
async def booking_voucher(booking_id: str, request: Request, lang: Literal["en", "zh-Hans"] = "en",
                          principal: Principal = require("bookings:read")) -> Response:
    """The voucher of a confirmed booking, as the client gets it (404 `no-voucher` until it is confirmed)."""
    booking, supplier = await services.voucher_of(_transaction(request), principal.tenant_id, booking_id)
    content = vouchers.voucher_pdf(booking, supplier,
                                   await request.app.state.runtime.agencies.for_tenant(principal.tenant_id), lang)
    return vouchers.pdf_response(content, booking)


@router.get("/bookings/{booking_id}", response_model=BookingOut)
async def get_booking(booking_id: str, request: Request,
                      principal: Principal = require("bookings:read")) -> BookingOut:
    return BookingOut.of(await services.get_booking(_transaction(request), principal.tenant_id, booking_id))


@router.get("/booking-settings", response_model=BookingSettingsOut)
async def get_settings(request: Request, principal: Principal = require("bookings:read")) -> BookingSettingsOut:
    """How the agency's bookings are followed up (defaults until it sets its own)."""
    return BookingSettingsOut(**vars(await services.get_settings(_transaction(request), principal.tenant_id)))


@router.patch("/booking-settings", response_model=BookingSettingsOut)
async def change_settings(body: BookingSettingsIn, request: Request,
                          principal: Principal = require("bookings:write")) -> BookingSettingsOut:
    changes = refuse_nulls(body.model_dump(exclude_unset=True), "chase_after_hours", "chases_before_escalation",
                           "reconfirm_days_before")
    return BookingSettingsOut(**vars(await services.change_settings(_transaction(request), principal.tenant_id,
                                                                    changes)))


class TripReadinessOut(BaseModel):
    itinerary_id: str
    title: str
    stage: str | None
    departs_on: str | None
    ready: bool = Field(description="Every required service confirmed, nothing to amend or cancel, every special "
                                    "requirement acknowledged.")
    required: int
    confirmed: int
    unrequested: list[dict] = Field(description="Required items with no open or confirmed booking.")
    pending: list[dict] = Field(description="Awaiting the supplier, with age_hours since the last move.")
    late: list[dict] = Field(description="Pending after a reminder (escalated: the planners were told).")
    declined: list[dict]
    needs_amendment: list[dict]
    needs_cancellation: list[dict]
    requirements_unacknowledged: list[dict]
    next_reconfirmations: list[dict]

    @classmethod
    def of(cls, report) -> TripReadinessOut:
        return cls(**vars(report), ready=report.ready)


class ReadinessList(BaseModel):
    items: list[TripReadinessOut]


@router.get("/readiness", response_model=ReadinessList)
async def readiness(request: Request, departing_within_days: int = Query(14, ge=0, le=365),
                    principal: Principal = require("bookings:read")) -> ReadinessList:
    """The agency's open trips departing from today to N days ahead, soonest first, and what each still needs."""
    found = await services.readiness_departing(_transaction(request), principal.tenant_id, departing_within_days)
    return ReadinessList(items=[TripReadinessOut.of(report) for report in found])


@router.get("/itineraries/{itinerary_id}/readiness", response_model=TripReadinessOut)
async def trip_readiness(itinerary_id: str, request: Request,
                         principal: Principal = require("bookings:read")) -> TripReadinessOut:
    return TripReadinessOut.of(await services.readiness_of_trip(_transaction(request), principal.tenant_id,
                                                                itinerary_id))
