"""What a client hears when their trip changes after they approved it. Plain Python: no I/O.

An ``itinerary.changed`` event says, field by field, what was and what is. This module keeps only what a client can
see (what, when, where: never notes, costs or vendors' terms), nets out several changes to one thing within a digest,
decides what cannot wait for the digest, and words each change in the reader's language, times in the place's own
zone, named ("Your flight BA5 now leaves at 19:50 London time instead of 20:20").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from trip_shared.local_time import duration_label, long_date, span_label
from trip_shared.wording import place_label

# The client approved the trip from here on: what changes now changes what they agreed to.
CLIENT_STAGES = ("approved", "booked", "in_progress")
# A change to anything happening this soon goes at once, never in a digest.
URGENT_WITHIN = timedelta(hours=48)
ITEM_FIELDS = ("kind", "title", "start", "end", "timezone", "end_timezone", "place", "end_place")
# The itinerary's own item record names places "location"; its public snapshot names them "place".
_RENAMED = {"location": "place", "end_location": "end_place"}
NOUNS = {"en": {"flight": "flight", "transfer": "transfer"}, "zh-Hans": {"flight": "航班", "transfer": "接送"}}
# A new start or end, by what moved: a flight or transfer leaves and a flight lands; a stay's check-in and out.
RETIMED = {
    "en": {("start", "noun"): "Your {noun} {title} now leaves {new} instead of {old}.",
           ("start", "accommodation"): "Check-in at {title} is now {new} instead of {old}.",
           ("start", None): "{title} now starts {new} instead of {old}.",
           ("end", "flight"): "Your flight {title} now lands {new} instead of {old}.",
           ("end", "accommodation"): "Check-out at {title} is now {new} instead of {old}.",
           ("end", None): "{title} now ends {new} instead of {old}."},
    "zh-Hans": {("start", "noun"): "您的{noun} {title} 改为{new}出发，原为{old}。",
                ("start", "accommodation"): "{title} 的入住时间改为{new}，原为{old}。",
                ("start", None): "{title} 改为{new}开始，原为{old}。",
                ("end", "flight"): "您的航班 {title} 改为{new}抵达，原为{old}。",
                ("end", "accommodation"): "{title} 的退房时间改为{new}，原为{old}。",
                ("end", None): "{title} 的结束时间改为{new}，原为{old}。"},
}


@dataclass(frozen=True)
class TripChange:
    """One thing that changed, as the client sees it: ``key`` is ``items.<id>``, ``trip.dates``, ``trip.title`` or
    ``trip.cancelled``; ``before``/``after`` are None when the thing was added/removed."""

    key: str
    before: dict | None
    after: dict | None

    def as_dict(self) -> dict:
        return {"key": self.key, "before": self.before, "after": self.after}

    @classmethod
    def of(cls, document: dict) -> TripChange:
        return cls(document["key"], document.get("before"), document.get("after"))

    @property
    def instants(self) -> list[datetime]:
        return [moment for view in (self.before, self.after) if view and (moment := starts_at(view))]


def _minutes(value: str | None) -> str | None:
    """A local time as the itinerary stores it (``2027-10-01T20:20:00``) or publishes it (``…T20:20``): one form."""
    if not value or len(value) == 10:
        return value
    return datetime.fromisoformat(value).isoformat(timespec="minutes")


def item_view(snapshot: dict) -> dict:
    """The client-visible facts of an item, from either form the itinerary gives it in."""
    view = {_RENAMED.get(name, name): value for name, value in snapshot.items()
            if _RENAMED.get(name, name) in ITEM_FIELDS}
    view["start"], view["end"] = _minutes(view.get("start")), _minutes(view.get("end"))
    for name in ("place", "end_place"):
        if view.get(name):
            view[name] = {k: view[name].get(k) for k in ("address", "lat", "lon")}
    return {name: view.get(name) for name in ITEM_FIELDS}


def starts_at(view: dict) -> datetime | None:
    """When an item starts, as an instant (an untimed day: its local midnight)."""
    start, zone = view.get("start"), view.get("timezone")
    if not start or not zone:
        return None
    local = datetime.fromisoformat(start) if len(start) > 10 else datetime.combine(date.fromisoformat(start),
                                                                                  datetime.min.time())
    return local.replace(tzinfo=ZoneInfo(zone))


def changes_in(event_changes: list[dict], items_after: list[dict], stage_after: str) -> list[TripChange]:
    """The client-visible changes one ``itinerary.changed`` event records (nothing before approval)."""
    cancelled = [c for c in event_changes if c["field"] == "stage" and c.get("after") == "cancelled"
                 and c.get("before") in CLIENT_STAGES]
    if cancelled:
        return [TripChange("trip.cancelled", {"stage": cancelled[0]["before"]}, None)]
    if stage_after not in CLIENT_STAGES:
        return []
    found: list[TripChange] = []
    current = {item["item_id"]: item_view(item) for item in items_after}
    per_item: dict[str, dict] = {}
    dates_before, dates_after = {}, {}
    for change in event_changes:
        field = change["field"]
        parts = field.split(".")
        if field in ("start_date", "end_date"):
            dates_before[field], dates_after[field] = change.get("before"), change.get("after")
        elif field == "title":
            found.append(TripChange("trip.title", {"title": change.get("before")}, {"title": change.get("after")}))
        elif parts[0] == "items" and len(parts) == 2:
            before = item_view(change["before"]) if change.get("before") else None
            after = current.get(parts[1]) if change.get("after") is not None else None
            found.append(TripChange(field, before, after))
        elif parts[0] == "items" and len(parts) == 3 and _RENAMED.get(parts[2], parts[2]) in ITEM_FIELDS:
            per_item.setdefault(parts[1], {})[_RENAMED.get(parts[2], parts[2])] = change.get("before")
    for item_id, old_values in per_item.items():
        after = current.get(item_id)
        if after is None:
            continue
        before = item_view({**after, **old_values})
        if before != after:
            found.append(TripChange(f"items.{item_id}", before, after))
    if dates_after:
        found.insert(0, TripChange("trip.dates", dates_before, dates_after))
    return found


def net(changes: list[TripChange]) -> list[TripChange]:
    """Several changes to one thing read as one, from how it was to how it is; a change undone says nothing."""
    first: dict[str, TripChange] = {}
    last: dict[str, TripChange] = {}
    for change in changes:
        first.setdefault(change.key, change)
        last[change.key] = change
    netted = []
    for key, earliest in first.items():
        before, after = earliest.before, last[key].after
        if key == "trip.dates":
            before = {**last[key].before, **earliest.before}
        if before == after or (before is None and after is None):
            continue
        netted.append(TripChange(key, before, after))
    return sorted(netted, key=_order)


def _order(change: TripChange) -> tuple:
    if change.key.startswith("trip."):
        return (0, datetime.min.isoformat(), change.key)
    moments = change.instants
    return (1, min(moments).isoformat() if moments else "9999", change.key)


def disruption_change(incident_id: str, item: dict | None, kind: str, delay_minutes: int | None) -> TripChange:
    """Why the changes that follow it were made: a delay or cancellation of one of the trip's items."""
    return TripChange(f"trip.disruption.{incident_id}", None, {
        "title": (item or {}).get("title") or "", "item_kind": (item or {}).get("kind"), "disruption": kind,
        "delay_minutes": delay_minutes})


