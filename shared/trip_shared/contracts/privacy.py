"""Events every service may produce about personal data it holds."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload


class ErasureConfirmation(Payload):
    customer_id: str
    service: str = Field(description="The service that scrubbed its copy.")
    scrubbed: list[str] = Field(default_factory=list, description="What it scrubbed, in plain words.")


class ErasureConfirmed(Event):
    """A service has removed a customer's personal data after ``customer.erased``. Keyed by the customer."""

    TOPIC = "customer.erasure_confirmed"
    event_type: Literal["customer.erasure_confirmed"] = "customer.erasure_confirmed"
    aggregate_type: Literal["customer"] = "customer"
    data: ErasureConfirmation
