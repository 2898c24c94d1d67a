"""Events produced by the itinerary service.

Membership events carry the itinerary's whole customer list after the change (``customers``), so a consumer's
read model is right after applying the newest event, whatever arrived before it.
"""
from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from trip_shared.contracts.envelope import Event, Payload


class ItineraryMember(Payload):
    customer_id: str
    is_poc: bool


class Place(Payload):
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


class ItemSnapshot(Payload):
    """An item as a vendor or another service may see it: never the planner's notes, nor the client's."""

    item_id: str
    kind: str = Field(description="flight, transfer, accommodation, activity, dining, event or free_time.")
    title: str
    timezone: str = Field(description="IANA zone of the start (and of the end unless end_timezone is set).")
    start: str | None = Field(None, description="Local wall-clock time (2026-05-01T09:30) or a whole day "
                                                "(2026-05-01) in timezone; absent while unscheduled.")
    end: str | None = None
    end_timezone: str | None = None
    starts_at: datetime | None = Field(None, description="The start as an instant (UTC), for ordering and clocks.")
    ends_at: datetime | None = None
    place: Place | None = None
    end_place: Place | None = None
    mode: str | None = None
    vendor: str | None = None
    requires_booking: bool = False
    travellers: list[str] | None = Field(None, description="Customer ids of those who do it, when the party splits "
                                                           "up; absent: everyone.")


class Requirement(Payload):
    kind: Literal["dietary", "accessibility", "other"]
    text: str = Field(description="As the traveller or planner wrote it, e.g. 'vegetarian', 'wheelchair user'.")


class TravellerSnapshot(Payload):
    customer_id: str
    name: str | None = Field(None, description="Absent until the customers service has announced the customer.")
    is_poc: bool = False
    requirements: list[Requirement] = Field(default_factory=list,
                                            description="From the traveller's latest consultation.")


class Party(Payload):
    adults: int = Field(ge=0)
    children: int = Field(ge=0)


class ItinerarySummary(Payload):
    itinerary_id: str
    title: str
    start_date: date | None = None
    end_date: date | None = None
    stage: str = "inquiry"
    planner: str | None = Field(None, description="Who at the agency looks after the trip.")
    item_ids: list[str] | None = Field(None, description="The trip's items after the change (absent from events "
                                                         "published before this field existed).")
    items: list[ItemSnapshot] | None = Field(None, description="Every item after the change, in timeline order "
                                                               "(absent from earlier events).")
    travellers: list[TravellerSnapshot] | None = Field(None, description="The linked customers after the change, "
                                                                         "points of contact first.")
    party: Party | None = Field(None, description="Who travels: the consultation's party size where given, "
                                                  "else the linked travellers as adults.")


class FieldChange(Payload):
    field: str = Field(description="What changed: title, start_date, stage, items.<item id>, "
                                   "items.<item id>.<field>, customers.<customer id>.")
    before: Any = None
    after: Any = None
    description: str | None = Field(None, description="The change in words, for a client update.")


class AgreementAsked(Payload):
    """The planner needs the client's agreement to this change: notify asks the points of contact at once."""

    agreement_id: str
    reason: str | None = Field(None, description="Why, in the planner's words to the client.")


class DisruptionApplied(Payload):
    """The change moves the trip around a delay or a cancellation reported as an incident (feedback's)."""

    incident_id: str
    item_id: str = Field(description="The delayed or cancelled item.")
    kind: Literal["delay", "cancellation"]
    delay_minutes: int | None = Field(None, description="A delay: how much later the item now starts.")


class TripState(Payload):
    itinerary: ItinerarySummary
    customers: list[ItineraryMember] = Field(description="Every linked customer, points of contact marked.")


class ItineraryState(Event):
    """The trip as it is now, on a compacted topic keyed by the trip's id, after every change: what a service that
    starts later, or rebuilds its database, builds its copy of the trips from (the change topics keep 7 days)."""

    TOPIC = "itinerary.state"
    event_type: Literal["itinerary.state"] = "itinerary.state"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: TripState


class ItineraryCreated(Event):
    TOPIC = "itinerary.created"
    event_type: Literal["itinerary.created"] = "itinerary.created"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: ItinerarySummary