def is_urgent(change: TripChange, stage: str, now: datetime) -> bool:
    """Can this wait for the digest? A cancelled trip, a disruption, anything happening within 48 hours, and
    anything removed from a trip in progress cannot."""
    if change.key == "trip.cancelled" or change.key.startswith("trip.disruption."):
        return True
    if change.key.startswith("items.") and change.after is None and stage == "in_progress":
        return True
    return any(moment <= now + URGENT_WITHIN for moment in change.instants)


def digest_due(opened_at: datetime, last_change_at: datetime, quiet: timedelta, max_wait: timedelta) -> datetime:
    """A digest goes once the trip has been quiet for ``quiet``, and never later than ``max_wait`` after its
    first change (a planner editing all afternoon still lets the client hear by then)."""
    return min(last_change_at + quiet, opened_at + max_wait)


# --- in words ----------------------------------------------------------------------------------------------------

def zone_name(zone: str | None, language: str) -> str:
    """"London time" for Europe/London; in Chinese the zone's own name, "当地时间（Europe/London）"."""
    zone = zone or "UTC"
    if language == "zh-Hans":
        return f"当地时间（{zone}）"
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city} time" if "/" in zone else zone


def _when(view: dict, which: str, language: str, *, with_day: bool) -> str:
    value = view.get(which)
    zone = view.get("end_timezone") if which == "end" and view.get("end_timezone") else view.get("timezone")
    if not value:
        return "—"
    if len(value) == 10:
        day = long_date(date.fromisoformat(value), language)
        return day if language == "zh-Hans" else f"on {day}"
    moment = datetime.fromisoformat(value)
    day = long_date(moment.date(), language)
    if language == "zh-Hans":
        return f"{day + ' ' if with_day else ''}{zone_name(zone, language)} {moment:%H:%M}"
    return f"{'on ' + day + ' ' if with_day else ''}at {moment:%H:%M} {zone_name(zone, language)}"


def _old_when(before: dict, after: dict, which: str, language: str) -> str:
    """The old time, as short as it can be read unambiguously next to the new one ("instead of 20:20")."""
    old, new = before.get(which) or "", after.get(which) or ""
    same_zone = before.get("timezone") == after.get("timezone") and before.get("end_timezone") == after.get(
        "end_timezone")
    if len(old) > 10 and old[:10] == new[:10] and same_zone:
        return f"{datetime.fromisoformat(old):%H:%M}"
    return _when(before, which, language, with_day=True).removeprefix("on ")


