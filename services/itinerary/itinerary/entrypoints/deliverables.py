"""What the client receives: the itinerary as an iCalendar (RFC 5545) feed, and as a printable PDF.

Each timed item keeps its own zone (DTSTART;TZID=Europe/London, a flight's DTEND in the zone it lands in), and
every zone used comes with a VTIMEZONE holding the UTC-offset changes of the trip's period, so calendar
applications show the times the client will see on the ground. Untimed items are all-day events, never midnight.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from itinerary.domain.items import Item
from itinerary.domain.model import Itinerary
from itinerary.service_layer.services import ItineraryView, RenderDocuments
from trip_shared.agency import AgencyDirectory, AgencyProfile
from trip_shared.contracts.itinerary import IssuedDocument
from trip_shared.local_time import long_date
from trip_shared.pdf import LATIN, LATIN_BOLD, a4_document, register_fonts, rich

PRODUCT_ID = "-//Trip Desk//Itinerary//EN"
CLIENT_LANGUAGES = ("en", "zh-Hans")


@dataclass(frozen=True)
class ClientContext:
    """What every deliverable says beside the items: who travels, who arranged it and how to reach them, and
    which bookings are confirmed."""

    travellers: list[str] = field(default_factory=list)
    agency: AgencyProfile | None = None
    confirmed_item_ids: frozenset[str] = frozenset()
    language: str = "en"

    @property
    def words(self) -> dict:
        return WORDS.get(self.language, WORDS["en"])

    def header_lines(self) -> list[str]:
        lines = [self.words["travellers"].format(names=", ".join(self.travellers))] if self.travellers else []
        return lines + (self.agency.support_lines(self.language) if self.agency else [])


async def client_context(request: Request, view: ItineraryView, language: str) -> ClientContext:
    return _context(view, await request.app.state.runtime.agencies.for_tenant(view.itinerary.tenant_id), language)


def _context(view: ItineraryView, agency: AgencyProfile | None, language: str) -> ClientContext:
    return ClientContext(travellers=view.traveller_names, agency=agency,
                         confirmed_item_ids=frozenset(view.confirmed_item_ids), language=language)


def final_documents(agencies: AgencyDirectory) -> RenderDocuments:
    """The renderer of a trip's final documents: its PDF and calendar in every language a client reads, with the
    agency's contacts as its pages show them."""
    async def render(view: ItineraryView) -> list[IssuedDocument]:
        agency = await agencies.for_tenant(view.itinerary.tenant_id)
        name = _file_name(view.itinerary.title)
        documents = []
        for language in CLIENT_LANGUAGES:
            context = _context(view, agency, language)
            # A long trip's PDF takes a while: rendered off the event loop, which keeps serving.
            pdf = await asyncio.to_thread(itinerary_pdf, view.itinerary, context)
            suffix = "" if language == "en" else f" ({WORDS[language]['language']})"
            documents += [
                IssuedDocument(language=language, kind="pdf", filename=f"{name}{suffix}.pdf",
                               media_type="application/pdf", content=pdf),
                IssuedDocument(language=language, kind="calendar", filename=f"{name}{suffix}.ics",
                               media_type="text/calendar", content=calendar_feed(view.itinerary, context).encode()),
            ]
        return documents

    return render


