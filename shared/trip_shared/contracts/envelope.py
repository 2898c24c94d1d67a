"""The envelope every integration event travels in."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


class Payload(BaseModel):
    # Unknown fields are ignored so that a producer can add optional fields without breaking older consumers.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(Payload):
    """Base of every contract. Subclasses pin ``event_type`` with a Literal and type ``data``.

    ``aggregate_version`` grows by one with every change of the aggregate, so a consumer that keeps the last
    version it applied can drop an event that arrives late (topics are ordered per key, not across topics).
    """

    TOPIC: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4, description="Identity of this event; consumers dedupe on it.")
    event_type: str
    event_version: int = Field(1, ge=1, description="Version of this contract's schema.")
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    tenant_id: str = Field(min_length=1, description="The travel agency the event belongs to.")
    aggregate_type: str
    aggregate_id: str = Field(min_length=1)
    aggregate_version: int = Field(ge=1)
    trip_id: str | None = Field(None, description="Itinerary the event concerns, when there is one.")
    producer: str = Field(description="Name of the producing service.")

    @property
    def partition_key(self) -> str:
        """Kafka key: everything about one trip lands on one partition, in order."""
        return self.trip_id or self.aggregate_id


@dataclass(frozen=True)
class Tombstone:
    """A record with no value under ``key`` on a compacted topic: compaction then drops every earlier value of the
    key. Emitted through the outbox like an event (in the same transaction as the change it follows)."""

    TOPIC: str
    tenant_id: str
    key: str
    event_id: UUID = field(default_factory=uuid4)
    event_type: str = "tombstone"

    @property
    def aggregate_id(self) -> str:
        return self.key

    @property
    def partition_key(self) -> str:
        return self.key
