"""What a client is told when an approved trip changes: which changes, in which words, when."""
from datetime import UTC, datetime, timedelta

from notify.domain.model import Contact, Trip, render
from notify.domain.trip_changes import (
    TripChange,
    changes_in,
    describe,
    digest_due,
    disruption_change,
    is_urgent,
    net,
)

FLIGHT = {"item_id": "i1", "kind": "flight", "title": "BA5", "timezone": "Europe/London",
          "start": "2027-10-01T19:50", "end": "2027-10-02T15:45", "end_timezone": "Asia/Tokyo",
          "place": {"address": "Heathrow T5"}, "end_place": {"address": "Haneda"}, "requires_booking": True}
DINNER = {"item_id": "i2", "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo",
          "start": "2027-10-03T19:00", "end": "2027-10-03T21:00", "place": {"address": "Gion, Kyoto"}}


def retimed(before="2027-10-01T20:20:00", after_item=FLIGHT):
    return changes_in([{"field": "items.i1.start", "before": before, "after": after_item["start"] + ":00"}],
                      [after_item, DINNER], "booked")


def test_a_retimed_flight_reads_in_the_places_own_time_with_the_zone_named():
    [change] = retimed()
    assert describe(change, "en") == "Your flight BA5 now leaves at 19:50 London time instead of 20:20."
    chinese = describe(change, "zh-Hans")
    assert chinese == "您的航班 BA5 改为当地时间（Europe/London） 19:50出发，原为20:20。"


def test_a_move_to_another_day_names_both_days():
    [change] = retimed(before="2027-09-30T20:20:00")
    assert describe(change, "en") == ("Your flight BA5 now leaves on Fri 01 Oct 2027 at 19:50 London time instead "
                                      "of Thu 30 Sep 2027 at 20:20 London time.")


def test_an_item_moved_whole_is_one_sentence_and_a_new_meeting_place_another():
    moved = {**DINNER, "start": "2027-10-03T20:00", "end": "2027-10-03T22:00", "place": {"address": "Pontocho"}}
    [change] = changes_in([{"field": "items.i2.start", "before": "2027-10-03T19:00:00", "after": "x"},
                           {"field": "items.i2.end", "before": "2027-10-03T21:00:00", "after": "x"},
                           {"field": "items.i2.location", "before": {"address": "Gion, Kyoto", "lat": None,
                                                                     "lon": None}, "after": {}}],
                          [FLIGHT, moved], "in_progress")
    assert describe(change, "en") == ("Kaiseki dinner now starts at 20:00 Tokyo time instead of 19:00. "
                                      "Kaiseki dinner is now at Pontocho (was Gion, Kyoto).")


def test_internal_fields_and_changes_before_approval_say_nothing():
    internal = [{"field": "items.i1.notes", "before": "VIP", "after": "upgrade pending"},
                {"field": "items.i1.cost", "before": None, "after": {"amount": "900", "currency": "GBP"}},
                {"field": "items.i1.vendor", "before": "BA", "after": "British Airways"}]
    assert changes_in(internal, [FLIGHT], "booked") == []
    assert changes_in([{"field": "items.i1.start", "before": "2027-10-01T20:20:00", "after": "x"}], [FLIGHT],
                      "planning") == []


def test_added_removed_and_a_cancelled_trip():
    added, = changes_in([{"field": "items.i2", "before": None, "after": {"notes": "secret"}}], [FLIGHT, DINNER],
                        "approved")
    assert describe(added, "en") == ("Added: Kaiseki dinner, Sun 03 Oct 2027, 19:00 (Asia/Tokyo) – 21:00 "
                                     "(Asia/Tokyo).")
    removed, = changes_in([{"field": "items.i2", "before": {**DINNER, "location": DINNER["place"], "notes": "tip 10%"},
                            "after": None}], [FLIGHT], "approved")
    assert describe(removed, "zh-Hans").startswith("已取消：Kaiseki dinner（原定 2027年10月3日")
    assert "tip" not in describe(removed, "en") and "secret" not in describe(added, "en")
    cancelled, = changes_in([{"field": "stage", "before": "booked", "after": "cancelled"}], [FLIGHT], "cancelled")
    assert cancelled.key == "trip.cancelled" and "cancelled" in describe(cancelled, "en")
    assert changes_in([{"field": "stage", "before": "planning", "after": "cancelled"}], [], "cancelled") == []


