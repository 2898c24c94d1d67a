"""Events produced by the feedback service."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from trip_shared.contracts.envelope import Event, Payload


class FeedbackDetails(Payload):
    feedback_id: str
    itinerary_id: str
    customer_id: str | None = None
    rating: int = Field(ge=1, le=5)
    comment: str | None = None


class FeedbackSubmitted(Event):
    TOPIC = "feedback.submitted"
    event_type: Literal["feedback.submitted"] = "feedback.submitted"
    aggregate_type: Literal["feedback"] = "feedback"
    data: FeedbackDetails


class CostImpactDetails(Payload):
    amount: str = Field(description="Exact decimal, e.g. '180.00'.")
    currency: str = Field(description="ISO 4217.")
    borne_by: Literal["agency", "supplier", "client", "insurer"]


class IncidentState(Payload):
    """An incident as the platform knows it after the change. ``description`` is the staff's account: internal,
    never shown to a client or a supplier."""

    incident_id: str
    itinerary_id: str
    kind: str = Field(description="delay, cancellation, missed_connection, illness_or_injury, lost_item, "
                                  "accommodation_problem, complaint or other.")
    severity: Literal["critical", "high", "medium", "low"]
    status: Literal["open", "acknowledged", "resolved", "closed"]
    summary: str
    description: str | None = None
    occurred_local: str = Field(description="Wall-clock time where it happened, e.g. 2027-10-01T19:50.")
    timezone: str = Field(description="IANA zone of occurred_local.")
    occurred_at: AwareDatetime
    response_due_at: AwareDatetime = Field(description="When a person must have acknowledged it.")
    item_id: str | None = None
    booking_id: str | None = None
    supplier: str | None = None
    delay_minutes: int | None = Field(None, description="A delay: by how much the item now starts later.")
    owner: str | None = None
    travellers: list[str] = Field(default_factory=list, description="Customer ids of whom it happened to.")
    cost: CostImpactDetails | None = None
    resolution: str | None = None


class IncidentReported(Event):
    TOPIC = "feedback.incident_reported"
    event_type: Literal["feedback.incident_reported"] = "feedback.incident_reported"
    aggregate_type: Literal["incident"] = "incident"
    data: IncidentState


class IncidentUpdated(Event):
    """A step in the incident's life: ``change`` says which (acknowledged, action, communication, cost, resolved,
    reopened, closed), ``note`` what the timeline says of it."""

    TOPIC = "feedback.incident_updated"
    event_type: Literal["feedback.incident_updated"] = "feedback.incident_updated"
    aggregate_type: Literal["incident"] = "incident"
    change: str
    note: str
    data: IncidentState


class IncidentEscalated(Event):
    """Nobody acknowledged the incident by its response deadline: the planners must act now."""

    TOPIC = "feedback.incident_escalated"
    event_type: Literal["feedback.incident_escalated"] = "feedback.incident_escalated"
    aggregate_type: Literal["incident"] = "incident"
    reason: str
    data: IncidentState


class OfferDetails(Payload):
    remedy: Literal["apology", "credit", "refund"]
    amount: str | None = Field(None, description="Exact decimal for a credit or a refund, e.g. '120.00'.")
    currency: str | None = None
    message: str = Field(description="What the agency says to the client with the offer (client-facing).")


class ComplaintState(Payload):
    """A complaint as the platform knows it after the change. The agency's analysis stays in feedback; the client's
    own account is not carried either (notify needs only whom to tell and what to offer)."""

    complaint_id: str
    itinerary_id: str
    source: Literal["staff", "client", "survey"]
    status: Literal["received", "analysed", "proposed", "escalated", "accepted", "closed"]
    complainant: str = Field(description="Customer id of the traveller who complained.")
    language: Literal["en", "zh-Hans"] = Field(description="The client's language: their messages are in it.")
    received_at: AwareDatetime
    due_at: AwareDatetime | None = Field(None, description="When the agency owes its next step.")
    answer_by: AwareDatetime | None = Field(None, description="When the client's time to answer the offer ends.")
    owner: str | None = None
    item_id: str | None = None
    booking_id: str | None = None
    supplier: str | None = None
    incident_id: str | None = None
    cause: Literal["supplier", "agency", "external"] | None = None
    offer: OfferDetails | None = Field(None, description="The latest offer, once one was made.")
    escalation_reason: str | None = Field(None, description="The client's words when they turned an offer down.")


class ComplaintRecorded(Event):
    TOPIC = "feedback.complaint_recorded"
    event_type: Literal["feedback.complaint_recorded"] = "feedback.complaint_recorded"
    aggregate_type: Literal["complaint"] = "complaint"
    data: ComplaintState


class ComplaintUpdated(Event):
    """A step in the complaint's life: ``change`` says which (assigned, note, analysed, proposed, accepted,
    escalated, closed)."""

    TOPIC = "feedback.complaint_updated"
    event_type: Literal["feedback.complaint_updated"] = "feedback.complaint_updated"
    aggregate_type: Literal["complaint"] = "complaint"
    change: str
    data: ComplaintState


class SurveyDetails(Payload):
    survey_id: str
    itinerary_id: str
    kind: Literal["mid_trip", "post_trip"] = Field(description="The check-in on a set day of the trip, or the "
                                                               "survey after it.")
    respondents: list[str] = Field(description="Customer ids to ask: every traveller when it is sent; those who have "
                                               "not answered, for the reminder.")
    closes_at: AwareDatetime


class SurveyIssued(Event):
    TOPIC = "feedback.survey_issued"
    event_type: Literal["feedback.survey_issued"] = "feedback.survey_issued"
    aggregate_type: Literal["survey"] = "survey"
    data: SurveyDetails


class SurveyReminderDue(Event):
    """The survey's one reminder, to those who have not answered."""

    TOPIC = "feedback.survey_reminder_due"
    event_type: Literal["feedback.survey_reminder_due"] = "feedback.survey_reminder_due"
    aggregate_type: Literal["survey"] = "survey"
    data: SurveyDetails


