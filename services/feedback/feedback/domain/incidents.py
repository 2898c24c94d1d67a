"""Incidents on a trip: what went wrong, what was done, what it cost, and how fast someone answered. No I/O.

Every incident is a documented deviation on the trip. It moves ``open → acknowledged → resolved → closed`` (a
resolution found wanting reopens to acknowledged); each step, action and communication is on its timeline. Its
severity sets how soon a person must acknowledge it; past that, it escalates to the planners once.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from feedback.domain.records import TimelineEntry, checked_text
from trip_shared.errors import ConflictError, DomainError
from trip_shared.local_time import duration_label
from trip_shared.money import Money

KINDS = ("delay", "cancellation", "missed_connection", "illness_or_injury", "lost_item", "accommodation_problem",
         "complaint", "other")
SEVERITIES = ("critical", "high", "medium", "low")
RESPONSE_WITHIN = {"critical": timedelta(minutes=15), "high": timedelta(hours=1), "medium": timedelta(hours=4),
                   "low": timedelta(hours=24)}
BORNE_BY = ("agency", "supplier", "client", "insurer")
STATUSES = ("open", "acknowledged", "resolved", "closed")
ENTRY_KINDS = ("action", "communication")
MAX_SUMMARY, MAX_TEXT = 200, 5000
MAX_DELAY_MINUTES = 7 * 24 * 60
# A report may be written a little ahead of the clock it names (a delay announced for the departure), not days.
FUTURE_TOLERANCE = timedelta(hours=1)


class InvalidIncident(DomainError):
    code = "invalid-incident"


class IncidentConflict(ConflictError):
    code = "incident-state-conflict"


@dataclass(frozen=True)
class CostImpact:
    money: Money
    borne_by: str

    @classmethod
    def of(cls, amount, currency: str, borne_by: str) -> CostImpact:
        if borne_by not in BORNE_BY:
            raise InvalidIncident(f"cost.borne_by must be one of {', '.join(BORNE_BY)}.", code="invalid-cost")
        return cls(Money.of(amount, currency, "cost"), borne_by)


def _text(name: str, value: str | None, limit: int, required: bool = False) -> str | None:
    return checked_text(InvalidIncident, name, value, limit, required)


def local_instant(local: str, zone_name: str) -> datetime:
    """A wall-clock time where it happened ("2027-10-01T19:50" in Europe/London) as an instant; a time the zone
    skips (a clock change) is refused rather than guessed."""
    try:
        zone = ZoneInfo(zone_name)
    except (ValueError, KeyError, OSError):
        raise InvalidIncident(f"timezone {zone_name!r} is not an IANA time zone such as Asia/Tokyo.",
                              code="invalid-timezone") from None
    try:
        wall = datetime.fromisoformat(local)
    except ValueError:
        raise InvalidIncident(f"occurred_at {local!r} is not a local time such as 2027-10-01T19:50.",
                              code="invalid-time") from None
    if wall.tzinfo is not None or len(local) < 16:
        raise InvalidIncident("occurred_at is the local wall-clock time where it happened (2027-10-01T19:50), "
                              "without an offset; the zone goes in timezone.", code="invalid-time")
    moment = wall.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise InvalidIncident(f"{local} does not exist in {zone_name} (the clocks changed).", code="invalid-time")
    return moment.astimezone(UTC)


@dataclass
class Incident:
    id: str
    tenant_id: str
    itinerary_id: str
    kind: str
    severity: str
    summary: str
    description: str | None
    occurred_local: str
    timezone: str
    occurred_at: datetime
    reported_at: datetime
    response_due_at: datetime
    status: str = "open"
    item_id: str | None = None
    booking_id: str | None = None
    supplier: str | None = None
    delay_minutes: int | None = None
    owner: str | None = None
    travellers: list[str] = field(default_factory=list)  # whom it happened to, of the trip's travellers
    cost: CostImpact | None = None
    resolution: str | None = None
    acknowledged_at: datetime | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1
    timeline: list[TimelineEntry] = field(default_factory=list)

    @classmethod
    def report(cls, tenant_id: str, itinerary_id: str, *, kind: str, severity: str, summary: str | None,
               occurred_local: str, actor: str, now: datetime, item_zones: dict[str, str], on_trip: list[str],
               travellers: list[str] | None = None,
               timezone: str | None = None, description: str | None = None, item_id: str | None = None,
               booking_id: str | None = None, supplier: str | None = None, delay_minutes: int | None = None,
               owner: str | None = None, cost: CostImpact | None = None) -> Incident:
        """``item_zones``: the trip's items and the zone each starts in; an incident on an item is timed in that
        item's zone unless another is named; ``on_trip``: the customers linked to the trip."""
        if kind not in KINDS:
            raise InvalidIncident(f"kind must be one of {', '.join(KINDS)}.", code="invalid-kind")
        if severity not in SEVERITIES:
            raise InvalidIncident(f"severity must be one of {', '.join(SEVERITIES)}.", code="invalid-severity")
        if item_id is not None and item_id not in item_zones:
            raise InvalidIncident(f"The trip has no item {item_id}.", code="item-not-on-trip")
        if kind == "delay" and delay_minutes is None:
            raise InvalidIncident("A delay says by how much: delay_minutes.", code="missing-delay")
        if delay_minutes is not None and (kind != "delay" or not 1 <= delay_minutes <= MAX_DELAY_MINUTES):
            raise InvalidIncident(f"delay_minutes (1 to {MAX_DELAY_MINUTES}) belongs to a delay.",
                                  code="invalid-delay")
        strangers = [customer for customer in travellers or [] if customer not in on_trip]
        if strangers:
            raise InvalidIncident(f"Not travellers on this trip: {', '.join(strangers)}.",
                                  code="customer-not-on-trip")
        zone = timezone or (item_zones.get(item_id) if item_id else None)
        if not zone:
            raise InvalidIncident("Name the timezone where it happened (or the item it happened to).",
                                  code="missing-timezone")
        occurred_at = local_instant(occurred_local, zone)
        if occurred_at > now + FUTURE_TOLERANCE:
            raise InvalidIncident("occurred_at is in the future: report what has happened.", code="invalid-time")
        summary = _text("summary", summary, MAX_SUMMARY, required=True)
        incident = cls(
            id=str(uuid.uuid4()), tenant_id=tenant_id, itinerary_id=itinerary_id, kind=kind, severity=severity,
            summary=summary or "", description=_text("description", description, MAX_TEXT),
            occurred_local=occurred_local[:16], timezone=zone, occurred_at=occurred_at, reported_at=now,
            response_due_at=now + RESPONSE_WITHIN[severity], item_id=item_id,
            booking_id=_text("booking_id", booking_id, 100), supplier=_text("supplier", supplier, MAX_SUMMARY),
            delay_minutes=delay_minutes, owner=_text("owner", owner, MAX_SUMMARY),
            travellers=list(dict.fromkeys(travellers or [])), cost=cost)
        incident.timeline.append(TimelineEntry(now, actor, "reported", summary or ""))
        return incident

    # --- its life --------------------------------------------------------------------------------------------

    def _step(self, now: datetime, actor: str, kind: str, text: str) -> None:
        self.timeline.append(TimelineEntry(now, actor, kind, text))
        self.version += 1

    def _refuse_unless(self, *statuses: str, doing: str) -> None:
        if self.status not in statuses:
            raise IncidentConflict(f"An incident that is {self.status} cannot be {doing}.",
                                   status_now=self.status)

    def acknowledge(self, actor: str, now: datetime, note: str | None = None, owner: str | None = None) -> None:
        """A person has it: the response deadline is met (or, late, at least ends)."""
        self._refuse_unless("open", doing="acknowledged")
        self.status, self.acknowledged_at = "acknowledged", now
        self.owner = _text("owner", owner, MAX_SUMMARY) or self.owner or actor
        self._step(now, actor, "acknowledged", _text("note", note, MAX_TEXT) or f"Taken by {self.owner}")

    def record(self, kind: str, text: str | None, actor: str, now: datetime) -> None:
        """What was done (an action) or said to whom (a communication)."""
        if kind not in ENTRY_KINDS:
            raise InvalidIncident(f"An entry is one of {', '.join(ENTRY_KINDS)}.", code="invalid-entry")
        self._refuse_unless("open", "acknowledged", "resolved", doing="added to")
        self._step(now, actor, kind, _text("text", text, MAX_TEXT, required=True) or "")

    def record_cost(self, cost: CostImpact, actor: str, now: datetime) -> None:
        self._refuse_unless("open", "acknowledged", "resolved", doing="costed")
        self.cost = cost
        self._step(now, actor, "cost", f"{cost.money.amount} {cost.money.currency}, borne by {cost.borne_by}")

    def resolve(self, resolution: str | None, actor: str, now: datetime, cost: CostImpact | None = None) -> None:
        self._refuse_unless("open", "acknowledged", doing="resolved")
        self.resolution = _text("resolution", resolution, MAX_TEXT, required=True)
        if cost is not None:
            self.cost = cost
        self.status, self.resolved_at = "resolved", now
        self.acknowledged_at = self.acknowledged_at or now
        self._step(now, actor, "resolved", self.resolution or "")

    def reopen(self, reason: str | None, actor: str, now: datetime) -> None:
        self._refuse_unless("resolved", doing="reopened")
        self.status, self.resolved_at = "acknowledged", None
        self._step(now, actor, "reopened", _text("reason", reason, MAX_TEXT, required=True) or "")

    def close(self, actor: str, now: datetime) -> None:
        self._refuse_unless("resolved", doing="closed")
        self.status, self.closed_at = "closed", now
        self._step(now, actor, "closed", "Closed")

    def is_overdue(self, now: datetime) -> bool:
        """Nobody has acknowledged it, and its severity's time to respond is up."""
        return self.status == "open" and now >= self.response_due_at

    def escalate(self, now: datetime) -> bool:
        """Nobody acknowledged it in time: True the first time, when the planners must hear of it."""
        if not self.is_overdue(now) or self.escalated_at is not None:
            return False
        self.escalated_at = now
        late = int((now - self.response_due_at).total_seconds() // 60)
        self._step(now, "system", "escalated", f"Not acknowledged within {_response_within(self.severity)}"
                                               + (f" ({late} min late)" if late else "") + ": the planners are told.")
        return True


OPEN_STATUSES = ("open", "acknowledged")


def open_incident_figures(incidents: list[Incident], now: datetime
                          ) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """What ops watch across agencies: incidents not yet resolved by (severity, status), and of those nobody has
    acknowledged in time, how many of each severity."""
    open_ones: dict[tuple[str, str], int] = {}
    overdue: dict[str, int] = {}
    for incident in incidents:
        if incident.status in OPEN_STATUSES:
            key = (incident.severity, incident.status)
            open_ones[key] = open_ones.get(key, 0) + 1
            if incident.is_overdue(now):
                overdue[incident.severity] = overdue.get(incident.severity, 0) + 1
    return open_ones, overdue


def _response_within(severity: str) -> str:
    return duration_label(int(RESPONSE_WITHIN[severity].total_seconds() // 60), "en")


SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(SEVERITIES)}