def _retimed(before: dict, after: dict, which: str, language: str) -> str:
    title, kind = after["title"], after.get("kind")
    day_changed = (before.get(which) or "")[:10] != (after.get(which) or "")[:10]
    new = _when(after, which, language, with_day=day_changed or len(after.get(which) or "") == 10)
    old = _old_when(before, after, which, language)
    noun = NOUNS.get(language, NOUNS["en"]).get(kind or "")
    if which == "start":
        shape = "noun" if noun else ("accommodation" if kind == "accommodation" else None)
    else:
        shape = kind if kind in ("flight", "accommodation") else None
    phrases = RETIMED.get(language, RETIMED["en"])
    return phrases[(which, shape)].format(noun=noun, title=title, new=new, old=old)


def describe(change: TripChange, language: str, trip_title: str = "") -> str:
    """One change as one line the client reads."""
    zh = language == "zh-Hans"
    before, after = change.before or {}, change.after or {}
    if change.key == "trip.cancelled":
        return ("您的行程已取消。您的旅行顾问会尽快与您联系，说明后续安排。" if zh else
                "Your trip has been cancelled. Your planner will contact you about what happens next.")
    if change.key.startswith("trip.disruption."):
        return _disrupted(after, language)
    if change.key == "trip.title":
        return (f"行程名称改为「{after.get('title')}」（原为「{before.get('title')}」）。" if zh else
                f"Your trip is now called \"{after.get('title')}\" (was \"{before.get('title')}\").")
    if change.key == "trip.dates":
        def span(dates: dict) -> str:
            start, end = dates.get("start_date"), dates.get("end_date")
            return (" 至 " if zh else " to ").join(long_date(date.fromisoformat(d), language) for d in (start, end)
                                                   if d) or "—"
        return (f"行程日期改为 {span(after)}（原为 {span(before)}）。" if zh else
                f"Your trip now runs {span(after)} (was {span(before)}).")
    if not change.before:
        when = span_label(after.get("start"), after.get("end"), after.get("timezone"), after.get("end_timezone"),
                          language)
        return f"新增：{after['title']}，{when}。" if zh else f"Added: {after['title']}, {when}."
    if not change.after:
        when = span_label(before.get("start"), before.get("end"), before.get("timezone"),
                          before.get("end_timezone"), language)
        return f"已取消：{before['title']}（原定 {when}）。" if zh else f"Cancelled: {before['title']} (was {when})."
    sentences = []
    if before.get("title") != after.get("title"):
        sentences.append(f"「{before['title']}」改为「{after['title']}」。" if zh else
                         f"{before['title']} is now {after['title']}.")
    for which in ("start", "end"):
        if before.get(which) != after.get(which) or (which == "start" and before.get("timezone") != after.get(
                "timezone")):
            if which == "end" and before.get("start") != after.get("start") and _same_length(before, after):
                continue  # the whole item moved: its new start says it
            sentences.append(_retimed(before, after, which, language))
    for which in ("place", "end_place"):
        if before.get(which) != after.get(which) and after.get(which):
            new, old = place_label(after.get(which)), place_label(before.get(which)) or "—"
            if which == "end_place":
                sentences.append(f"{after['title']} 的终点改为 {new}，原为 {old}。" if zh else
                                 f"{after['title']} now ends at {new} (was {old}).")
            else:
                sentences.append(f"{after['title']} 的地点改为 {new}，原为 {old}。" if zh else
                                 f"{after['title']} is now at {new} (was {old}).")
    return "" if zh and not sentences else " ".join(sentences)


def _disrupted(what: dict, language: str) -> str:
    zh = language == "zh-Hans"
    noun = NOUNS[language].get(what.get("item_kind") or "")
    subject = (f"您的{noun} {what['title']}" if zh else f"Your {noun} {what['title']}") if noun else what["title"]
    if what.get("disruption") == "cancellation":
        return f"{subject} 已取消。我们已为您调整安排：" if zh else \
            f"{subject} is cancelled. We have rearranged your plans:"
    by = duration_label(what.get("delay_minutes") or 0, language)
    return f"{subject} 延误 {by}。我们已为您调整后续安排：" if zh else \
        f"{subject} is delayed by {by}. We have moved what follows:"


def _same_length(before: dict, after: dict) -> bool:
    """Whether an item kept its length when it moved (then its new end needs no sentence of its own)."""
    try:
        return (datetime.fromisoformat(before["end"]) - datetime.fromisoformat(before["start"])
                == datetime.fromisoformat(after["end"]) - datetime.fromisoformat(after["start"]))
    except (KeyError, TypeError, ValueError):
        return False
