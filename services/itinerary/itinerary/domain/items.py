"""Day-by-day items of an itinerary and how their local times map onto one UTC timeline. Plain Python: no I/O.

An item's times are what the client sees on the ground: local wall-clock times in the item's own IANA time zone
(a flight departs in its origin's zone and lands in ``end_timezone``). An untimed item (a free day, a museum "any
time on Tuesday") is a date, never a fake midnight.
"""
from __future__ import annotations

import functools
import math
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trip_shared.errors import DomainError

ITEM_KINDS = ("flight", "transfer", "accommodation", "activity", "dining", "event", "free_time")
COST_CATEGORIES = ("transport", "accommodation", "tickets", "guides", "dining", "insurance", "visa", "other")
TRANSFER_MODES = ("walk", "car", "coach", "train", "high_speed_rail", "ferry")
MAX_TITLE = 200
MAX_NOTES = 5000
MAX_ITEMS = 2000


class InvalidItem(DomainError):
    code = "invalid-item"


@dataclass(frozen=True)
class Location:
    address: str | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if (self.lat is None) != (self.lon is None):
            raise InvalidItem("A location needs both lat and lon, or neither.", code="invalid-location")
        if self.lat is not None and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise InvalidItem(f"Coordinates {self.lat},{self.lon} are not on Earth.", code="invalid-location")

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None

    def km_to(self, other: Location) -> float | None:
        """Great-circle distance; None when either end has no coordinates."""
        if not (self.has_coordinates and other.has_coordinates):
            return None
        lat1, lon1, lat2, lon2 = map(math.radians, (self.lat, self.lon, other.lat, other.lon))
        a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        return 6371.0 * 2 * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    currency: str
    category: str

    @classmethod
    def of(cls, amount, currency: str, category: str | None, kind: str) -> Cost:
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            raise InvalidItem(f"cost.amount {amount!r} is not a number.", code="invalid-cost") from None
        if not value.is_finite() or value < 0:
            raise InvalidItem("cost.amount must be zero or more.", code="invalid-cost")
        currency = (currency or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidItem(f"cost.currency {currency!r} is not an ISO 4217 code such as EUR.",
                              code="invalid-currency")
        category = category or DEFAULT_CATEGORY[kind]
        if category not in COST_CATEGORIES:
            raise InvalidItem(f"cost.category must be one of {', '.join(COST_CATEGORIES)}.", code="invalid-cost")
        return cls(value.quantize(Decimal("0.01")), currency, category)


DEFAULT_CATEGORY = {"flight": "transport", "transfer": "transport", "accommodation": "accommodation",
                    "activity": "tickets", "dining": "dining", "event": "tickets", "free_time": "other"}


def zone(name: str | None, what: str = "timezone") -> ZoneInfo:
    try:
        if not name or "/" not in name and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidItem(f"{what} {name!r} is not an IANA time zone such as Europe/Paris.",
                          code="invalid-timezone") from None


OCCURRENCES = ("first", "second")


# A trip's view checks every item's times against every other's: the same few conversions, many times over.
@functools.lru_cache(maxsize=16384)
def to_utc(local: datetime, tz: ZoneInfo, what: str, occurrence: str | None = None, *,
           strict: bool = False) -> datetime:
    """The instant a local wall-clock time means. A time skipped by a daylight-saving jump is refused; a time
    that happens twice (the hour repeated when clocks go back) needs ``occurrence`` when ``strict``, and
    otherwise means its first occurrence, as RFC 5545 reads it."""
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) != local:
        raise InvalidItem(f"{what} {local.isoformat(timespec='minutes')} does not exist in {tz.key} "
                          "(the clocks skip it that day).", code="nonexistent-local-time")
    if first == second:
        return first
    if occurrence is None and strict:
        raise InvalidItem(
            f"{what} {local.isoformat(timespec='minutes')} happens twice in {tz.key} (the clocks go back that "
            f"night): set {what}_occurrence to 'first' (UTC{_utc_offset(first, tz)}) or 'second' "
            f"(UTC{_utc_offset(second, tz)}).", code="ambiguous-local-time")
    return second if occurrence == "second" else first


