"""Events about the agency itself, produced by notify (which keeps each agency's profile)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from trip_shared.contracts.envelope import Event, Payload


class AgencyProfileData(Payload):
    """Who the agency is to its clients and suppliers: on every message and deliverable."""

    name: str
    sender_email: str | None = Field(None, description="From: of the agency's e-mails.")
    reply_to: str | None = None
    signature: str | None = Field(None, description="A closing line of the agency's own.")
    support_phone: str | None = None
    support_email: str | None = None
    messaging: str | None = Field(None, description="Messaging handles, as shown: 'WeChat: demotravel'.")
    emergency_phone: str | None = Field(None, description="The 24/7 line.")
    default_language: Literal["en", "zh-Hans"] = "en"
    timezone: str | None = Field(None, description="IANA zone of the agency.")
    quiet_hours_start: str | None = Field(None, description="HH:MM in the recipient's zone.")
    quiet_hours_end: str | None = None


class AgencyProfileChanged(Event):
    """Keyed by the agency (the tenant): the whole profile after the change."""

    TOPIC = "agency.profile_changed"
    event_type: Literal["agency.profile_changed"] = "agency.profile_changed"
    aggregate_type: Literal["agency"] = "agency"
    data: AgencyProfileData
