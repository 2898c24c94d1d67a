"""Events produced by the customers service."""
from __future__ import annotations

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
    status: Literal["active", "inactive"] = "active"


class CustomerCreated(Event):
    TOPIC = "customer.created"
    event_type: Literal["customer.created"] = "customer.created"
    aggregate_type: Literal["customer"] = "customer"
    data: CustomerSnapshot


class CustomerUpdated(Event):
    TOPIC = "customer.updated"
    event_type: Literal["customer.updated"] = "customer.updated"
    aggregate_type: Literal["customer"] = "customer"
    data: CustomerSnapshot
    changed_fields: list[str] = Field(default_factory=list)