def _file_name(title: str) -> str:
    """The trip's title as a file name every system accepts: no path separators or control characters."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip(" .")
    return re.sub(r"\s+", " ", cleaned)[:80] or "Itinerary"


def calendar_feed(itinerary: Itinerary, context: ClientContext) -> str:
    words = context.words
    scheduled = [item for item in itinerary.items if item.start is not None]
    zones = sorted({zone for item in scheduled if item.timed for zone in (item.timezone, item.end_timezone) if zone})
    about = context.header_lines()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT_ID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{_text(itinerary.title)}"]
    if about:
        lines.append(f"X-WR-CALDESC:{_text(chr(10).join(about))}")
    if scheduled:
        first = min(item.start_utc for item in scheduled) - timedelta(days=1)
        last = max(item.end_utc for item in scheduled) + timedelta(days=1)
        for zone in zones:
            lines += _vtimezone(zone, first, last)
    stamp = _utc(itinerary.updated_at)
    for item in scheduled:
        # Tentative until its booking is confirmed; SEQUENCE counts the item's own changes, so a calendar updates
        # only the events that changed.
        status = "TENTATIVE" if item.requires_booking and item.id not in context.confirmed_item_ids else "CONFIRMED"
        lines += ["BEGIN:VEVENT", f"UID:{item.id}@{itinerary.id}", f"DTSTAMP:{stamp}",
                  f"SEQUENCE:{item.sequence}", f"STATUS:{status}", f"SUMMARY:{_text(item.title)}"]
        if item.timed:
            lines.append(_timed("DTSTART", item.start, item.timezone, item.start_occurrence, item.start_utc))
            if item.end is None:
                lines.append(_timed("DTEND", item.start, item.timezone, item.start_occurrence, item.start_utc))
            else:
                lines.append(_timed("DTEND", item.end, item.end_timezone or item.timezone, item.end_occurrence,
                                    item.end_utc))
        else:
            lines.append(f"DTSTART;VALUE=DATE:{item.start:%Y%m%d}")
            lines.append(f"DTEND;VALUE=DATE:{(item.end or item.start) + timedelta(days=1):%Y%m%d}")
        if item.location and item.location.address:
            lines.append(f"LOCATION:{_text(item.location.address)}")
        if item.location and item.location.has_coordinates:
            lines.append(f"GEO:{item.location.lat:.6f};{item.location.lon:.6f}")
        description = "\n".join(filter(None, [_description(item, words), *about]))
        if description:
            lines.append(f"DESCRIPTION:{_text(description)}")
        lines.append(f"CATEGORIES:{item.kind.upper()}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _timed(name: str, local: datetime, zone: str, occurrence: str | None, instant: datetime) -> str:
    """A local time in its zone; the second pass through a repeated hour can't be written that way (RFC 5545
    reads an ambiguous local time as the first), so it is written as the UTC instant."""
    if occurrence == "second":
        return f"{name}:{_utc(instant)}"
    return f"{name};TZID={zone}:{local:%Y%m%dT%H%M%S}"


def _description(item: Item, words: dict) -> str:
    """What the client reads about an item: where it goes, with whom, the planner's note for them; never the
    planner's internal notes."""
    parts = []
    if item.end_location and item.end_location.address:
        parts.append(f"{words['to_place']}{item.end_location.address}")
    if item.vendor:
        parts.append(f"{words['with']}{item.vendor}")
    if item.client_note:
        parts.append(item.client_note)
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


# --- words every deliverable shares -----------------------------------------------------------------------------

WORDS = {
    "en": {"days": "Day {n} · {date}", "when": "When", "what": "What", "where": "Where", "untimed": "Any time",
           "unscheduled": "Not yet scheduled", "version": "Version {v}, {at}", "to": "to", "arrives": "arrives",
           "departs": "departs", "check_in": "check-in", "check_out": "check-out", "until": "until",
           "travellers": "Travellers: {names}", "to_place": "To: ", "with": "With: ", "overnight": "Overnight",
           "language": "English"},
    "zh-Hans": {"days": "第{n}天 · {date}", "when": "时间", "what": "安排", "where": "地点", "untimed": "全天",
                "unscheduled": "待定", "version": "版本 {v}，{at}", "to": "至", "arrives": "抵达", "departs": "出发",
                "check_in": "入住", "check_out": "退房", "until": "至", "travellers": "出行人：{names}",
                "to_place": "前往：", "with": "服务方：", "overnight": "住宿",
                "language": "中文"},
}


