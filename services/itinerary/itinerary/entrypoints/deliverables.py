"""What the client receives: the itinerary as an iCalendar (RFC 5545) feed, and as a printable PDF.

Each timed item keeps its own zone (DTSTART;TZID=Europe/London, a flight's DTEND in the zone it lands in), and
every zone used comes with a VTIMEZONE holding the UTC-offset changes of the trip's period, so calendar
applications show the times the client will see on the ground. Untimed items are all-day events, never midnight.
"""
from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

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


# --- PDF ---------------------------------------------------------------------------------------------------------

# Chinese text uses a standard CID font that every PDF reader supplies (nothing to embed or install); Latin text
# uses Helvetica, so accented names keep their accents.
CJK_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
_CJK = re.compile(r"([\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+)")
PDF_TEXT = {
    "en": {"days": "Day {n} · {date}", "when": "When", "what": "What", "where": "Where", "untimed": "Any time",
           "unscheduled": "Not yet scheduled", "version": "Version {v}, {at}", "to": "to", "arrives": "arrives",
           "check_in": "check-in", "check_out": "check-out", "until": "until"},
    "zh-Hans": {"days": "第{n}天 · {date}", "when": "时间", "what": "安排", "where": "地点", "untimed": "全天",
                "unscheduled": "待定", "version": "版本 {v}，{at}", "to": "至", "arrives": "抵达", "check_in": "入住",
                "check_out": "退房", "until": "至"},
}


def _rich(text: str | None) -> str:
    """Paragraph markup with CJK runs in the CJK font."""
    return _CJK.sub(lambda m: f'<font name="{CJK_FONT}">{m.group(1)}</font>', escape(text or ""))


def itinerary_pdf(itinerary: Itinerary, language: str = "en") -> bytes:
    text = PDF_TEXT.get(language, PDF_TEXT["en"])
    title = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=18, leading=22, spaceAfter=4 * mm)
    heading = ParagraphStyle("day", fontName="Helvetica-Bold", fontSize=12, leading=15, spaceBefore=5 * mm,
                             spaceAfter=2 * mm)
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=8, textColor=colors.grey)
    story = [Paragraph(_rich(itinerary.title), title)]
    if itinerary.start_date:
        story.append(Paragraph(_rich(f"{itinerary.start_date} {text['to']} {itinerary.end_date or ''}"), body))
    first_day = itinerary.start_date
    for day, entries in itinerary.days():
        number = (day - first_day).days + 1 if first_day else ""
        story.append(Paragraph(_rich(text["days"].format(n=number, date=_long_date(day, language))), heading))
        rows = [[Paragraph(f"<b>{_rich(text[name])}</b>", body) for name in ("when", "what", "where")]]
        for item, role in entries:
            if role == "continues":
                continue
            rows.append([Paragraph(_rich(local_time_label(item, role, text)), body),
                         Paragraph(_rich(item.title) + (f"<br/>{_rich(item.vendor)}" if item.vendor else "")
                                   + (f'<br/><font size="8">{_rich(item.notes)}</font>' if item.notes else ""), body),
                         Paragraph(_rich(place_label(item, role)), body)])
        table = Table(rows, colWidths=[38 * mm, 82 * mm, 55 * mm], repeatRows=1)
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                                   ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey)]))
        story.append(table)
    unscheduled = [item for item in itinerary.items if item.start is None]
    if unscheduled:
        story.append(Paragraph(_rich(text["unscheduled"]), heading))
        story += [Paragraph(_rich(item.title), body) for item in unscheduled]
    footer = text["version"].format(v=itinerary.version, at=itinerary.updated_at.date())
    story += [Spacer(1, 6 * mm), Paragraph(_rich(footer), small)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=itinerary.title, leftMargin=16 * mm, rightMargin=16 * mm,
                      topMargin=16 * mm, bottomMargin=16 * mm).build(story)
    return buffer.getvalue()


def _long_date(day: date, language: str) -> str:
    if language == "zh-Hans":
        return f"{day.year}年{day.month}月{day.day}日 周{'一二三四五六日'[day.weekday()]}"
    return day.strftime("%a %d %b %Y")


def local_time_label(item: Item, role: str, words: dict) -> str:
    """An item's time as the client lives it on that day: "10:00–12:00", "arrives 15:30 (Asia/Tokyo)", with
    the zone wherever it changes on the way. ``words`` holds untimed, arrives, check_in, check_out, until."""
    if not item.timed:
        return words["untimed"]
    if role == "ends":
        word = {"flight": words["arrives"], "accommodation": words["check_out"]}.get(item.kind, words["until"])
        zone = f" ({item.end_timezone})" if item.end_timezone else ""
        return f"{word} {item.end:%H:%M}{zone}"
    if item.kind == "accommodation":
        return f"{words['check_in']} {item.start:%H:%M}"
    if item.end and item.end_day == item.start_day and not item.end_timezone:
        return f"{item.start:%H:%M}–{item.end:%H:%M}"
    return f"{item.start:%H:%M}" + (f" ({item.timezone})" if item.end_timezone else "")


def place_label(item: Item, role: str) -> str:
    """Where the client is for that entry: the arrival point on the day an item ends there."""
    location = item.arrival_location if role == "ends" else item.location
    return location.address if location and location.address else ""
