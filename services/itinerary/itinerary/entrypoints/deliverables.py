"""What the client receives: the itinerary as an iCalendar (RFC 5545) feed.

Each timed item keeps its own zone (DTSTART;TZID=Europe/London, a flight's DTEND in the zone it lands in), and
every zone used comes with a VTIMEZONE holding the UTC-offset changes of the trip's period, so calendar
applications show the times the client will see on the ground. Untimed items are all-day events, never midnight.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from itinerary.domain.items import Item
from itinerary.domain.model import Itinerary

PRODUCT_ID = "-//Trip Desk//Itinerary//EN"


def calendar_feed(itinerary: Itinerary) -> str:
    scheduled = [item for item in itinerary.items if item.start is not None]
    zones = sorted({zone for item in scheduled if item.timed for zone in (item.timezone, item.end_timezone) if zone})
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT_ID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{_text(itinerary.title)}"]
    if scheduled:
        first = min(item.start_utc for item in scheduled) - timedelta(days=1)
        last = max(item.end_utc for item in scheduled) + timedelta(days=1)
        for zone in zones:
            lines += _vtimezone(zone, first, last)
    stamp = _utc(itinerary.updated_at)
    for item in scheduled:
        lines += ["BEGIN:VEVENT", f"UID:{item.id}@{itinerary.id}", f"DTSTAMP:{stamp}",
                  f"SEQUENCE:{itinerary.version}", f"SUMMARY:{_text(item.title)}"]
        if item.timed:
            lines.append(f"DTSTART;TZID={item.timezone}:{item.start:%Y%m%dT%H%M%S}")
            end = item.end or item.start
            lines.append(f"DTEND;TZID={item.end_timezone or item.timezone}:{end:%Y%m%dT%H%M%S}")
        else:
            lines.append(f"DTSTART;VALUE=DATE:{item.start:%Y%m%d}")
            lines.append(f"DTEND;VALUE=DATE:{(item.end or item.start) + timedelta(days=1):%Y%m%d}")
        if item.location and item.location.address:
            lines.append(f"LOCATION:{_text(item.location.address)}")
        if item.location and item.location.has_coordinates:
            lines.append(f"GEO:{item.location.lat:.6f};{item.location.lon:.6f}")
        description = _description(item)
        if description:
            lines.append(f"DESCRIPTION:{_text(description)}")
        lines.append(f"CATEGORIES:{item.kind.upper()}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _description(item: Item) -> str:
    parts = []
    if item.end_location and item.end_location.address:
        parts.append(f"To: {item.end_location.address}")
    if item.vendor:
        parts.append(f"With: {item.vendor}")
    if item.notes:
        parts.append(item.notes)
    return "\n".join(parts)


def _vtimezone(name: str, first: datetime, last: datetime) -> list[str]:
    """The zone's offsets over the trip: one STANDARD/DAYLIGHT block per change, found hour by hour then to the
    minute, so zones with half-hour offsets or odd rules come out right."""
    zone = ZoneInfo(name)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    offset = first.astimezone(zone).utcoffset()
    lines += _observance(zone, first, offset, offset)
    moment = first
    while moment < last:
        step = moment + timedelta(hours=1)
        if step.astimezone(zone).utcoffset() != offset:
            low, high = moment, step
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if middle.astimezone(zone).utcoffset() == offset else (low, middle)
            new_offset = high.astimezone(zone).utcoffset()
            lines += _observance(zone, high, offset, new_offset)
            offset = new_offset
        moment = step
    lines.append("END:VTIMEZONE")
    return lines


def _observance(zone: ZoneInfo, at: datetime, before: timedelta, after: timedelta) -> list[str]:
    local = at.astimezone(zone)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    # DTSTART of an observance is the local time in the offset in force before it.
    onset = (at + before).replace(tzinfo=None)
    return [f"BEGIN:{kind}", f"DTSTART:{onset:%Y%m%dT%H%M%S}", f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after)}", f"TZNAME:{local.tzname()}", f"END:{kind}"]


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)