def local_time_label(item: Item, role: str, language: str) -> str:
    """An item's time as the client lives it on that day, always with the zone it is in: "10:00–12:00
    (Asia/Tokyo)"; a flight with where it lands, "departs 09:00 (Asia/Tokyo) → arrives 10:25 (Asia/Seoul)"."""
    words = WORDS.get(language, WORDS["en"])
    if role == "continues":
        return words["overnight"]
    if not item.timed:
        return words["untimed"]
    start_zone, end_zone = item.timezone, item.end_timezone or item.timezone
    if role == "ends":
        word = {"flight": words["arrives"], "accommodation": words["check_out"]}.get(item.kind, words["until"])
        return f"{word} {item.end:%H:%M} ({end_zone})"
    if item.kind == "accommodation":
        return f"{words['check_in']} {item.start:%H:%M} ({start_zone})"
    departs = f"{words['departs']} " if item.kind == "flight" else ""
    if item.end is None:
        return f"{departs}{item.start:%H:%M} ({start_zone})"
    if item.kind != "flight" and end_zone == start_zone and item.end_day == item.start_day:
        return f"{item.start:%H:%M}–{item.end:%H:%M} ({start_zone})"
    arrives = f"{words['arrives']} " if item.kind == "flight" else ""
    on_day = "" if item.end_day == item.start_day else f"{_short_date(item.end_day, language)} "
    return f"{departs}{item.start:%H:%M} ({start_zone}) → {arrives}{on_day}{item.end:%H:%M} ({end_zone})"


def _short_date(day: date, language: str) -> str:
    return f"{day.month}月{day.day}日" if language == "zh-Hans" else day.strftime("%d %b")


def place_label(item: Item, role: str) -> str:
    """Where the client is for that entry: the way from origin to destination on the day it starts, the arrival
    point on the day it ends there."""
    if role in ("ends", "continues"):
        location = item.arrival_location
        return location.address if location and location.address else ""
    origin = item.location.address if item.location and item.location.address else ""
    destination = item.end_location.address if item.end_location and item.end_location.address else ""
    return f"{origin} → {destination}" if origin and destination else origin or destination


# --- PDF ---------------------------------------------------------------------------------------------------------

def itinerary_pdf(itinerary: Itinerary, context: ClientContext) -> bytes:
    register_fonts()
    language, text = context.language, context.words
    title = ParagraphStyle("title", fontName=LATIN_BOLD, fontSize=18, leading=22, spaceAfter=4 * mm)
    heading = ParagraphStyle("day", fontName=LATIN_BOLD, fontSize=12, leading=15, spaceBefore=5 * mm,
                             spaceAfter=2 * mm)
    body = ParagraphStyle("body", fontName=LATIN, fontSize=9.5, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=8, textColor=colors.grey)
    story = [Paragraph(rich(itinerary.title), title)]
    if itinerary.start_date:
        story.append(Paragraph(rich(f"{itinerary.start_date} {text['to']} {itinerary.end_date or ''}"), body))
    story += [Paragraph(rich(line), body) for line in context.header_lines()]
    first_day = itinerary.start_date
    for day, entries in itinerary.days():
        number = (day - first_day).days + 1 if first_day else ""
        story.append(Paragraph(rich(text["days"].format(n=number, date=long_date(day, language))), heading))
        rows = [[Paragraph(f"<b>{rich(text[name])}</b>", body) for name in ("when", "what", "where")]]
        for item, role in entries:
            what = rich(item.title) + (f"<br/>{rich(item.vendor)}" if item.vendor else "")
            if item.client_note and role == "starts":
                what += f'<br/><font size="8">{rich(item.client_note)}</font>'
            rows.append([Paragraph(rich(local_time_label(item, role, language)), body), Paragraph(what, body),
                         Paragraph(rich(place_label(item, role)), body)])
        table = Table(rows, colWidths=[46 * mm, 76 * mm, 56 * mm], repeatRows=1)
        # The cells' own font (Helvetica unless told) would be added to the PDF unembedded, though unused.
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), LATIN),
                                   ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                                   ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey)]))
        story.append(table)
    unscheduled = [item for item in itinerary.items if item.start is None]
    if unscheduled:
        story.append(Paragraph(rich(text["unscheduled"]), heading))
        story += [Paragraph(rich(item.title) + (f" · {rich(item.client_note)}" if item.client_note else ""), body)
                  for item in unscheduled]
    footer = text["version"].format(v=itinerary.version, at=itinerary.updated_at.date())
    story += [Spacer(1, 6 * mm), Paragraph(rich(footer), small)]
    return a4_document(story, itinerary.title)
