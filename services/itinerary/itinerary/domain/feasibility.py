"""Feasibility and pacing checks of an itinerary. Plain Python, no I/O; O(n log n) in the number of items.

Every finding says what (``kind``), how bad (``severity``: ``error`` cannot work as planned, ``warning`` deserves a
look), where (``items`` and ``day``) and why (``message``, with the figures behind it).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from itinerary.domain.agency_settings import DEFAULT_SPEEDS, ModeSpeed, TravelSettings
from itinerary.domain.items import Item, Location, zone

# How much a client can take in a day, by the pace recorded in their consultation.
PACE_PROFILES = {
    "relaxed": {"activities": 2, "busy_hours": 6.0, "leisure_hours": 4.0},
    "standard": {"activities": 3, "busy_hours": 9.0, "leisure_hours": 2.0},
    "packed": {"activities": 5, "busy_hours": 12.0, "leisure_hours": 1.0},
}
WAKING_HOURS = 14.0  # 08:00 to 22:00: what a day offers before leisure is counted
ACTIVITY_KINDS = ("activity", "event")
BUSY_KINDS = ("flight", "transfer", "activity", "dining", "event")

WALKING_DISTANCE_KM = 1.2
CITY_DISTANCE_KM = 25  # beyond this, a car or coach is mostly on main roads
TIMETABLED_MODES = ("train", "high_speed_rail", "ferry")
TIMETABLE_SLACK = 0.5  # a timetabled trip shorter than half the usual door-to-door time is probably a typo
PASSPORT_MARGIN_DAYS = 183  # many countries want a passport valid six months past the stay


@dataclass(frozen=True)
class Traveller:
    name: str
    passport_expiry: date | None


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    items: tuple[str, ...]
    message: str
    day: date | None = None


@dataclass(frozen=True)
class _Slot:
    """An item placed on the UTC timeline, computed once per check."""

    item: Item
    start: datetime
    end: datetime
    label: str = ""

    @property
    def name(self) -> str:
        return f"'{self.item.title}'" + (f" ({self.label})" if self.label else "")


def travel_minutes(origin: Location | None, destination: Location | None, mode: str | None = None,
                   speeds: dict[str, ModeSpeed] | None = None) -> float | None:
    """Estimated door-to-door minutes; None when either end has no coordinates."""
    if origin is None or destination is None:
        return None
    km = origin.km_to(destination)
    if km is None:
        return None
    if km < 0.05:
        return 0.0
    speeds = speeds or DEFAULT_SPEEDS
    mode = mode or default_mode(km)
    if mode in ("car", "coach") and km > CITY_DISTANCE_KM:
        mode = f"{mode}_intercity"
    speed = speeds[mode]
    return speed.overhead_min + km * speed.detour / speed.kmh * 60


def default_mode(km: float) -> str:
    return "walk" if km <= WALKING_DISTANCE_KM else "car"


def check(items: list[Item], *, start_date: date | None, end_date: date | None, pace: str | None = None,
          travel: TravelSettings | None = None, travellers: list[Traveller] = ()) -> list[Finding]:
    travel = travel or TravelSettings()
    slots = sorted((_Slot(item, item.start_utc, item.end_utc) for item in items if item.timed),
                   key=lambda slot: (slot.start, slot.end, slot.item.id))
    findings = [*_outside_trip_dates(items, start_date, end_date)]
    findings += _passports(travellers, items, end_date)
    findings += _overlaps([slot for slot in slots if slot.item.kind not in ("accommodation", "free_time")],
                          "overlap", "overlaps")
    findings += _overlaps([slot for slot in slots if slot.item.kind == "accommodation"],
                          "accommodation_overlap", "is booked for the same night as")
    findings += _free_time_taken(items)
    findings += _transfers(slots, travel)
    findings += _accommodation_windows(slots, travel)
    findings += _pace(items, pace or "standard")
    return findings


def _passports(travellers: list[Traveller], items: list[Item], end_date: date | None):
    """A passport must outlast the trip (an error), and many countries want six months more (a warning)."""
    last_day = max([item.end_day for item in items if item.start is not None] + ([end_date] if end_date else []),
                   default=None)
    if last_day is None:
        return
    for traveller in travellers:
        expiry = traveller.passport_expiry
        if expiry is None:
            continue
        if expiry <= last_day:
            yield Finding("passport_expires_during_trip", "error", (),
                          f"{traveller.name}'s passport expires on {expiry}, before the trip ends on {last_day}: "
                          "it must be renewed before travelling.", expiry)
        elif (expiry - last_day).days < PASSPORT_MARGIN_DAYS:
            yield Finding("passport_validity_short", "warning", (),
                          f"{traveller.name}'s passport expires on {expiry}, {(expiry - last_day).days} days after "
                          f"the trip ends; many countries want six months: check the destination's entry rules.",
                          last_day)


def _free_time_taken(items: list[Item]):
    """Free time with hours is a promise to the client: anything else scheduled inside them is reported (a stay
    is where it is spent, so it does not count). Free time on a day without hours means some time that day: it
    counts as the day's leisure (see the pace check) and collides with nothing."""
    free = [item for item in items if item.kind == "free_time" and item.timed]
    busy = [item for item in items if item.kind in BUSY_KINDS and item.start is not None]
    for rest in free:
        for other in busy:
            if other.start_utc < rest.end_utc and rest.start_utc < other.end_utc and other.end_utc > other.start_utc:
                yield Finding("free_time_taken", "warning", (rest.id, other.id),
                              f"'{other.title}' ({other.describe_when()}) falls in the free time '{rest.title}' "
                              f"({rest.describe_when()}).", other.start_day)