def _utc_offset(instant: datetime, tz: ZoneInfo) -> str:
    minutes = int(instant.astimezone(tz).utcoffset().total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def is_ambiguous(local: datetime, tz: ZoneInfo) -> bool:
    return local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset()


@dataclass
class Item:
    id: str
    kind: str
    title: str
    timezone: str
    start: datetime | date | None = None  # local wall-clock time, or a date for an untimed item
    end: datetime | date | None = None
    end_timezone: str | None = None
    location: Location | None = None
    end_location: Location | None = None
    mode: str | None = None
    vendor: str | None = None
    cost: Cost | None = None
    notes: str | None = None  # the planner's own: never shown to a client or a vendor
    client_note: str | None = None  # what the client reads about the item, on every deliverable
    requires_booking: bool = False
    start_occurrence: str | None = None  # "first" or "second", for a local time that happens twice
    end_occurrence: str | None = None
    # Counts the changes a client can see (RFC 5545 SEQUENCE): a calendar replaces its copy when it grows.
    sequence: int = 0
    created_at: datetime | None = None
    travellers: list[str] | None = None  # who of the trip's customers does it, when not everyone (a party splits)

    # --- creation and validation ------------------------------------------------------------------------------

    @classmethod
    def create(cls, fields: dict) -> Item:
        item = cls(id=str(uuid.uuid4()), kind=fields.get("kind") or "", title="", timezone="")
        return item.with_changes(fields)

    def with_changes(self, changes: dict) -> Item:
        """A validated copy with ``changes`` applied; the item itself is untouched if anything is wrong."""
        unknown = set(changes) - set(EDITABLE_ITEM_FIELDS) - {"kind"}
        if unknown:
            raise InvalidItem(f"These item fields cannot be set: {', '.join(sorted(unknown))}.")
        values = {name: getattr(self, name) for name in EDITABLE_ITEM_FIELDS}
        values.update(changes)
        values["start"], values["end"] = parse_local(values["start"], "start"), parse_local(values["end"], "end")
        values["travellers"] = list(dict.fromkeys(values["travellers"])) if values.get("travellers") else None
        values["requires_booking"] = bool(values["requires_booking"])
        kind = changes.get("kind", self.kind)
        if kind not in ITEM_KINDS:
            raise InvalidItem(f"kind must be one of {', '.join(ITEM_KINDS)}.", code="invalid-kind")
        title = (values["title"] or "").strip()
        if not title or len(title) > MAX_TITLE:
            raise InvalidItem(f"title is required, at most {MAX_TITLE} characters.", code="title-required")
        zone(values["timezone"])
        if values["end_timezone"]:
            zone(values["end_timezone"], "end_timezone")
        if values["mode"] is not None and values["mode"] not in TRANSFER_MODES:
            raise InvalidItem(f"mode must be one of {', '.join(TRANSFER_MODES)}.", code="invalid-mode")
        for name in ("notes", "client_note"):
            if values[name] and len(values[name]) > MAX_NOTES:
                raise InvalidItem(f"{name} is longer than {MAX_NOTES} characters.", code="notes-too-long")
        for name in ("start_occurrence", "end_occurrence"):
            if values[name] is not None and values[name] not in OCCURRENCES:
                raise InvalidItem(f"{name} must be 'first' or 'second'.", code="invalid-times")
        cost = values["cost"]
        if isinstance(cost, dict):
            cost = Cost.of(cost.get("amount"), cost.get("currency"), cost.get("category"), kind)
        location, end_location = (_location(values[name]) for name in ("location", "end_location"))
        item = replace(self, **{**values, "kind": kind, "title": title, "cost": cost, "location": location,
                                "end_location": end_location,
                                "vendor": (values["vendor"] or "").strip() or None,
                                "notes": (values["notes"] or "").strip() or None,
                                "client_note": (values["client_note"] or "").strip() or None})
        item._check_times()
        return item._without_needless_occurrences()

    def _without_needless_occurrences(self) -> Item:
        """An occurrence only means something for a time that happens twice; on any other it is dropped, so a
        retimed item does not carry a stale choice to its next ambiguous time."""
        start_twice = self.timed and is_ambiguous(self.start, zone(self.timezone))
        end_twice = self.timed and self.end is not None and is_ambiguous(self.end,
                                                                         zone(self.end_timezone or self.timezone))
        return replace(self, start_occurrence=self.start_occurrence if start_twice else None,
                       end_occurrence=self.end_occurrence if end_twice else None)

    def _check_times(self) -> None:
        if self.start is None:
            if self.end is not None:
                raise InvalidItem("An item with an end needs a start.", code="invalid-times")
            return
        if isinstance(self.start, datetime) != isinstance(self.end, datetime) and self.end is not None:
            raise InvalidItem("start and end must both be times or both be dates.", code="invalid-times")
        if self.end_timezone and not isinstance(self.start, datetime):
            raise InvalidItem("end_timezone needs timed start and end.", code="invalid-times")
        if self.timed:
            to_utc(self.start, zone(self.timezone), "start", self.start_occurrence, strict=True)
            if self.end is not None:
                to_utc(self.end, zone(self.end_timezone or self.timezone), "end", self.end_occurrence, strict=True)
        start, end = self.start_utc, self.end_utc
        if end is not None and end < start:
            where = f" (in {self.end_timezone})" if self.end_timezone else ""
            raise InvalidItem(f"end {self.end.isoformat()}{where} is before start {self.start.isoformat()} "
                              f"(in {self.timezone}).", code="end-before-start")

    # --- the UTC timeline -------------------------------------------------------------------------------------

    @property
    def timed(self) -> bool:
        return isinstance(self.start, datetime)

    @property
    def start_utc(self) -> datetime | None:
        if self.start is None:
            return None
        if self.timed:
            return to_utc(self.start, zone(self.timezone), "start", self.start_occurrence)
        return datetime.combine(self.start, datetime.min.time()).replace(tzinfo=zone(self.timezone)) \
            .astimezone(UTC)

    @property
    def end_utc(self) -> datetime | None:
        """The end instant; an untimed item lasts to the end of its last day."""
        if self.start is None:
            return None
        if not self.timed:
            last_day = self.end or self.start
            return datetime.combine(last_day + timedelta(days=1), datetime.min.time()) \
                .replace(tzinfo=zone(self.timezone)).astimezone(UTC)
        if self.end is None:
            return self.start_utc
        return to_utc(self.end, zone(self.end_timezone or self.timezone), "end", self.end_occurrence)

    @property
    def start_day(self) -> date | None:
        """The local day the item starts on, where it starts."""
        if self.start is None:
            return None
        return self.start.date() if self.timed else self.start

    @property
    def end_day(self) -> date | None:
        """The local day the item ends on, where it ends (a flight's arrival day at its destination)."""
        if self.start is None:
            return None
        if self.end is None:
            return self.start_day
        return self.end.date() if self.timed else self.end

    def outside(self, first_day: date | None, last_day: date | None) -> bool:
        """Whether the item starts before ``first_day`` or ends after ``last_day``, in its own local days."""
        return self.start is not None and bool((first_day and self.start_day < first_day)
                                               or (last_day and self.end_day > last_day))

    @property
    def arrival_location(self) -> Location | None:
        return self.end_location or self.location

    def describe_when(self) -> str:
        if self.start is None:
            return "unscheduled"
        if not self.timed:
            return self.start.isoformat() + (f" to {self.end.isoformat()}" if self.end and self.end != self.start
                                              else "")
        text = f"{self.start.isoformat(sep=' ', timespec='minutes')} {self.timezone}"
        if self.end:
            text += f" to {self.end.isoformat(sep=' ', timespec='minutes')} {self.end_timezone or self.timezone}"
        return text


EDITABLE_ITEM_FIELDS = ("title", "start", "end", "timezone", "end_timezone", "location", "end_location", "mode",
                        "vendor", "cost", "notes", "client_note", "requires_booking", "start_occurrence",
                        "end_occurrence", "travellers")
# Changing only these leaves what a client sees as it was: the calendar's SEQUENCE stays.
INTERNAL_ITEM_FIELDS = ("notes",)
# What the client's pages, calendar and PDF show of an item (never its cost, vendor or notes).
CLIENT_ITEM_FIELDS = ("kind", "title", "start", "end", "timezone", "end_timezone", "location", "end_location",
                      "mode", "client_note", "start_occurrence", "end_occurrence")


def _location(value) -> Location | None:
    if value is None or isinstance(value, Location):
        return value
    if not isinstance(value, dict):
        raise InvalidItem("A location is {address, lat, lon}.", code="invalid-location")
    address = (value.get("address") or "").strip() or None
    location = Location(address, value.get("lat"), value.get("lon"))
    if address is None and not location.has_coordinates:
        return None
    return location


def parse_local(value: str | date | datetime | None, what: str) -> datetime | date | None:
    """'2026-05-01T09:30' is a local time, '2026-05-01' a whole day. An offset or 'Z' is refused: the time zone
    is the item's ``timezone``, and a second source of truth would disagree with it sooner or later."""
    if value is None or isinstance(value, (date, datetime)):
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise InvalidItem(f"{what} must be a local time without an offset.", code="invalid-times")
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidItem(f"{what} {text!r} is not an ISO date (2026-05-01) or local time (2026-05-01T09:30).",
                          code="invalid-times") from None
    if parsed.tzinfo is not None:
        raise InvalidItem(f"{what} {text!r} has a UTC offset; give the local time and the item's timezone.",
                          code="invalid-times")
    return parsed.replace(second=0, microsecond=0)


def item_order(item: Item) -> tuple:
    """Timeline order: scheduled items by their instant, untimed ones within their day, unscheduled last."""
    start = item.start_utc
    return (start is None, start or datetime.max.replace(tzinfo=UTC), item.timed, item.title, item.id)

