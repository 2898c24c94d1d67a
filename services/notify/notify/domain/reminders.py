"""Reminders a trip's travellers get without anyone asking: when, and what they say. Plain Python: no I/O.

Before departure: a week ahead (documents, passport validity), 72 hours and 24 hours ahead (what to expect, who to
call). During the trip: each evening, a summary of tomorrow. Each goes at its time in the traveller's own zone (before
departure the one they live in, else where the trip starts; during the trip where it has them at that moment), never
in the agency's quiet hours (it waits for their end), and only while it is still useful (a week-ahead reminder is not
sent two days before).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notify.domain.trip_changes import starts_at
from trip_shared.local_time import long_date, span_label
from trip_shared.wording import place_label

REMINDER_STAGES = ("approved", "booked", "in_progress")
PRE_DEPARTURE = (("reminder_7d", timedelta(days=7)), ("reminder_72h", timedelta(hours=72)),
                 ("reminder_24h", timedelta(hours=24)))
SUMMARY_AT = time(18, 0)  # the evening before, local time
KINDS = ("reminder_7d", "reminder_72h", "reminder_24h", "day_summary")


@dataclass(frozen=True)
class Reminder:
    kind: str
    key: str  # one per trip and kind: "departure" or the day summarised
    due_at: datetime
    details: dict
    until: datetime  # after this it is no use any more


def _hhmm(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def outside_quiet_hours(moment: datetime, quiet_start: str | None, quiet_end: str | None) -> datetime:
    """``moment`` (aware, in the recipient's zone), moved to the end of the quiet hours if it falls within them."""
    start, end = _hhmm(quiet_start), _hhmm(quiet_end)
    if start is None or end is None or start == end:
        return moment
    local = moment.timetz().replace(tzinfo=None)
    overnight = start > end
    inside = (local >= start or local < end) if overnight else (start <= local < end)
    if not inside:
        return moment
    day = moment.date() + timedelta(days=1) if overnight and local >= start else moment.date()
    return datetime.combine(day, end, tzinfo=moment.tzinfo)


def _zone_at(items: list[dict], moment: datetime, fallback: str) -> str:
    """Where the trip has its travellers at ``moment``: the zone of the last thing begun by then (a flight's
    arrival zone once it has begun), else the first item's zone."""
    zone = None
    for item in items:
        begun = starts_at(item)
        if begun is None or begun > moment:
            continue
        zone = item.get("end_timezone") or item.get("timezone")
    if zone is None and items:
        zone = items[0].get("timezone")
    return zone or fallback


def _local_day(item: dict) -> date | None:
    start = item.get("start")
    return date.fromisoformat(start[:10]) if start else None


def schedule(items: list[dict], *, quiet_start: str | None = None, quiet_end: str | None = None,
             fallback_zone: str = "UTC", home_zone: str | None = None) -> list[Reminder]:
    """Every reminder a traveller on a trip whose items (client-visible snapshots) are ``items`` gets: when each
    goes, and until when it is still worth sending. Before departure they are at home: in ``home_zone`` when it is
    known, else where the trip starts."""
    timed = sorted((item for item in items if starts_at(item)), key=lambda item: starts_at(item))
    if not timed:
        return []
    departure = starts_at(timed[0])
    planned = []
    for index, (kind, lead) in enumerate(PRE_DEPARTURE):
        # Useful until the next one is due (the last: until departure).
        until = departure - PRE_DEPARTURE[index + 1][1] if index + 1 < len(PRE_DEPARTURE) else departure
        zone = ZoneInfo(home_zone or _zone_at(timed, departure - lead, fallback_zone))
        at = outside_quiet_hours((departure - lead).astimezone(zone), quiet_start, quiet_end)
        first_day = [item for item in timed if _local_day(item) == _local_day(timed[0])]
        planned.append(Reminder(kind, "departure", at, {"first_day": first_day,
                                                        "departure_day": timed[0]["start"][:10]}, until))
    days = sorted({day for item in timed if (day := _local_day(item))})
    for day in days[1:]:
        tomorrow = [item for item in timed if _local_day(item) == day]
        first = starts_at(tomorrow[0])
        zone = ZoneInfo(_zone_at(timed, first - timedelta(hours=12), fallback_zone))
        evening = datetime.combine(day - timedelta(days=1), SUMMARY_AT, tzinfo=zone)
        at = max(outside_quiet_hours(evening, quiet_start, quiet_end), departure - timedelta(hours=12))
        planned.append(Reminder("day_summary", day.isoformat(), at, {"day": day.isoformat(), "items": tomorrow},
                                first))
    return planned


def due_reminders(items: list[dict], stage: str, now: datetime, *, quiet_start: str | None = None,
                  quiet_end: str | None = None, fallback_zone: str = "UTC",
                  home_zone: str | None = None) -> list[Reminder]:
    """The reminders due now for a traveller on a trip at ``stage``."""
    if stage not in REMINDER_STAGES:
        return []
    return [reminder for reminder in schedule(items, quiet_start=quiet_start, quiet_end=quiet_end,
                                              fallback_zone=fallback_zone, home_zone=home_zone)
            if reminder.due_at <= now < reminder.until]


# --- in words ----------------------------------------------------------------------------------------------------

def _item_line(item: dict, language: str) -> str:
    when = span_label(item.get("start"), item.get("end"), item.get("timezone"), item.get("end_timezone"), language)
    where = place_label(item.get("place"))
    return f"{item['title']} — {when}" + (f" — {where}" if where else "")


def render_reminder(kind: str, language: str, first_name: str, title: str, dates: str,
                    details: dict) -> tuple[str, str]:
    zh = language == "zh-Hans"
    if kind == "day_summary":
        day = long_date(date.fromisoformat(details["day"]), language)
        lines = "\n".join(f"  - {_item_line(item, language)}" for item in details.get("items", []))
        if zh:
            return (f"明日行程（{day}）：{title}",
                    f"{first_name}，您好：\n\n明天（{day}）的安排如下，时间均为当地时间：\n{lines}\n\n祝您旅途愉快！\n")
        return (f"Tomorrow, {day}: {title}",
                f"Dear {first_name},\n\nHere is tomorrow, {day}, each time in the place's own zone:\n{lines}\n\n"
                "Enjoy your day!\n")
    first = "\n".join(f"  - {_item_line(item, language)}" for item in details.get("first_day", []))
    departure = long_date(date.fromisoformat(details["departure_day"]), language)
    if kind == "reminder_7d":
        if zh:
            return (f"一周后出发：{title}",
                    f"{first_name}，您好：\n\n您的行程「{title}」{dates}将于 {departure} 开始。出发前请确认：\n"
                    "  - 护照在回程后仍有至少 6 个月有效期\n  - 所需签证和入境许可已办妥\n"
                    "  - 旅行保险、预订确认和凭证已随身携带或保存在手机中\n\n"
                    f"第一天的安排：\n{first}\n\n如有任何问题，请直接回复此邮件。\n")
        return (f"One week to go: {title}",
                f"Dear {first_name},\n\nYour trip \"{title}\"{dates} starts on {departure}. Before you go, please "
                "check:\n  - your passport is valid for at least 6 months after you return\n"
                "  - any visas and entry permits you need are in place\n"
                "  - your travel insurance, booking confirmations and vouchers are with you or on your phone\n\n"
                f"Your first day:\n{first}\n\nIf anything is unclear, just reply to this e-mail.\n")
    soon = {"reminder_72h": ("three days", "3 天后"), "reminder_24h": ("tomorrow", "明天")}[kind]
    if zh:
        return (f"{soon[1]}出发：{title}",
                f"{first_name}，您好：\n\n您的行程「{title}」将于{soon[1]}（{departure}）开始。第一天的安排如下，时间均为"
                f"当地时间：\n{first}\n\n旅途中如需帮助，请联系下方的支持电话；紧急情况请拨打 24 小时紧急电话。\n")
    return (f"Your trip starts {soon[0]}: {title}",
            f"Dear {first_name},\n\nYour trip \"{title}\" starts {soon[0]}, {departure}. Your first day, each time in "
            f"the place's own zone:\n{first}\n\nDuring the trip, call the support line below for anything; in an "
            "emergency, the 24/7 number.\n")