def _outside_trip_dates(items: list[Item], start_date: date | None, end_date: date | None):
    for item in items:
        if not item.outside(start_date, end_date):
            continue
        if start_date and item.start_day < start_date:
            yield Finding("outside_trip_dates", "error", (item.id,),
                          f"'{item.title}' starts on {item.start_day}, before the trip starts on {start_date}.",
                          item.start_day)
        else:
            yield Finding("outside_trip_dates", "error", (item.id,),
                          f"'{item.title}' ends on {item.end_day}, after the trip ends on {end_date}.",
                          item.end_day)


def _overlaps(slots: list[_Slot], kind: str, verb: str):
    """Sweep the timeline once, comparing each item only with those still running when it starts."""
    running: list[_Slot] = []
    for slot in slots:
        running = [other for other in running if other.end > slot.start]
        for other in running:
            minutes = int((min(other.end, slot.end) - slot.start).total_seconds() // 60)
            yield Finding(kind, "error", (other.item.id, slot.item.id),
                          f"'{slot.item.title}' ({slot.item.describe_when()}) {verb} '{other.item.title}' "
                          f"({other.item.describe_when()}) by {minutes} min.", slot.item.start_day)
        running.append(slot)


def _transfers(slots: list[_Slot], travel: TravelSettings):
    """Consecutive places on the timeline: is there time to get from one to the next? A stay counts twice, as
    the moment of check-in and of check-out, so the drive from the airport to the hotel is checked too.

    An explicit transfer item is the way between its neighbours: its own length is checked against its distance,
    and no airport buffer or drive is counted again on either side of it (the planner timed it to the flight)."""
    chain = [slot for slot in slots if slot.item.kind in BUSY_KINDS]
    for stay in (slot for slot in slots if slot.item.kind == "accommodation"):
        chain += [_Slot(stay.item, stay.start, stay.start, "check-in"), _Slot(stay.item, stay.end, stay.end,
                                                                               "check-out")]
    chain.sort(key=lambda slot: (slot.start, slot.end, slot.item.id))
    for slot in chain:
        item = slot.item
        if item.kind == "transfer" and item.end_location:
            needed = travel_minutes(item.location, item.end_location, item.mode, travel.speeds)
            planned = (slot.end - slot.start).total_seconds() / 60
            km = item.location.km_to(item.end_location) if needed is not None else None
            if item.mode in TIMETABLED_MODES:
                # A train's or ferry's times are the timetable's: only a time far from any timetable is a typo.
                if needed is not None and planned < needed * TIMETABLE_SLACK:
                    yield Finding("transfer_time_doubtful", "warning", (item.id,),
                                  f"'{item.title}' allows {planned:.0f} min for {km:.1f} km by {item.mode}; "
                                  f"about {needed:.0f} min is usual door to door: check the timetable.",
                                  item.start_day)
            elif needed is not None and planned < needed:
                yield Finding("insufficient_transfer_time", "error", (item.id,),
                              f"'{item.title}' allows {planned:.0f} min, but {km:.1f} km by "
                              f"{item.mode or default_mode(km)} takes about {needed:.0f} min.", item.start_day)
    departures = [slot for slot in chain if slot.item.kind == "transfer" and slot.item.location]
    for before, after in zip(chain, chain[1:], strict=False):
        if after.label == "check-in" and before.item.kind in ("flight", "transfer") and after.start < before.end:
            yield Finding("late_arrival_at_stay", "warning", (before.item.id, after.item.id),
                          f"Check-in at '{after.item.title}' is at {after.item.start:%H:%M}, but {before.name} "
                          f"arrives at {before.item.end:%H:%M}: move the check-in or tell the hotel of the late "
                          "arrival.", after.item.start_day)
            continue
        if after.start < before.end or before.item is after.item:
            continue  # an overlap (reported as such), or a stay's own check-in and check-out
        if before.label == "check-out" and _left_by_transfer(before.item, departures):
            continue  # the client left the stay by an explicit transfer: the check-out time is only a deadline
        gap = (after.start - before.end).total_seconds() / 60
        transferred = "transfer" in (before.item.kind, after.item.kind)
        minutes = travel_minutes(before.item.arrival_location, after.item.location, None, travel.speeds)
        buffer, reasons = 0, []
        if before.item.kind == "flight" and not transferred:
            buffer += travel.airport_after_arrival_min
            reasons.append(f"{travel.airport_after_arrival_min} min to leave the airport after landing")
        if after.item.kind == "flight" and not transferred:
            buffer += travel.airport_before_departure_min
            reasons.append(f"{travel.airport_before_departure_min} min at the airport before departure")
        if minutes:
            km = before.item.arrival_location.km_to(after.item.location)
            reasons.append(f"about {minutes:.0f} min to cover {km:.1f} km")
        needed = buffer + (minutes or 0)
        if needed and gap < needed:
            yield Finding("insufficient_transfer_time", "error", (before.item.id, after.item.id),
                          f"Only {gap:.0f} min between {before.name} and {after.name}; "
                          f"{needed:.0f} min needed: {', '.join(reasons)}.",
                          after.item.end_day if after.label == "check-out" else after.item.start_day)


def _left_by_transfer(stay: Item, departures: list[_Slot]) -> bool:
    """A transfer from the stay's door during the stay: the way on from it is planned item by item."""
    def from_the_door(slot: _Slot) -> bool:
        km = slot.item.location.km_to(stay.location) if stay.location else None
        return km is not None and km <= WALKING_DISTANCE_KM

    return any(stay.start_utc <= slot.start <= stay.end_utc and from_the_door(slot) for slot in departures)


def _accommodation_windows(slots: list[_Slot], travel: TravelSettings):
    flights = [slot for slot in slots if slot.item.kind == "flight"]
    for slot in slots:
        item = slot.item
        if item.kind != "accommodation":
            continue
        if item.start.hour < travel.hotel_check_in_hour:
            yield Finding("check_in_window", "warning", (item.id,),
                          f"Check-in at '{item.title}' at {item.start:%H:%M} is before the usual "
                          f"{travel.hotel_check_in_hour}:00: arrange an early check-in or luggage storage.",
                          item.start_day)
        if item.end and (item.end.hour, item.end.minute) > (travel.hotel_check_out_hour, 0):
            yield Finding("check_out_window", "warning", (item.id,),
                          f"Check-out from '{item.title}' at {item.end:%H:%M} is after the usual "
                          f"{travel.hotel_check_out_hour}:00: arrange a late check-out.", item.end_day)
        for flight in flights:
            if slot.start < flight.start < slot.end and flight.end >= slot.end:
                yield Finding("checkout_after_departure", "error", (item.id, flight.item.id),
                              f"Check-out from '{item.title}' ({item.end:%Y-%m-%d %H:%M}) is after "
                              f"'{flight.item.title}' departs ({flight.item.start:%Y-%m-%d %H:%M} "
                              f"{flight.item.timezone}).", item.end_day)


def _pace(items: list[Item], pace: str):
    """Sightseeing hours count against the pace; travel counts only against the day's leisure."""
    profile = PACE_PROFILES.get(pace, PACE_PROFILES["standard"])
    activities: dict[date, int] = defaultdict(int)
    day_items: dict[date, list[str]] = defaultdict(list)
    paced_hours: dict[date, float] = defaultdict(float)
    busy_hours: dict[date, float] = defaultdict(float)
    leisure_days: set[date] = set()
    for item in items:
        if item.start is None or item.kind == "accommodation":
            continue
        if item.kind == "free_time":
            leisure_days.update(_days(item.start_day, item.end_day))
            continue
        day = item.start_day
        day_items[day].append(item.id)
        activities[day] += item.kind in ACTIVITY_KINDS
        if item.timed and item.end:
            # An overnight item (a red-eye flight) weighs on its first day only until local midnight.
            next_day = datetime.combine(day + timedelta(days=1), datetime.min.time())
            midnight = next_day.replace(tzinfo=zone(item.timezone))
            hours = (min(item.end_utc, midnight) - item.start_utc).total_seconds() / 3600
            busy_hours[day] += hours
            if item.kind != "flight":
                paced_hours[day] += hours
    for day in sorted(day_items):
        ids = tuple(day_items[day])
        count, paced, busy = activities[day], paced_hours[day], busy_hours[day]
        if count > profile["activities"] or paced > profile["busy_hours"]:
            yield Finding("pace_exceeded", "warning", ids,
                          f"{day}: {count} activities and {paced:.1f} h scheduled; a {pace} pace allows "
                          f"{profile['activities']} activities and {profile['busy_hours']:.0f} h.", day)
        if day not in leisure_days and WAKING_HOURS - busy < profile["leisure_hours"]:
            yield Finding("no_leisure_time", "warning", ids,
                          f"{day}: {max(WAKING_HOURS - busy, 0):.1f} h left of a {WAKING_HOURS:.0f} h day and no "
                          f"free time; a {pace} pace needs {profile['leisure_hours']:.0f} h.", day)


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