def test_several_changes_to_one_thing_net_out_and_a_change_undone_says_nothing():
    first = retimed(before="2027-10-01T20:20:00", after_item={**FLIGHT, "start": "2027-10-01T21:00"})[0]
    second = retimed(before="2027-10-01T21:00:00", after_item=FLIGHT)[0]
    [netted] = net([first, second])
    assert describe(netted, "en") == "Your flight BA5 now leaves at 19:50 London time instead of 20:20."
    back = retimed(before="2027-10-01T19:50:00", after_item={**FLIGHT, "start": "2027-10-01T20:20"})[0]
    [twice] = net([second, back])
    assert describe(twice, "en") == "Your flight BA5 now leaves at 20:20 London time instead of 21:00."
    assert net([retimed(after_item={**FLIGHT, "start": "2027-10-01T21:00"})[0],
                retimed(before="2027-10-01T21:00:00", after_item={**FLIGHT, "start": "2027-10-01T20:20"})[0]]) == []


def test_what_cannot_wait_for_the_digest():
    [flight] = retimed()
    now = datetime(2027, 9, 30, 12, tzinfo=UTC)
    assert is_urgent(flight, "booked", now)  # leaves within 48 hours
    assert not is_urgent(flight, "booked", now - timedelta(days=10))
    removed = TripChange("items.i2", {**DINNER}, None)
    assert is_urgent(removed, "in_progress", now - timedelta(days=10))
    assert not is_urgent(removed, "booked", now - timedelta(days=10))
    assert is_urgent(TripChange("trip.cancelled", {"stage": "booked"}, None), "cancelled", now - timedelta(days=90))


def test_a_disruption_says_why_first_and_goes_at_once_in_either_language():
    delayed = disruption_change("inc-1", FLIGHT, "delay", 195)
    assert describe(delayed, "en") == "Your flight BA5 is delayed by 3 h 15 min. We have moved what follows:"
    assert describe(delayed, "zh-Hans") == "您的航班 BA5 延误 3 小时15 分钟。我们已为您调整后续安排："
    cancelled = disruption_change("inc-2", DINNER, "cancellation", None)
    assert describe(cancelled, "en") == "Kaiseki dinner is cancelled. We have rearranged your plans:"
    assert is_urgent(delayed, "booked", datetime(2027, 1, 1, tzinfo=UTC)), "even months ahead: it cannot wait"
    [flight] = retimed()
    assert net([flight, delayed])[0] == delayed, "the reason reads before the changes it explains"


def test_a_digest_waits_for_a_quiet_trip_but_not_for_ever():
    opened = datetime(2027, 9, 1, 9, tzinfo=UTC)
    quiet, cap = timedelta(minutes=10), timedelta(hours=1)
    assert digest_due(opened, opened + timedelta(minutes=5), quiet, cap) == opened + timedelta(minutes=15)
    assert digest_due(opened, opened + timedelta(minutes=58), quiet, cap) == opened + cap


def test_the_digest_lists_each_change_in_the_readers_language():
    changes = [c.as_dict() for c in retimed()]
    subject, body = render("trip_changes", "zh-Hans", Contact("c1", "美", preferred_language="zh-Hans"),
                           Trip("it-1", "京都之秋"), {"changes": changes})
    assert subject == "您的行程「京都之秋」有变动" and "改为当地时间（Europe/London） 19:50出发" in body
    subject, body = render("trip_changes", "en", Contact("c1", "Mei"), Trip("it-1", "Kyoto"),
                           {"changes": changes, "urgent": True})
    assert subject == "Important: Changes to your trip Kyoto"
    assert "  - Your flight BA5 now leaves at 19:50 London time instead of 20:20." in body
