"""Is a trip ready to travel? What each required service's booking is waiting for. Plain Python: no I/O.

A coordinator reads this every morning: what is confirmed, what is still pending and for how long, what is late
(the supplier was chased, or the planner told), what fell through, what the trip changed under, which special
requirements no supplier has acknowledged yet, and which reconfirmations come next.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from booking.domain.follow_up import BookingSettings, reconfirm_from
from booking.domain.model import AWAITING, CLOSED_STATUSES, Booking


@dataclass
class TripReadiness:
    itinerary_id: str
    title: str
    stage: str | None
    departs_on: str | None
    required: int = 0
    confirmed: int = 0
    unrequested: list[dict] = field(default_factory=list)
    pending: list[dict] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)
    declined: list[dict] = field(default_factory=list)
    needs_amendment: list[dict] = field(default_factory=list)
    needs_cancellation: list[dict] = field(default_factory=list)
    requirements_unacknowledged: list[dict] = field(default_factory=list)
    next_reconfirmations: list[dict] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.confirmed == self.required and not (self.needs_amendment or self.needs_cancellation
                                                        or self.requirements_unacknowledged)


def current_booking(bookings: list[Booking]) -> Booking | None:
    """The booking an item stands on: a confirmed one, else an open one, else the latest that fell through."""
    ranked = sorted(bookings, key=lambda b: (b.status == "confirmed", b.status not in CLOSED_STATUSES, b.created_at))
    return ranked[-1] if ranked else None


def _line(booking: Booking, item: dict, now: datetime) -> dict:
    return {"booking_id": booking.id, "item_id": booking.item_id, "title": item.get("title"),
            "supplier": booking.vendor_name, "status": booking.status,
            "age_hours": round((now - booking.history[-1].at).total_seconds() / 3600, 1) if booking.history else None,
            "starts": item.get("start"), "timezone": item.get("timezone")}


def trip_readiness(trip: dict, bookings: list[Booking], now: datetime, settings: BookingSettings) -> TripReadiness:
    items = trip.get("items") or {}
    report = TripReadiness(trip["_id"], trip.get("title", ""), trip.get("stage"), trip.get("departs_on"))
    by_item: dict[str, list[Booking]] = {}
    for booking in bookings:
        by_item.setdefault(booking.item_id, []).append(booking)
    for item_id, item in sorted(items.items(), key=lambda pair: str(pair[1].get("starts_at") or "~")):
        booking = current_booking(by_item.get(item_id, []))
        if item.get("requires_booking"):
            report.required += 1
            if booking is None or booking.status in CLOSED_STATUSES:
                report.unrequested.append({"item_id": item_id, "title": item.get("title"),
                                           "starts": item.get("start"), "timezone": item.get("timezone")})
        if booking is None:
            continue
        line = _line(booking, item, now)
        if booking.status == "confirmed" and item.get("requires_booking"):
            report.confirmed += 1
        if booking.status in AWAITING:
            report.pending.append(line)
            if booking.chases or booking.escalated_at:
                report.late.append({**line, "reminders": booking.chases,
                                    "escalated": booking.escalated_at is not None})
        if booking.status == "declined":
            report.declined.append({**line, "reason": booking.decline_reason, "alternative": booking.alternative})
        if booking.attention == "amendment":
            report.needs_amendment.append({**line, "changes": booking.attention_changes})
        if booking.attention == "cancellation":
            report.needs_cancellation.append({**line, "changes": booking.attention_changes})
        if booking.status not in CLOSED_STATUSES:
            report.requirements_unacknowledged += [
                {**line, "requirement_id": need.id, "traveller": need.traveller_name, "kind": need.kind,
                 "text": need.text} for need in booking.unacknowledged]
        if booking.status == "confirmed" and booking.reconfirmed_at is None and booking.service_starts_at:
            due = reconfirm_from(booking.service_starts_at, settings)
            if due is not None and booking.service_starts_at > now:
                report.next_reconfirmations.append({**line, "due_at": due,
                                                    "requested": booking.reconfirmation_requested_at is not None})
    report.next_reconfirmations.sort(key=lambda entry: entry["due_at"])
    return report


# What ops watch across agencies: how long suppliers have had what they must answer, and what is still not
# confirmed close to its date (a service that began less than a day ago still counts: it is the most urgent).
AGE_BANDS = (("under_24h", timedelta(hours=24)), ("24h_to_72h", timedelta(hours=72)), ("over_72h", None))
UNCONFIRMED_WITHIN = (("48h", timedelta(hours=48)), ("7d", timedelta(days=7)))
STILL_URGENT_AFTER_START = timedelta(hours=24)
UNCONFIRMED = ("requested", "amendment_requested")


@dataclass(frozen=True)
class WaitingFigures:
    awaiting: dict[tuple[str, str], int]  # (status, age band) → bookings waiting for the supplier
    late: int  # of those, the ones chased or escalated to the planner
    unconfirmed_before_service: dict[str, int]  # window → requests and amendments unanswered that close to the date


def waiting_since(booking: Booking) -> datetime:
    """Since when the supplier has had the question now open: the move into the booking's status."""
    for step in reversed(booking.history):
        if step.to_status == booking.status and step.from_status != booking.status:
            return step.at
    return booking.created_at


def age_band(age: timedelta) -> str:
    return next(name for name, limit in AGE_BANDS if limit is None or age < limit)


def waiting_figures(bookings: list[Booking], now: datetime) -> WaitingFigures:
    awaiting: Counter = Counter()
    late = 0
    near: Counter = Counter()
    for booking in bookings:
        if booking.status not in AWAITING:
            continue
        awaiting[(booking.status, age_band(now - waiting_since(booking)))] += 1
        late += bool(booking.chases or booking.escalated_at)
        starts = booking.service_starts_at
        if booking.status in UNCONFIRMED and starts is not None and starts > now - STILL_URGENT_AFTER_START:
            for window, span in UNCONFIRMED_WITHIN:
                near[window] += starts <= now + span
    return WaitingFigures(dict(awaiting), late, {window: near[window] for window, _ in UNCONFIRMED_WITHIN})
