"""When reminders go, in whose zone, and what they say."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from notify.domain.model import Contact, Trip, render
from notify.domain.reminders import due_reminders, outside_quiet_hours

FLIGHT = {"item_id": "f", "kind": "flight", "title": "BA5", "timezone": "Europe/London", "start": "2027-10-01T19:50",
          "end": "2027-10-02T15:45", "end_timezone": "Asia/Tokyo"}
TEMPLE = {"item_id": "t", "kind": "activity", "title": "Kinkaku-ji", "timezone": "Asia/Tokyo",
          "start": "2027-10-03T09:30", "end": "2027-10-03T11:00", "place": {"address": "Kita-ku, Kyoto"}}
DINNER = {"item_id": "d", "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo",
          "start": "2027-10-03T19:00", "end": "2027-10-03T21:00"}
ITEMS = [FLIGHT, TEMPLE, DINNER]
DEPARTURE = datetime(2027, 10, 1, 19, 50, tzinfo=ZoneInfo("Europe/London"))


def kinds(now, **quiet):
    return [(r.kind, r.key) for r in due_reminders(ITEMS, "booked", now, **quiet)]


def test_pre_departure_reminders_each_in_its_window_only():
    assert kinds(DEPARTURE - timedelta(days=8)) == []
    assert kinds(DEPARTURE - timedelta(days=6)) == [("reminder_7d", "departure")]
    assert kinds(DEPARTURE - timedelta(hours=50)) == [("reminder_72h", "departure")]
    assert kinds(DEPARTURE - timedelta(hours=2)) == [("reminder_24h", "departure")]
    assert kinds(DEPARTURE - timedelta(days=6), quiet_start="22:00", quiet_end="07:30") == [
        ("reminder_7d", "departure")]
    assert due_reminders(ITEMS, "planning", DEPARTURE - timedelta(days=6)) == []


def test_a_week_ahead_reminder_is_not_sent_two_days_before():
    assert ("reminder_7d", "departure") not in kinds(DEPARTURE - timedelta(days=2))


def test_the_day_summary_goes_at_six_in_the_evening_where_the_traveller_then_is():
    tokyo = ZoneInfo("Asia/Tokyo")
    evening = datetime(2027, 10, 2, 18, 0, tzinfo=tokyo)  # they landed in Tokyo that afternoon
    assert ("day_summary", "2027-10-03") not in kinds(evening - timedelta(minutes=1))
    [summary] = [r for r in due_reminders(ITEMS, "in_progress", evening) if r.kind == "day_summary"]
    assert summary.due_at == evening and [i["title"] for i in summary.details["items"]] == ["Kinkaku-ji",
                                                                                               "Kaiseki dinner"]
    assert ("day_summary", "2027-10-03") not in kinds(datetime(2027, 10, 3, 9, 31, tzinfo=tokyo)), "too late"


def test_quiet_hours_move_a_reminder_to_their_end_in_the_recipients_zone():
    zone = ZoneInfo("Asia/Tokyo")
    assert outside_quiet_hours(datetime(2027, 10, 2, 23, 10, tzinfo=zone), "22:00", "07:30") == datetime(
        2027, 10, 3, 7, 30, tzinfo=zone)
    assert outside_quiet_hours(datetime(2027, 10, 3, 6, 0, tzinfo=zone), "22:00", "07:30") == datetime(
        2027, 10, 3, 7, 30, tzinfo=zone)
    assert outside_quiet_hours(datetime(2027, 10, 3, 12, 0, tzinfo=zone), "22:00", "07:30").hour == 12
    assert outside_quiet_hours(datetime(2027, 10, 3, 13, 0, tzinfo=zone), "12:00", "14:00").hour == 14
    # The summary's evening falls in quiet hours starting at 17:00: it goes at their end, next morning.
    [summary] = [r for r in due_reminders(ITEMS, "in_progress", datetime(2027, 10, 3, 8, tzinfo=zone),
                                          quiet_start="17:00", quiet_end="08:00") if r.kind == "day_summary"]
    assert summary.due_at == datetime(2027, 10, 3, 8, 0, tzinfo=zone)


def test_what_the_reminders_say_in_both_languages():
    [summary] = due_reminders(ITEMS, "in_progress", datetime(2027, 10, 2, 18, 5, tzinfo=ZoneInfo("Asia/Tokyo")))
    subject, body = render("day_summary", "en", Contact("c1", "Mei"), Trip("it", "Kyoto"), summary.details)
    assert subject == "Tomorrow, Sun 03 Oct 2027: Kyoto"
    assert "  - Kinkaku-ji — Sun 03 Oct 2027, 09:30 (Asia/Tokyo) – 11:00 (Asia/Tokyo) — Kita-ku, Kyoto" in body
    subject, body = render("day_summary", "zh-Hans", Contact("c1", "美"), Trip("it", "京都"), summary.details)
    assert subject == "明日行程（2027年10月3日 周日）：京都" and "Kaiseki dinner" in body
    [week] = due_reminders(ITEMS, "booked", DEPARTURE - timedelta(days=6))
    subject, body = render("reminder_7d", "en", Contact("c1", "Mei"), Trip("it", "Kyoto"), week.details)
    assert subject == "One week to go: Kyoto" and "passport is valid for at least 6 months" in body
    assert "BA5 — Fri 01 Oct 2027, 19:50 (Europe/London) – Sat 02 Oct 2027, 15:45 (Asia/Tokyo)" in body
    [day] = due_reminders(ITEMS, "booked", DEPARTURE - timedelta(hours=3))
    subject, body = render("reminder_24h", "zh-Hans", Contact("c1", "美"), Trip("it", "京都"), day.details)
    assert subject == "明天出发：京都" and "24 小时紧急电话" in body


def test_before_departure_a_reminder_goes_at_its_time_where_the_traveller_lives_outside_quiet_hours():
    from notify.domain.reminders import schedule

    def week_ahead(**zone):
        return next(r for r in schedule(ITEMS, quiet_start="22:00", quiet_end="07:30", **zone)
                    if r.kind == "reminder_7d")

    # Unknown home: where the trip starts (19:50 London time, a week before the flight).
    assert week_ahead().due_at == DEPARTURE - timedelta(days=7)
    # At home in Shanghai that moment is 02:50 at night: it waits for the end of the quiet hours there.
    shanghai = week_ahead(home_zone="Asia/Shanghai").due_at
    assert shanghai == datetime(2027, 9, 25, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert shanghai.tzinfo == ZoneInfo("Asia/Shanghai")
    # During the trip the traveller is where the trip has them, wherever they live.
    summaries = [r.due_at for r in schedule(ITEMS, home_zone="Asia/Shanghai") if r.kind == "day_summary"]
    assert summaries == [datetime(2027, 10, 2, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))]
