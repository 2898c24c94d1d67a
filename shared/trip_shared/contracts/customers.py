"""Events produced by the customers service."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload


class CustomerSnapshot(Payload):
    """The customer's master record as other services may copy it (contact details and names)."""

    customer_id: str
    first_name: str
    last_name: str | None = None
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list, description="E.164, e.g. +447700900123")
    preferred_language: str = "en"
    home_timezone: str | None = Field(None, description="IANA zone where the customer lives (e.g. Europe/London): "
                                                        "reminders before a trip go at their local time.")
    status: Literal["active", "inactive"] = "active"
    passport_expiry: date | None = Field(None, description="So trips can warn when it ends before they do.")


class CustomerCreated(Event):
    TOPIC = "customer.created"
    event_type: Literal["customer.created"] = "customer.created"
    aggregate_type: Literal["customer"] = "customer"
    data: CustomerSnapshot


class CustomerState(Event):
    """The customer as they are now, on a compacted topic keyed by the customer's id, after every change: what a
    service that starts later, or rebuilds its database, builds its copy of the customers from (the change topics
    keep 7 days). Deleting, erasing or merging a customer away leaves a tombstone (a record with no value) under
    their id, so compaction drops every earlier value: that is how an erasure reaches Kafka."""

    TOPIC = "customer.state"
    event_type: Literal["customer.state"] = "customer.state"
    aggregate_type: Literal["customer"] = "customer"
    data: CustomerSnapshot


class CustomerUpdated(Event):
    TOPIC = "customer.updated"
    event_type: Literal["customer.updated"] = "customer.updated"
    aggregate_type: Literal["customer"] = "customer"
    data: CustomerSnapshot
    changed_fields: list[str] = Field(default_factory=list)


class CustomerDeactivated(Event):
    """The customer became inactive (kept, but no longer offered for new trips). Carries the full snapshot."""

    TOPIC = "customer.deactivated"
    event_type: Literal["customer.deactivated"] = "customer.deactivated"
    aggregate_type: Literal["customer"] = "customer"
    data: CustomerSnapshot


class Budget(Payload):
    minimum: float | None = Field(None, ge=0)
    maximum: float | None = Field(None, ge=0)
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. EUR")


class TravelDates(Payload):
    start: date | None = None
    end: date | None = None
    flexible_days: int = Field(0, ge=0)


class Preferences(Payload):
    """What the planner learnt in a consultation; itinerary design reads pace, needs and requirements from it."""

    interests: list[str] = Field(default_factory=list)
    preferred_activities: list[str] = Field(default_factory=list)
    travel_style: str | None = None
    pace: Literal["relaxed", "standard", "packed"] | None = None
    budget: Budget | None = None
    travel_dates: TravelDates | None = None
    party_adults: int | None = Field(None, ge=0)
    party_children: int | None = Field(None, ge=0)
    accommodation: list[str] = Field(default_factory=list)
    transport: list[str] = Field(default_factory=list)
    dietary: list[str] = Field(default_factory=list)
    accessibility: list[str] = Field(default_factory=list)
    special_requirements: str | None = None


class PreferencesRecorded(Event):
    """A new consultation was recorded; earlier ones are kept. ``consultation_version`` counts them per customer."""

    TOPIC = "customer.preferences_recorded"
    event_type: Literal["customer.preferences_recorded"] = "customer.preferences_recorded"
    aggregate_type: Literal["customer"] = "customer"
    customer_id: str
    consultation_version: int = Field(ge=1)
    data: Preferences


class DeletedCustomer(Payload):
    customer_id: str


class CustomerDeleted(Event):
    """The customer's record was deleted: every service drops its copy, every itinerary unlinks them."""

    TOPIC = "customer.deleted"
    event_type: Literal["customer.deleted"] = "customer.deleted"
    aggregate_type: Literal["customer"] = "customer"
    data: DeletedCustomer


class MergedCustomers(Payload):
    survivor: CustomerSnapshot = Field(description="The record that remains, with what it absorbed.")
    merged_customer_id: str = Field(description="The duplicate; its links now belong to the survivor.")


class CustomersMerged(Event):
    """Two records were one person. Keyed by the survivor; every copy and link of the duplicate moves to it."""

    TOPIC = "customer.merged"
    event_type: Literal["customer.merged"] = "customer.merged"
    aggregate_type: Literal["customer"] = "customer"
    data: MergedCustomers


class ErasedCustomer(Payload):
    customer_id: str


class CustomerErased(Event):
    """The customer asked to be forgotten: every service holding personal data about them scrubs it and confirms
    with ``customer.erasure_confirmed``. Ids stay (links and bookings remain), names and contact details go."""

    TOPIC = "customer.erased"
    event_type: Literal["customer.erased"] = "customer.erased"
    aggregate_type: Literal["customer"] = "customer"
    data: ErasedCustomer


class ProfileLink(Payload):
    customer_id: str
    url: str = Field(description="Signed, expiring link to the customer's profile form.")
    expires_at: datetime


class ProfileLinkIssued(Event):
    """A planner asked the customer to complete their profile; notify e-mails them the link."""

    TOPIC = "customer.profile_link_issued"
    event_type: Literal["customer.profile_link_issued"] = "customer.profile_link_issued"
    aggregate_type: Literal["customer"] = "customer"
    data: ProfileLink


class EmailConfirmation(Payload):
    customer_id: str
    email: str = Field(description="The address to confirm; the message goes to it, not to the current one.")
    url: str = Field(description="Signed, single-use link that confirms the address.")
    expires_at: datetime


class EmailConfirmationRequested(Event):
    """A customer gave a new e-mail address on their profile form; it is used once its owner confirms it."""

    TOPIC = "customer.email_confirmation_requested"
    event_type: Literal["customer.email_confirmation_requested"] = "customer.email_confirmation_requested"
    aggregate_type: Literal["customer"] = "customer"
    data: EmailConfirmation