class ItineraryChanged(Event):
    TOPIC = "itinerary.changed"
    event_type: Literal["itinerary.changed"] = "itinerary.changed"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: ItinerarySummary
    action: str | None = Field(None, description="details_changed, item_added, item_changed, item_removed, "
                                                 "stage_moved, disruption_shift or travellers_changed (a linked "
                                                 "traveller's name or requirements).")
    changes: list[FieldChange] = Field(default_factory=list, description="What changed, before and after.")
    agreement: AgreementAsked | None = Field(None, description="Set when the client must agree to this change.")
    disruption: DisruptionApplied | None = Field(None, description="Set when the change works around a delay or "
                                                                   "cancellation (action disruption_shift).")


class MembershipChange(Payload):
    itinerary: ItinerarySummary
    customer_id: str = Field(description="The customer this event is about.")
    is_poc: bool = Field(description="Whether that customer is a point of contact after the change.")
    customers: list[ItineraryMember] = Field(description="Every linked customer after the change.")
    reason: str | None = Field(None, description="Why, when the planner did not do it: e.g. customer_deleted.")


class CustomerLinked(Event):
    TOPIC = "customer.linked"
    event_type: Literal["customer.linked"] = "customer.linked"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: MembershipChange


class CustomerUnlinked(Event):
    TOPIC = "customer.unlinked"
    event_type: Literal["customer.unlinked"] = "customer.unlinked"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: MembershipChange


class PocChanged(Event):
    TOPIC = "customer.poc_changed"
    event_type: Literal["customer.poc_changed"] = "customer.poc_changed"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: MembershipChange


class ProposalOptionSummary(Payload):
    option_id: str
    title: str
    note: str | None = None
    prices: dict[str, str] = Field(default_factory=dict, description="Currency -> price with markup, as sent.")


class ProposalRecipient(Payload):
    customer_id: str
    url: str = Field(description="Signed link to the client-facing proposal page, for this POC only.")
    expires_at: datetime


class ProposalSentData(Payload):
    itinerary: ItinerarySummary
    proposal_id: str
    options: list[ProposalOptionSummary]
    recipients: list[ProposalRecipient]
    message: str | None = Field(None, description="The planner's covering note.")


class ProposalSent(Event):
    """The planner sent the POCs options to approve; notify e-mails each their own link."""

    TOPIC = "itinerary.proposal_sent"
    event_type: Literal["itinerary.proposal_sent"] = "itinerary.proposal_sent"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: ProposalSentData


class ProposalAnsweredData(Payload):
    itinerary: ItinerarySummary
    proposal_id: str
    customer_id: str = Field(description="The POC who answered.")
    outcome: Literal["approved", "changes_requested"]
    option_id: str | None = None
    option_title: str | None = None
    comment: str | None = None


class ProposalAnswered(Event):
    """A POC approved an option (the trip is approved) or asked for changes (back to planning)."""

    TOPIC = "itinerary.proposal_answered"
    event_type: Literal["itinerary.proposal_answered"] = "itinerary.proposal_answered"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: ProposalAnsweredData


def _decoded(value: object) -> object:
    return base64.b64decode(value, validate=True) if isinstance(value, str) else value


# Bytes in Python, base64 text in JSON (in the event on the wire as in its schema).
FileContent = Annotated[
    bytes, BeforeValidator(_decoded),
    PlainSerializer(lambda value: base64.b64encode(value).decode("ascii"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]


class IssuedDocument(Payload):
    language: str = Field(description="en or zh-Hans: the language the document is written in.")
    kind: Literal["pdf", "calendar"]
    filename: str
    media_type: str = Field(description="application/pdf, or text/calendar for the RFC 5545 calendar.")
    content: FileContent = Field(description="The file itself, base64-encoded in JSON.")


class FinalDocumentsData(Payload):
    itinerary: ItinerarySummary
    reason: Literal["booked", "reissued"] = Field(description="booked: every booking the trip needs is confirmed; "
                                                              "reissued: the planner sent them again.")
    note: str | None = Field(None, description="The planner's covering note to the client, if any.")
    documents: list[IssuedDocument] = Field(description="The printable itinerary and the calendar, in every "
                                                        "language a client may read.")
    left_out: list[str] = Field(default_factory=list,
                                description="Documents too large to carry in an event (a very long trip's PDF): "
                                            "the client downloads them from the trip page.")
    issued_by: str = Field(description="The planner who sent them, or 'system'.")


class FinalDocumentsIssued(Event):
    """The trip's final itinerary is ready: notify sends the points of contact the PDF and the calendar."""

    TOPIC = "itinerary.final_documents_issued"
    event_type: Literal["itinerary.final_documents_issued"] = "itinerary.final_documents_issued"
    aggregate_type: Literal["itinerary"] = "itinerary"
    data: FinalDocumentsData
