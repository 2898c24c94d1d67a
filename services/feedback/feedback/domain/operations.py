"""The operations view of trips under way or about to leave: where each party is, and what needs a person. Plain
Python, no I/O: it reads the trips, incidents and bookings as the service knows them from their events."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from feedback.domain.complaints import AGENCY_TURN, Complaint
from feedback.domain.incidents import SEVERITY_ORDER, Incident

WATCHED_STAGES = ("approved", "booked", "in_progress")
UNCONFIRMED = ("requested", "amendment_requested", "declined", "expired")


@dataclass(frozen=True)
class Moment:
    """An item as ops read it: in the local time of its place, the zone named."""

    item_id: str
    title: str
    kind: str
    starts: str  # "2027-10-01 17:30 (Europe/Rome)"
    ends: str | None


@dataclass(frozen=True)
class PartyWatch:
    """Some of a trip's travellers doing the same thing, when the party has split up."""

    travellers: list[str]  # customer ids
    names: list[str]
    current: Moment | None
    next: Moment | None


@dataclass
class TripWatch:
    itinerary_id: str
    title: str
    stage: str
    start_date: str | None
    end_date: str | None
    current: Moment | None = None
    next: Moment | None = None
    open_incidents: dict[str, int] = field(default_factory=dict)
    overdue_incidents: list[str] = field(default_factory=list)
    unconfirmed_bookings: list[dict] = field(default_factory=list)
    late_bookings: list[dict] = field(default_factory=list)
    unread_urgent_messages: list[dict] = field(default_factory=list)
    complaints_to_answer: list[dict] = field(default_factory=list)
    parties: list[PartyWatch] = field(default_factory=list)  # only when the travellers are apart

    @property
    def needs_a_person(self) -> bool:
        return bool(self.open_incidents or self.unconfirmed_bookings or self.late_bookings
                    or self.unread_urgent_messages or self.complaints_to_answer)

    @property
    def overdue_messages(self) -> bool:
        return any(message["overdue"] for message in self.unread_urgent_messages)

    def urgency(self) -> tuple:
        """Sort key, most urgent first: overdue incidents, urgent news a client has not read past its time, the
        most severe open incident, late then unconfirmed bookings, other unread news, complaints owed an answer,
        then the trip that happens soonest."""
        worst = min((SEVERITY_ORDER[severity] for severity in self.open_incidents), default=len(SEVERITY_ORDER))
        return (not self.overdue_incidents, not self.overdue_messages, worst, not self.late_bookings,
                not self.unconfirmed_bookings, not self.unread_urgent_messages, not self.complaints_to_answer,
                self.stage != "in_progress", self.start_date or "9999", self.itinerary_id)


def is_watched(trip: dict, today: date, days_ahead: int) -> bool:
    """Under way, or approved or booked and leaving within ``days_ahead`` days."""
    if trip.get("stage") == "in_progress":
        return True
    start = trip.get("start_date")
    return trip.get("stage") in WATCHED_STAGES and bool(start) and \
        today <= date.fromisoformat(start) <= today + timedelta(days=days_ahead)


def _label(local: str | None, zone: str | None) -> str | None:
    if not local:
        return None
    return f"{local.replace('T', ' ')} ({zone})" if zone else local


def _moment(item: dict) -> Moment:
    return Moment(item["item_id"], item.get("title") or "", item.get("kind") or "",
                  _label(item.get("start"), item.get("timezone")),
                  _label(item.get("end"), item.get("end_timezone") or item.get("timezone")))


def _instant(value) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _now_and_next(timed: list[dict], now: datetime) -> tuple[Moment | None, Moment | None]:
    """What is happening now (between things: where they sleep) and what comes next."""
    current = upcoming = None
    for item in timed:
        starts, ends = _instant(item["starts_at"]), _instant(item.get("ends_at")) or _instant(item["starts_at"])
        if starts <= now < ends and item.get("kind") != "accommodation" and current is None:
            current = _moment(item)
        elif starts > now and upcoming is None:
            upcoming = _moment(item)
    if current is None:
        stays = [item for item in timed if item.get("kind") == "accommodation"
                 and _instant(item["starts_at"]) <= now < (_instant(item.get("ends_at")) or now)]
        current = _moment(stays[0]) if stays else None
    return current, upcoming


def _parties(trip: dict, timed: list[dict], now: datetime) -> list[PartyWatch]:
    """Where each group of travellers is, when items for some of them have split the party; none when they are
    all in the same place."""
    if not any(item.get("travellers") for item in timed):
        return []
    names = trip.get("traveller_names") or {}
    groups: dict[tuple, list[str]] = {}
    moments: dict[tuple, tuple] = {}
    for member in trip.get("members", []):
        customer = member["customer_id"]
        theirs = [item for item in timed if not item.get("travellers") or customer in item["travellers"]]
        current, upcoming = _now_and_next(theirs, now)
        key = (current.item_id if current else None, upcoming.item_id if upcoming else None)
        groups.setdefault(key, []).append(customer)
        moments[key] = (current, upcoming)
    if len(groups) < 2:
        return []
    return [PartyWatch(customers, [names.get(customer, customer) for customer in customers], *moments[key])
            for key, customers in groups.items()]


def watch(trip: dict, incidents: list[Incident], bookings: list[dict], now: datetime, *,
          unread: list[dict] = (), complaints: list[Complaint] = ()) -> TripWatch:
    """One trip now: its current and next item, open incidents by severity (the overdue named), bookings not
    confirmed, and those whose supplier is past its answer deadline; urgent news its clients have not confirmed
    reading (``unread``), and complaints owed an answer."""
    watched = TripWatch(trip["_id"], trip.get("title") or "", trip.get("stage") or "", trip.get("start_date"),
                        trip.get("end_date"))
    timed = sorted((item for item in trip.get("items") or [] if item.get("starts_at")),
                   key=lambda item: _instant(item["starts_at"]))
    watched.current, watched.next = _now_and_next(timed, now)
    watched.parties = _parties(trip, timed, now)
    for incident in incidents:
        if incident.status in ("open", "acknowledged"):
            watched.open_incidents[incident.severity] = watched.open_incidents.get(incident.severity, 0) + 1
            if incident.is_overdue(now):
                watched.overdue_incidents.append(incident.id)
    watched.open_incidents = dict(sorted(watched.open_incidents.items(), key=lambda pair: SEVERITY_ORDER[pair[0]]))
    for booking in bookings:
        if booking.get("status") not in UNCONFIRMED:
            continue
        summary = {key: booking.get(key) for key in ("booking_id", "item_id", "vendor_name", "status")}
        summary["service_starts"] = _label(booking.get("service_start"), booking.get("service_timezone"))
        respond_by = _instant(booking.get("respond_by"))
        if booking.get("status") in ("requested", "amendment_requested") and respond_by and respond_by < now:
            watched.late_bookings.append(summary)
        else:
            watched.unconfirmed_bookings.append(summary)
    for message in unread:
        escalate_at = _instant(message.get("escalate_at"))
        watched.unread_urgent_messages.append({
            **{key: message.get(key) for key in ("notification_id", "customer_id", "kind", "subject", "status")},
            "overdue": escalate_at is None or escalate_at <= now})  # none: the planners were told already
    watched.complaints_to_answer = [{"complaint_id": complaint.id, "status": complaint.status,
                                     "due_at": complaint.due_at, "overdue": complaint.overdue(now)}
                                    for complaint in complaints if complaint.status in AGENCY_TURN]
    return watched
