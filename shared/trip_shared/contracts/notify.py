"""Events about deliveries, produced by notify: what a client did not receive, so the planner can act."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload


class DeliveryProblem(Payload):
    """One message to one client, by one channel. ``aggregate_id`` is the notification, and its version grows
    with each announcement, so a reader keeps the newest."""

    notification_id: str
    itinerary_id: str
    customer_id: str
    kind: str = Field(description="What kind of message: trip_changes, booking_lost, reminder_24h…")
    channel: Literal["email", "sms"]
    subject: str = Field(description="What the client did not receive, as they would have read it.")
    reason: Literal["no_address", "bounced", "failed"] = Field(
        description="no_address: no accepted channel reaches them; bounced: the channel said it never arrived; "
                    "failed: refused, or not taken after every retry.")
    error: str | None = Field(None, description="The channel's words, when it gave any.")


class NotificationUndeliverable(Event):
    TOPIC = "notification.undeliverable"
    event_type: Literal["notification.undeliverable"] = "notification.undeliverable"
    aggregate_type: Literal["notification"] = "notification"
    data: DeliveryProblem


class NotificationRecovered(Event):
    """A message announced undeliverable reached the client after all (resent, or an address was added)."""

    TOPIC = "notification.recovered"
    event_type: Literal["notification.recovered"] = "notification.recovered"
    aggregate_type: Literal["notification"] = "notification"
    data: DeliveryProblem


class AgreementAnswer(Payload):
    agreement_id: str
    itinerary_id: str
    customer_id: str
    answer: Literal["agreed", "call_me"] = Field(description="agreed, or the client wants a call first.")
    answered_at: datetime


class ChangeAgreementAnswered(Event):
    """A point of contact answered a change that needed their agreement (the latest answer counts).
    ``aggregate_id`` is the agreement and the customer; its version grows with each answer."""

    TOPIC = "client.agreement_answered"
    event_type: Literal["client.agreement_answered"] = "client.agreement_answered"
    aggregate_type: Literal["agreement"] = "agreement"
    data: AgreementAnswer


class UrgentMessage(Payload):
    """An urgent message to a client that asks them to confirm reading it. ``aggregate_id`` is the notification;
    version 1 when sent, 2 when read."""

    notification_id: str
    itinerary_id: str
    customer_id: str
    kind: str = Field(description="trip_changes (urgent), booking_lost…")
    subject: str = Field(description="As the client reads it.")
    status: str = Field(description="The delivery's status when announced: pending, sent, no_address…")
    escalate_at: datetime | None = Field(None, description="Unread by then, the planners are told (none once "
                                                           "they were).")
    acknowledged_at: datetime | None = None


class UrgentMessageSent(Event):
    TOPIC = "notification.urgent_sent"
    event_type: Literal["notification.urgent_sent"] = "notification.urgent_sent"
    aggregate_type: Literal["notification"] = "notification"
    data: UrgentMessage


class UrgentMessageAcknowledged(Event):
    TOPIC = "notification.urgent_acknowledged"
    event_type: Literal["notification.urgent_acknowledged"] = "notification.urgent_acknowledged"
    aggregate_type: Literal["notification"] = "notification"
    data: UrgentMessage