class SurveyAnswerDetails(Payload):
    """A traveller's scores (their comment stays in feedback)."""

    survey_id: str
    itinerary_id: str
    kind: Literal["mid_trip", "post_trip"]
    customer_id: str
    overall: int = Field(ge=1, le=5)
    nps: int = Field(ge=0, le=10, description="How likely they are to recommend the agency, 0 to 10.")
    item_ratings: dict[str, int] = Field(default_factory=dict, description="Item id → 1 to 5.")
    supplier_ratings: dict[str, int] = Field(default_factory=dict, description="Supplier name → 1 to 5.")
    consent_to_contact: bool = False
    revision: int = Field(description="1 for the first answer; more when the traveller changed it.")


class SurveyAnswered(Event):
    TOPIC = "feedback.survey_answered"
    event_type: Literal["feedback.survey_answered"] = "feedback.survey_answered"
    aggregate_type: Literal["survey_answer"] = "survey_answer"
    data: SurveyAnswerDetails


class SupplierScorecard(Payload):
    """How a supplier does by the agency's own records, all time."""

    supplier: str = Field(description="The supplier's name, as its bookings carry it (vendor_name).")
    ratings: int = Field(description="Travellers' ratings of it in surveys.")
    average_rating: float | None = Field(None, description="Their average, 1 to 5.")
    bookings: int
    incidents: int = Field(description="Incidents reported naming it.")
    incidents_per_100_bookings: float | None = None
    complaints: int = Field(description="Complaints analysed as its fault.")


class SupplierScorecardChanged(Event):
    TOPIC = "feedback.supplier_scorecard_changed"
    event_type: Literal["feedback.supplier_scorecard_changed"] = "feedback.supplier_scorecard_changed"
    aggregate_type: Literal["supplier_scorecard"] = "supplier_scorecard"
    data: SupplierScorecard
