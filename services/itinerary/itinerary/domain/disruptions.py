"""Disruptions: a delay or a cancellation reported on a trip, and what it does to the rest of it. Plain Python, no I/O.

A delay moves its item by a known amount; the trip is then checked again with the new times, and every later item
whose new finding names it (the transfer that would leave before the flight lands, the check-in before the
transfer arrives) is proposed to move by the same amount, until nothing new goes wrong. An item the agency cannot
move (a flight: the carrier's timetable) is listed to rebook instead. A cancellation moves nothing by itself: what
was planned around the cancelled item in the next day is listed for the planner to review.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itinerary.domain.feasibility import Finding
from itinerary.domain.items import Item, zone
from trip_shared.errors import ConflictError, DomainError

DISRUPTING_KINDS = ("delay", "cancellation")
FIXED_TIME_KINDS = ("flight",)  # run to a carrier's timetable: the agency rebooks one, it cannot move it
REVIEW_HORIZON = timedelta(hours=24)  # what a cancellation puts in doubt: the rest of that day and night
MAX_SHIFT_MINUTES = 2 * 24 * 60
# Warnings that a later time makes: the check-in the travellers can no longer make (errors always count).
KNOCK_ON_WARNINGS = ("late_arrival_at_stay",)


class InvalidShift(DomainError):
    code = "invalid-shift"


@dataclass
class Disruption:
    """A delay or cancellation as the itinerary learnt it from the incident; ``summary`` is the staff's words."""

    incident_id: str
    itinerary_id: str
    item_id: str
    kind: str
    delay_minutes: int | None
    summary: str
    reported_at: datetime
    status: str = "open"  # open → shifted
    shifted_at: datetime | None = None
    shifted_by: str | None = None
    moves: dict[str, int] = field(default_factory=dict)

    def record_shift(self, moves: dict[str, int], actor: str, at: datetime) -> None:
        if self.status == "shifted":
            raise ConflictError("This disruption has already been applied to the trip.", code="already-shifted")
        self.status, self.moves, self.shifted_by, self.shifted_at = "shifted", dict(moves), actor, at


@dataclass(frozen=True)
class AffectedItem:
    item_id: str
    title: str
    kind: str
    when: str
    action: str  # shift | rebook | review
    reasons: tuple[str, ...]
    minutes: int | None = None
    proposed: Item | None = None


@dataclass(frozen=True)
class Assessment:
    disrupted: Item | None  # the disrupted item with its new times (a delay), as it is now otherwise
    affected: list[AffectedItem]
    remaining: list[Finding]  # what would still be wrong after the proposed shift

    @property
    def moves(self) -> dict[str, int]:
        return {affected.item_id: affected.minutes for affected in self.affected if affected.action == "shift"}


NOTHING_TO_ASSESS = Assessment(None, [], [])


def shifted(item: Item, minutes: int) -> Item:
    """The item ``minutes`` later (earlier when negative) on the real timeline, in its own zones; a stay moves only
    its check-in (its check-out is the hotel's)."""
    if not item.timed:
        raise InvalidShift(f"'{item.title}' has no time of day to move.", code="item-not-timed")
    delta = timedelta(minutes=minutes)
    changes = _local(item.start_utc + delta, item.timezone, "start")
    if item.end is not None and item.kind != "accommodation":
        changes |= _local(item.end_utc + delta, item.end_timezone or item.timezone, "end")
    return item.with_changes(changes)


def _local(instant: datetime, timezone: str, which: str) -> dict:
    local = instant.astimezone(zone(timezone))
    return {which: local.replace(tzinfo=None, fold=0), f"{which}_occurrence": "second" if local.fold else "first"}


def assess(items: list[Item], disruption: Disruption,
           findings_of: Callable[[list[Item]], list[Finding]]) -> Assessment:
    """``findings_of`` checks a version of the trip's items with its dates, travellers and the agency's settings."""
    def problems_of(version: list[Item]) -> list[Finding]:
        return [finding for finding in findings_of(version)
                if finding.severity == "error" or finding.kind in KNOCK_ON_WARNINGS]

    by_id = {item.id: item for item in items}
    target = by_id.get(disruption.item_id)
    if target is None or not target.timed:
        return Assessment(target, [], [])
    if disruption.kind == "cancellation":
        return _cancelled(items, target)
    return _delayed(items, target, disruption.delay_minutes or 0, problems_of)


def _key(finding: Finding) -> tuple:
    return finding.kind, frozenset(finding.items)


def _delayed(items: list[Item], target: Item, minutes: int,
             problems_of: Callable[[list[Item]], list[Finding]]) -> Assessment:
    baseline = {_key(finding) for finding in problems_of(items)}
    by_id = {item.id: item for item in items}
    moves: dict[str, int] = {target.id: minutes}
    rebook: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    while True:
        trial = [shifted(item, moves[item.id]) if item.id in moves else item for item in items]
        new = [finding for finding in problems_of(trial) if _key(finding) not in baseline]
        grown = False
        for finding in new:
            for item_id in finding.items:
                item = by_id[item_id]
                if item_id in moves or item_id in rebook or not item.timed or item.start_utc < target.start_utc:
                    continue  # already handled, or before the disruption: what happened has happened
                if item.kind in FIXED_TIME_KINDS:
                    rebook[item_id] = [finding.message]
                    continue
                moves[item_id], grown = minutes, True
                reasons.setdefault(item_id, []).append(finding.message)
        if not grown:  # moves only grow, so this ends within one pass per item
            break
    proposed = {item.id: item for item in trial}
    affected = [AffectedItem(item.id, item.title, item.kind, item.describe_when(), "shift",
                             tuple(reasons[item.id]), minutes, proposed[item.id])
                for item in items if item.id in reasons]
    affected += [AffectedItem(item.id, item.title, item.kind, item.describe_when(), "rebook", tuple(rebook[item.id]))
                 for item in items if item.id in rebook]
    return Assessment(proposed[target.id], affected, new)


def _cancelled(items: list[Item], target: Item) -> Assessment:
    until = target.end_utc + REVIEW_HORIZON
    doubtful = [item for item in items if item.id != target.id and item.timed
                and target.start_utc <= item.start_utc <= until]
    affected = [AffectedItem(target.id, target.title, target.kind, target.describe_when(), "rebook",
                             (f"'{target.title}' is cancelled.",))]
    affected += [AffectedItem(item.id, item.title, item.kind, item.describe_when(), "review",
                              (f"Planned around '{target.title}', which is cancelled.",)) for item in doubtful]
    return Assessment(target, affected, [])


def check_moves(moves: dict[str, int], items: list[Item]) -> dict[str, int]:
    """The planner's own shift: every item on the trip, timed, by a whole number of minutes within two days."""
    known = {item.id: item for item in items}
    if not moves:
        raise InvalidShift("Say which items move, and by how many minutes.", code="nothing-to-shift")
    for item_id, minutes in moves.items():
        if item_id not in known:
            raise InvalidShift(f"No item {item_id} on this trip.", code="item-not-found")
        if not known[item_id].timed:
            raise InvalidShift(f"'{known[item_id].title}' has no time of day to move.", code="item-not-timed")
        if minutes == 0 or abs(minutes) > MAX_SHIFT_MINUTES:
            raise InvalidShift(f"'{known[item_id].title}' must move by 1 to {MAX_SHIFT_MINUTES} minutes, earlier "
                               "(negative) or later.", code="invalid-shift")
    return moves
