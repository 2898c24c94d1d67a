"""Request and response shapes of the itinerary API, and how domain objects are shown through them."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from itinerary.domain.deliveries import delivery_notice
from itinerary.domain.disruptions import MAX_SHIFT_MINUTES, Assessment, Disruption
from itinerary.domain.items import COST_CATEGORIES, ITEM_KINDS, TRANSFER_MODES, Item
from itinerary.domain.model import Itinerary
from itinerary.domain.proposals import ProposalRound
from itinerary.domain.stages import STAGES, allowed_moves
from itinerary.service_layer.services import ItineraryView
from trip_shared.web.fields import IsoDate, Line, Text


class ItineraryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Tokyo and Kyoto with the kids", "start_date": "2027-04-01", "end_date": "2027-04-08"}]})
    title: Line = Field(min_length=1, max_length=200)
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    planner: Line | None = Field(None, max_length=200, description="Who at the agency looks after the trip (its "
                                                                    "figures are kept per planner).")


class ItineraryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Line | None = Field(None, min_length=1, max_length=200)
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    markup_percent: Decimal | None = Field(None, ge=0, le=500, description="Added to costs for the client's price.")
    planner: Line | None = Field(None, max_length=200, description="Who at the agency looks after the trip.")


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Line | None = Field(None, max_length=500)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class CostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. EUR.")
    category: Literal[COST_CATEGORIES] | None = Field(  # type: ignore[valid-type]
        None, description="Defaults from the item's kind (a flight is transport, a hotel accommodation).")


_LOCAL_TIME = ("Local wall-clock time where the item happens, e.g. 2026-05-01T09:30, or a date (2026-05-01) "
               "for an untimed item. No UTC offset: the time zone is the item's own.")


_INTERNAL_NOTES = "The planner's own notes. Never shown to a client or a vendor."
_CLIENT_NOTE = ("What the client reads about this item on the trip page, the proposal, the PDF and the calendar "
                "(meeting point, what to bring).")
_OCCURRENCE = ("Which of the two moments a local time means when it happens twice (the hour repeated when clocks "
               "go back): required then, ignored otherwise.")
Occurrence = Literal["first", "second"]


class AskClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text | None = Field(None, max_length=500, description="Why, in words for the client (their language).")


_ASK_CLIENT = ("The clients must agree to this change (an approved trip only): notify asks the points of contact at "
               "once, each with a signed link to agree or ask for a call; their answers show under agreements.")


_TRAVELLERS = ("Customer ids of the trip's travellers who do it, when the party splits up (the others do something "
               "else); none: everyone.")


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "flight", "title": "NH 212 London to Tokyo", "start": "2027-04-01T19:00", "end": "2027-04-02T15:30",
         "timezone": "Europe/London", "end_timezone": "Asia/Tokyo", "location": {"address": "Heathrow T2"},
         "end_location": {"address": "Haneda T3", "lat": 35.5494, "lon": 139.7798}, "requires_booking": True,
         "cost": {"amount": "1200.00", "currency": "EUR"}, "client_note": "Check in online 24 h before.",
         "notes": "Fare class K; 2 free bags"},
        {"kind": "transfer", "title": "Nozomi to Kyoto", "start": "2027-04-04T09:00", "end": "2027-04-04T11:15",
         "timezone": "Asia/Tokyo", "mode": "high_speed_rail",
         "location": {"address": "Tokyo Station", "lat": 35.6812, "lon": 139.7671},
         "end_location": {"address": "Kyoto Station", "lat": 34.9858, "lon": 135.7588}}]})
    kind: Literal[ITEM_KINDS]  # type: ignore[valid-type]
    title: Line = Field(min_length=1, max_length=200)
    start: str | None = Field(None, max_length=25, description=_LOCAL_TIME)
    end: str | None = Field(None, max_length=25, description=_LOCAL_TIME + " A flight's end is in end_timezone.")
    timezone: str = Field(max_length=64, description="IANA time zone of start (and of end unless end_timezone).")
    end_timezone: str | None = Field(None, max_length=64, description="Where a flight lands, when elsewhere.")
    location: LocationIn | None = Field(None, description="Where it happens; a flight's or transfer's origin.")
    end_location: LocationIn | None = Field(None, description="A flight's or transfer's destination.")
    mode: Literal[TRANSFER_MODES] | None = Field(None, description="How a transfer travels.")  # type: ignore[valid-type]
    vendor: Line | None = Field(None, max_length=200)
    cost: CostIn | None = None
    notes: Text | None = Field(None, max_length=5000, description=_INTERNAL_NOTES)
    client_note: Text | None = Field(None, max_length=5000, description=_CLIENT_NOTE)
    requires_booking: bool = False
    start_occurrence: Occurrence | None = Field(None, description=_OCCURRENCE)
    end_occurrence: Occurrence | None = Field(None, description=_OCCURRENCE)
    travellers: list[Annotated[str, Field(max_length=100)]] | None = Field(
        None, max_length=50, description=_TRAVELLERS)
    ask_client: AskClientIn | None = Field(None, description=_ASK_CLIENT)


class ItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Line | None = Field(None, min_length=1, max_length=200)
    start: str | None = Field(None, max_length=25, description=_LOCAL_TIME)
    end: str | None = Field(None, max_length=25)
    timezone: str | None = Field(None, max_length=64)
    end_timezone: str | None = Field(None, max_length=64)
    location: LocationIn | None = None
    end_location: LocationIn | None = None
    mode: Literal[TRANSFER_MODES] | None = None  # type: ignore[valid-type]
    vendor: Line | None = Field(None, max_length=200)
    cost: CostIn | None = None
    notes: Text | None = Field(None, max_length=5000, description=_INTERNAL_NOTES)
    client_note: Text | None = Field(None, max_length=5000, description=_CLIENT_NOTE)
    requires_booking: bool | None = None
    start_occurrence: Occurrence | None = Field(None, description=_OCCURRENCE)
    end_occurrence: Occurrence | None = Field(None, description=_OCCURRENCE)
    travellers: list[Annotated[str, Field(max_length=100)]] | None = Field(
        None, max_length=50, description=_TRAVELLERS + " An empty list: everyone again.")
    ask_client: AskClientIn | None = Field(None, description=_ASK_CLIENT)


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: Literal[STAGES]  # type: ignore[valid-type]
    reason: Text | None = Field(None, max_length=1000)


class FinalDocumentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"note": "The Kyoto dinner moved to 19:30; here is your updated itinerary."}]})
    note: Text | None = Field(None, max_length=2000, description="A covering note to the clients, in your words.")


class IssuedFinalDocumentsOut(BaseModel):
    version: int = Field(description="The itinerary's version the documents show.")
    at: datetime
    reason: Literal["booked", "reissued"]
    actor: str
    event_id: str
    documents: list[str] = Field(description="The files sent (PDF and calendar, in English and Chinese).")
    left_out: list[str] = Field(description="Files too large to attach: the clients download them from the trip "
                                            "page.")


class FinalDocumentsOut(BaseModel):
    due: bool = Field(description="Waiting to be issued (within seconds, or after the trip stops changing).")
    requested_at: datetime | None = None
    issued: list[IssuedFinalDocumentsOut] = Field(description="Every time they were sent, oldest first.")

    @classmethod
    def of(cls, state: dict) -> FinalDocumentsOut:
        return cls(due=state.get("due", False), requested_at=state.get("requested_at"),
                   issued=[IssuedFinalDocumentsOut(**record) for record in state.get("issued", [])])


class LocationOut(BaseModel):
    address: str | None
    lat: float | None
    lon: float | None


class CostOut(BaseModel):
    amount: Decimal
    currency: str
    category: str


class BookingOut(BaseModel):
    booking_id: str
    status: str = Field(description="requested, confirmed, declined, expired, amendment_requested, "
                                    "cancellation_requested or cancelled.")
    vendor_name: str | None = None
    confirmation_code: str | None = None
    attention: str | None = Field(None, description="amendment or cancellation: the trip changed since the "
                                                    "supplier was told (send it from the booking service).")
    requirements_pending: int = Field(0, description="Special requirements the supplier has not acknowledged.")


class ItemOut(BaseModel):
    id: str
    kind: str
    title: str
    start: str | None = Field(description="Local time (or date, for an untimed item) in timezone.")
    end: str | None = Field(description="Local time (or date) in end_timezone, else timezone.")
    timezone: str
    end_timezone: str | None
    start_utc: datetime | None
    end_utc: datetime | None
    day: date | None = Field(description="The local day the item starts on.")
    end_day: date | None = Field(description="The local day it ends on: a flight's arrival day where it lands.")
    location: LocationOut | None
    end_location: LocationOut | None
    mode: str | None
    vendor: str | None
    cost: CostOut | None
    notes: str | None = Field(description=_INTERNAL_NOTES)
    client_note: str | None = Field(description=_CLIENT_NOTE)
    requires_booking: bool
    start_occurrence: Occurrence | None
    end_occurrence: Occurrence | None
    sequence: int = Field(description="How many times what a client sees of the item changed (its calendar "
                                      "event's SEQUENCE).")
    travellers: list[str] | None = Field(description=_TRAVELLERS)
    booking: BookingOut | None = Field(None, description="From the booking service's events.")

    @classmethod
    def of(cls, item: Item, booking: dict | None = None) -> ItemOut:
        def where(location):
            return LocationOut(address=location.address, lat=location.lat, lon=location.lon) if location else None

        return cls(
            id=item.id, kind=item.kind, title=item.title,
            start=item.start.isoformat(timespec="minutes") if item.timed else _iso(item.start),
            end=item.end.isoformat(timespec="minutes") if item.timed and item.end else _iso(item.end),
            timezone=item.timezone, end_timezone=item.end_timezone, start_utc=item.start_utc, end_utc=item.end_utc,
            day=item.start_day, end_day=item.end_day, location=where(item.location),
            end_location=where(item.end_location), mode=item.mode, vendor=item.vendor,
            cost=CostOut(amount=item.cost.amount, currency=item.cost.currency, category=item.cost.category)
            if item.cost else None,
            notes=item.notes, client_note=item.client_note, requires_booking=item.requires_booking,
            start_occurrence=item.start_occurrence, end_occurrence=item.end_occurrence, sequence=item.sequence,
            travellers=item.travellers,
            booking=BookingOut(booking_id=booking["_id"], status=booking["status"],
                               vendor_name=booking.get("vendor_name"),
                               confirmation_code=booking.get("confirmation_code"),
                               attention=booking.get("attention"),
                               requirements_pending=booking.get("requirements_pending") or 0) if booking else None,
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


class FindingOut(BaseModel):
    kind: str = Field(description="overlap, insufficient_transfer_time, pace_exceeded, no_leisure_time, "
                                  "outside_trip_dates, checkout_after_departure, accommodation_overlap, "
                                  "check_in_window, check_out_window, late_arrival_at_stay, free_time_taken, "
                                  "transfer_time_doubtful, "
                                  "passport_expires_during_trip, passport_validity_short.")
    severity: Literal["error", "warning"]
    items: list[str]
    day: date | None
    message: str


class FeasibilityOut(BaseModel):
    pace: str = Field(description="The pace checked against: the slowest linked traveller's, else standard.")
    findings: list[FindingOut]


class CurrencyTotalOut(BaseModel):
    currency: str
    cost: Decimal
    price: Decimal = Field(description="Cost plus markup: what the client pays.")
    by_category: dict[str, Decimal]


class ClientBudgetOut(BaseModel):
    minimum: Decimal | None
    maximum: Decimal | None
    currency: str


class ExchangeRateOut(BaseModel):
    from_currency: str
    to_currency: str
    rate: Decimal = Field(description="1 from_currency = rate to_currency.")
    as_of: date
    source: str
    entered_by: str
    entered_at: datetime


class ConversionOut(BaseModel):
    from_currency: str
    to_currency: str
    amount: Decimal = Field(description="The price in from_currency.")
    converted: Decimal = Field(description="The same in to_currency, the client budget's currency.")
    rate: ExchangeRateOut = Field(description="The agency's rate used (inverted when entered the other way).")
    inverted: bool


class BudgetOut(BaseModel):
    markup_percent: Decimal
    totals: list[CurrencyTotalOut]
    client_budget: ClientBudgetOut | None = Field(description="From the POC's latest consultation.")
    status: Literal["within", "under", "over", "no_budget", "not_comparable"]
    message: str
    unpriced_items: list[str]
    conversions: list[ConversionOut] = Field(description="Each other currency in the budget's, at the agency's "
                                                         "rate: the figures a planner can check.")
    missing_rates: list[str] = Field(description="FROM/TO pairs without a rate: the trip can't be compared until "
                                                 "they are entered (PUT /v1/settings/exchange-rates/FROM/TO).")
    price_in_budget_currency: Decimal | None = Field(description="The whole price in the budget's currency.")


class ReadinessOut(BaseModel):
    confirmed: int
    required: int
    complete: bool
    label: str = Field(description='e.g. "3 of 5 confirmed".')


class StageChangeOut(BaseModel):
    from_stage: str
    to_stage: str
    at: datetime
    actor: str
    reason: str | None


class DayEntryOut(BaseModel):
    item_id: str
    title: str
    kind: str
    role: Literal["starts", "continues", "ends"]


class DayOut(BaseModel):
    date: date
    entries: list[DayEntryOut]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=100)
    is_poc: bool | None = Field(None, description="Omit to let the first linked customer become the POC.")


class PocIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_poc: bool


class RequirementsOut(BaseModel):
    pace: str | None = None
    dietary: list[str] = []
    accessibility: list[str] = []
    special_requirements: str | None = None


class LinkedCustomerOut(BaseModel):
    customer_id: str
    is_poc: bool
    linked_at: datetime
    first_name: str | None = Field(description="From the customers service; null until its event arrives.")
    last_name: str | None
    passport_expires_before_trip_ends: bool = Field(
        False, description="True when the customer's passport expires before the trip's last day.")
    requirements: RequirementsOut | None = Field(
        None, description="From the customer's latest consultation: what the trip must accommodate.")


class NoticeOut(BaseModel):
    kind: str
    message: str
    at: datetime


class AgreementAnswerOut(BaseModel):
    customer_id: str
    answer: Literal["agreed", "call_me"]
    at: datetime


class AgreementOut(BaseModel):
    id: str
    changes: list[str]
    reason: str | None
    asked_at: datetime
    status: Literal["asked", "agreed", "call_requested"]
    answers: list[AgreementAnswerOut]

    @classmethod
    def of(cls, agreement) -> AgreementOut:
        return cls(id=agreement.id, changes=agreement.changes, reason=agreement.reason, asked_at=agreement.asked_at,
                   status=agreement.status,
                   answers=[AgreementAnswerOut(customer_id=customer_id, **answer)
                            for customer_id, answer in agreement.answers.items()])


class UndeliveredOut(BaseModel):
    notification_id: str
    customer_id: str
    kind: str
    channel: Literal["email", "sms"]
    subject: str = Field(description="What the client did not receive.")
    reason: Literal["no_address", "bounced", "failed"]
    error: str | None
    at: datetime
    message: str = Field(description="For the planner: who missed what, by which channel, and why.")

    @classmethod
    def of(cls, problem: dict, known: dict[str, dict]) -> UndeliveredOut:
        customer = known.get(problem["customer_id"], {})
        name = " ".join(filter(None, [customer.get("first_name"), customer.get("last_name")]))
        return cls(notification_id=problem["_id"], message=delivery_notice(problem, name),
                   **{name: problem.get(name) for name in cls.model_fields if name not in ("notification_id",
                                                                                           "message")})


class ItineraryOut(BaseModel):
    id: str
    title: str
    start_date: date | None
    end_date: date | None
    stage: str
    customers: list[LinkedCustomerOut]
    notices: list[NoticeOut] = Field(description="Changes the platform made for the planner to review.")
    markup_percent: Decimal
    planner: str | None
    item_count: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, itinerary: Itinerary, known: dict[str, dict], preferences: dict[str, dict] | None = None
           ) -> ItineraryOut:
        preferences = preferences or {}
        return cls(
            id=itinerary.id, title=itinerary.title, start_date=itinerary.start_date, end_date=itinerary.end_date,
            stage=itinerary.stage, version=itinerary.version, created_at=itinerary.created_at,
            markup_percent=itinerary.markup_percent, planner=itinerary.planner, item_count=len(itinerary.items),
            updated_at=itinerary.updated_at,
            notices=[NoticeOut(kind=n.kind, message=n.message, at=n.at) for n in itinerary.notices],
            customers=[
                LinkedCustomerOut(customer_id=c.customer_id, is_poc=c.is_poc, linked_at=c.linked_at,
                                  first_name=known.get(c.customer_id, {}).get("first_name"),
                                  last_name=known.get(c.customer_id, {}).get("last_name"),
                                  passport_expires_before_trip_ends=itinerary.passport_expires_too_soon(
                                      _date(known.get(c.customer_id, {}).get("passport_expiry"))),
                                  requirements=_requirements(preferences.get(c.customer_id)))
                for c in itinerary.customers
            ],
        )


class ItineraryDetailOut(ItineraryOut):
    items: list[ItemOut]
    days: list[DayOut] = Field(description="Day by day in local days.")
    feasibility: FeasibilityOut
    budget: BudgetOut
    readiness: ReadinessOut
    stage_history: list[StageChangeOut]
    next_stages: list[str] = Field(description="Stages a planner may move the trip to from here.")
    agreements: list[AgreementOut] = Field(
        description="Changes its clients were asked to agree to, and each one's answer.")
    undelivered: list[UndeliveredOut] = Field(
        description="Messages notify could not get to the trip's clients (no address, bounced, failed), oldest "
                    "first; each goes once it reaches them.")

    @classmethod
    def of_view(cls, view: ItineraryView) -> ItineraryDetailOut:
        itinerary = view.itinerary
        base = ItineraryOut.of(itinerary, view.known, view.preferences).model_dump()
        return cls(
            **base,
            items=[ItemOut.of(item, view.bookings_by_item.get(item.id)) for item in itinerary.items],
            days=[DayOut(date=day, entries=[DayEntryOut(item_id=item.id, title=item.title, kind=item.kind,
                                                        role=role) for item, role in entries])
                  for day, entries in itinerary.days()],
            feasibility=feasibility_of(view), budget=budget_of(view), readiness=_readiness(view),
            stage_history=[StageChangeOut(**vars(change)) for change in itinerary.stage_history],
            next_stages=list(allowed_moves(itinerary.stage)),
            undelivered=[UndeliveredOut.of(problem, view.known) for problem in view.delivery_problems],
            agreements=[AgreementOut.of(agreement) for agreement in itinerary.agreements],
        )


class AffectedItemOut(BaseModel):
    item_id: str
    title: str
    kind: str
    when: str = Field(description="When it is planned now, in local time with its zone.")
    action: Literal["shift", "rebook", "review"] = Field(
        description="shift: proposed to move by `minutes`; rebook: the agency cannot move it (a flight), it must be "
                    "rebooked; review: planned around a cancelled item, for the planner to decide.")
    minutes: int | None
    proposed_when: str | None = Field(description="A shift: when it would be, in local time with its zone.")
    reasons: list[str] = Field(description="What would no longer work, with the new times (internal).")


class DisruptionOut(BaseModel):
    incident_id: str = Field(description="The incident in feedback that reported it.")
    item_id: str
    kind: Literal["delay", "cancellation"]
    delay_minutes: int | None
    summary: str = Field(description="The staff's words (internal).")
    reported_at: datetime
    status: Literal["open", "shifted"]
    disrupted_item_when: str | None = Field(description="A delay: the item with its new times; otherwise as planned.")
    affected: list[AffectedItemOut] = Field(description="Later items that no longer work; empty once shifted.")
    remaining: list[FindingOut] = Field(description="What would still be wrong after the proposed shift.")
    moves: dict[str, int] = Field(description="Once shifted: item id → minutes moved.")
    shifted_by: str | None
    shifted_at: datetime | None

    @classmethod
    def of(cls, disruption: Disruption, assessment: Assessment) -> DisruptionOut:
        open_ = disruption.status == "open"
        return cls(
            incident_id=disruption.incident_id, item_id=disruption.item_id, kind=disruption.kind,
            delay_minutes=disruption.delay_minutes, summary=disruption.summary, reported_at=disruption.reported_at,
            status=disruption.status,
            disrupted_item_when=assessment.disrupted.describe_when() if assessment.disrupted and open_ else None,
            affected=[AffectedItemOut(item_id=a.item_id, title=a.title, kind=a.kind, when=a.when, action=a.action,
                                      minutes=a.minutes, reasons=list(a.reasons),
                                      proposed_when=a.proposed.describe_when() if a.proposed else None)
                      for a in assessment.affected] if open_ else [],
            remaining=[FindingOut(kind=f.kind, severity=f.severity, items=list(f.items), day=f.day, message=f.message)
                       for f in assessment.remaining] if open_ else [],
            moves=disruption.moves, shifted_by=disruption.shifted_by, shifted_at=disruption.shifted_at)


class DisruptionList(BaseModel):
    items: list[DisruptionOut]


class ItemMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: str = Field(max_length=100)
    minutes: int = Field(ge=-MAX_SHIFT_MINUTES, le=MAX_SHIFT_MINUTES,
                         description="Later (positive) or earlier (negative), on the real timeline.")


class ShiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    moves: list[ItemMoveIn] | None = Field(
        None, max_length=200, description="The planner's own shift; omitted: the proposed one (the delayed item by "
                                          "its delay, and every later item that no longer works by the same).")


def feasibility_of(view: ItineraryView) -> FeasibilityOut:
    return FeasibilityOut(pace=view.pace or "standard", findings=[
        FindingOut(kind=f.kind, severity=f.severity, items=list(f.items), day=f.day, message=f.message)
        for f in view.findings()])


def budget_of(view: ItineraryView) -> BudgetOut:
    summary = view.budget()
    budget = summary.client_budget
    return BudgetOut(
        markup_percent=summary.markup_percent, status=summary.status, message=summary.message,
        unpriced_items=summary.unpriced_items,
        totals=[CurrencyTotalOut(currency=t.currency, cost=t.cost, price=t.price, by_category=t.by_category)
                for t in summary.totals],
        client_budget=ClientBudgetOut(minimum=budget.minimum, maximum=budget.maximum, currency=budget.currency)
        if budget else None,
        conversions=[ConversionOut(from_currency=c.from_currency, to_currency=c.to_currency, amount=c.amount,
                                   converted=c.converted, rate=ExchangeRateOut(**asdict(c.rate)), inverted=c.inverted)
                     for c in summary.conversions],
        missing_rates=summary.missing_rates, price_in_budget_currency=summary.price_in_budget_currency)


def _readiness(view: ItineraryView) -> ReadinessOut:
    readiness = view.readiness
    return ReadinessOut(confirmed=readiness.confirmed, required=readiness.required, complete=readiness.complete,
                        label=f"{readiness.confirmed} of {readiness.required} confirmed")


class ChangeOut(BaseModel):
    field: str
    before: object
    after: object
    description: str


class AuditEntryOut(BaseModel):
    version: int
    at: datetime
    actor: str
    action: str
    changes: list[ChangeOut]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_after_version: int | None = Field(None, description="Pass as after_version for the next page.")


class OptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Line = Field(min_length=1, max_length=200, examples=["Classic ryokan"])
    note: Text | None = Field(None, max_length=2000)
    item_ids: list[Annotated[str, Field(max_length=100)]] | None = Field(None, max_length=2000,
                                       description="The items this option offers; omit for every item.")


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"message": "Two ways to see Kyoto", "options": [{"title": "Ryokan", "item_ids": ["<item id>", "<item id>"]},
                                                          {"title": "City hotel", "note": "Closer to the station"}]}]})
    options: list[OptionIn] = Field(min_length=1, max_length=5)
    message: Text | None = Field(None, max_length=2000, description="A covering note shown to the client.")
    valid_days: int = Field(14, ge=1, le=90, description="How long the e-mailed links work.")
    override_reason: Text | None = Field(None, max_length=1000, description=(
        "Required when the trip has error findings: why it is proposed anyway. Kept in the audit trail."))


class OptionOut(BaseModel):
    id: str
    title: str
    note: str | None
    item_ids: list[str]
    prices: dict[str, str] = Field(description="Currency -> price with markup, as sent.")


class DecisionOut(BaseModel):
    outcome: Literal["approved", "changes_requested"]
    customer_id: str
    at: datetime
    option_id: str | None
    comment: str | None


class ProposalOut(BaseModel):
    id: str
    sent_at: datetime
    sent_by: str
    itinerary_version: int
    recipients: list[str]
    message: str | None
    options: list[OptionOut]
    decision: DecisionOut | None
    current: bool

    @classmethod
    def of(cls, proposal: ProposalRound, current: bool) -> ProposalOut:
        return cls(id=proposal.id, sent_at=proposal.sent_at, sent_by=proposal.sent_by,
                   itinerary_version=proposal.itinerary_version, recipients=proposal.recipients,
                   message=proposal.message, current=current,
                   options=[OptionOut(id=o.id, title=o.title, note=o.note, item_ids=o.item_ids, prices=o.prices)
                            for o in proposal.options],
                   decision=DecisionOut(**vars(proposal.decision)) if proposal.decision else None)


class ProposalList(BaseModel):
    items: list[ProposalOut]


class ShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_days: int = Field(30, ge=1, le=365)


class ShareLinkOut(BaseModel):
    url: str = Field(description="The client-facing itinerary page: day by day, printable.")
    calendar_url: str = Field(description="The same trip as an iCalendar feed a calendar app can subscribe to.")
    expires_at: datetime


class ItemList(BaseModel):
    items: list[ItemOut]


def _requirements(preferences: dict | None) -> RequirementsOut | None:
    if not preferences:
        return None
    return RequirementsOut(pace=preferences.get("pace"), dietary=preferences.get("dietary") or [],
                           accessibility=preferences.get("accessibility") or [],
                           special_requirements=preferences.get("special_requirements"))


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class ItineraryPage(BaseModel):
    items: list[ItineraryOut]
    next_cursor: str | None = None


class LinkedCustomerList(BaseModel):
    items: list[LinkedCustomerOut]


class ModeSpeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kmh: float | None = Field(None, gt=0, le=1000, description="Average speed on the way, stops included.")
    overhead_min: float | None = Field(None, ge=0, le=600, description="Getting going: to the platform, the car.")
    detour: float | None = Field(None, ge=1, le=3, description="The way's length over the straight line.")


class SpeedsIn(BaseModel):
    """Only the modes sent change; car and coach beyond 25 km use *_intercity."""

    model_config = ConfigDict(extra="forbid")
    walk: ModeSpeedIn | None = None
    car: ModeSpeedIn | None = None
    coach: ModeSpeedIn | None = None
    train: ModeSpeedIn | None = None
    high_speed_rail: ModeSpeedIn | None = None
    ferry: ModeSpeedIn | None = None
    car_intercity: ModeSpeedIn | None = None
    coach_intercity: ModeSpeedIn | None = None


class TravelSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speeds: SpeedsIn | None = None
    airport_before_departure_min: int | None = Field(None, ge=0, le=600)
    airport_after_arrival_min: int | None = Field(None, ge=0, le=600)
    hotel_check_in_hour: int | None = Field(None, ge=0, le=23)
    hotel_check_out_hour: int | None = Field(None, ge=0, le=23)


class ModeSpeedOut(BaseModel):
    kmh: float
    overhead_min: float
    detour: float


class TravelSettingsOut(BaseModel):
    speeds: dict[str, ModeSpeedOut] = Field(description="Per mode; car and coach beyond 25 km use *_intercity.")
    airport_before_departure_min: int
    airport_after_arrival_min: int
    hotel_check_in_hour: int
    hotel_check_out_hour: int


class ExchangeRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: Decimal = Field(gt=0, le=Decimal("1000000"), max_digits=20, decimal_places=10,
                          description="1 FROM = rate TO.")
    as_of: date = Field(description="The day the rate is for.")
    source: Line = Field(min_length=1, max_length=200, description="Where it comes from: a bank, a contract.")


class AgencySettingsOut(BaseModel):
    travel: TravelSettingsOut
    exchange_rates: list[ExchangeRateOut]
    version: int

    @classmethod
    def of(cls, settings) -> AgencySettingsOut:
        return cls(travel=TravelSettingsOut(**asdict(settings.travel)),
                   exchange_rates=[ExchangeRateOut(**asdict(rate)) for rate in settings.exchange_rates],
                   version=settings.version)
