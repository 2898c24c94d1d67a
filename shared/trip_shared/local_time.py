"""Dates and times as people on the ground read them: in the place's own zone, the zone named, in their language."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

UNTIMED = {"en": "any time", "zh-Hans": "全天"}


def long_date(day: date, language: str) -> str:
    if language == "zh-Hans":
        return f"{day.year}年{day.month}月{day.day}日 周{'一二三四五六日'[day.weekday()]}"
    return day.strftime("%a %d %b %Y")


def duration_label(minutes: int, language: str) -> str:
    """A length of time as a traveller reads it: "3 h 15 min", "3 小时15 分钟"."""
    hours, rest = divmod(abs(minutes), 60)
    if language == "zh-Hans":
        return "".join(part for part in (f"{hours} 小时" if hours else "", f"{rest} 分钟" if rest else "")) or "0 分钟"
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{rest} min" if rest else "") if part) \
        or "0 min"


def span_label(start: str | None, end: str | None, timezone: str | None, end_timezone: str | None,
               language: str) -> str:
    """A local start and end (ISO local times, or days for an untimed service): "Sat 02 Oct 2027, 19:00
    (Asia/Tokyo) – 21:00 (Asia/Tokyo)"; a different end day or zone is spelled out."""
    if not start:
        return "—"
    if len(start) == 10:
        text = f"{long_date(date.fromisoformat(start), language)} · {UNTIMED.get(language, UNTIMED['en'])}"
    else:
        moment = datetime.fromisoformat(start)
        text = f"{long_date(moment.date(), language)}, {moment:%H:%M} ({timezone})"
    if end:
        if len(end) == 10:
            text += f" – {long_date(date.fromisoformat(end), language)}"
        else:
            moment = datetime.fromisoformat(end)
            day = "" if start[:10] == end[:10] else f"{long_date(moment.date(), language)}, "
            text += f" – {day}{moment:%H:%M} ({end_timezone or timezone})"
    return text


def instant_label(instant: datetime, timezone: str | None, language: str) -> str:
    """An instant (a deadline) in the zone of the place it concerns, named."""
    zone = timezone or "UTC"
    local = instant.astimezone(ZoneInfo(zone))
    return f"{long_date(local.date(), language)}, {local:%H:%M} ({zone})"


def trip_zone(items: list[dict], item_id: str | None, now: datetime, fallback: str = "UTC") -> str:
    """The zone to tell a traveller a deadline in: the item it concerns, else where the trip is now (the last item
    begun), else where it starts. ``items`` as itinerary events carry them (``item_id``, ``timezone``,
    ``starts_at``)."""
    zones = {item["item_id"]: item["timezone"] for item in items if item.get("timezone")}
    if item_id in zones:
        return zones[item_id]

    def start(item: dict) -> datetime | None:
        value = item.get("starts_at")
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    begun = [item for item in items if item.get("timezone") and (start(item) or now + timedelta(1)) <= now]
    if begun:
        return max(begun, key=start)["timezone"]
    return next(iter(zones.values()), fallback)
