"""A trip's updates as its clients read them in the app, rather than in their inbox. Plain Python: no I/O.

The feed holds the news every traveller on the trip shares (its changes, confirmations, lost services, reminders,
the day summaries), once however many people it went to, in the reader's language, without anything personal:
no greeting by name, no one's own answer or unsubscribe link.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from notify.domain.channels import listed_facts
from notify.domain.model import Contact, Trip, render

TRIP_WIDE_KINDS = ("trip_changes", "bookings_confirmed", "booking_lost", "final_itinerary", "proposal_answered",
                   "reminder_7d", "reminder_72h", "reminder_24h", "day_summary")


@dataclass(frozen=True)
class FeedEntry:
    id: str  # the same for every copy of one piece of news
    kind: str
    subject: str
    lines: list[str]
    at: datetime
    at_label: str  # when, in the trip's zone, the zone named
    urgent: bool


def trip_zone(trip: Trip, fallback: str | None) -> str:
    """Where the trip is set: its first item's zone, else the agency's."""
    return next((item["timezone"] for item in trip.items or [] if item.get("timezone")), None) or fallback or "UTC"


def feed_entry(kind: str, source_id: str, details: dict, trip: Trip, language: str, at: datetime,
               zone: str) -> FeedEntry:
    subject, body = render(kind, language, Contact(customer_id="", first_name=""), trip, details)
    local = at.astimezone(ZoneInfo(zone))
    return FeedEntry(id=f"{kind}:{source_id}", kind=kind, subject=subject, lines=listed_facts(body), at=at,
                     at_label=f"{local:%Y-%m-%d %H:%M} ({zone})",
                     urgent=bool(details.get("urgent")) or kind == "booking_lost")
