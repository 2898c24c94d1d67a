from datetime import UTC, date, datetime

import pytest

from itinerary.domain.model import Itinerary, StageMoveRefused
from itinerary.domain.stages import Readiness
from itinerary.entrypoints.deliverables import ClientContext, calendar_feed

NOW = datetime(2027, 4, 1, tzinfo=UTC)
NONE_NEEDED = Readiness(0, 0)


def trip_with_item() -> Itinerary:
    itinerary = Itinerary.draft("t", "Japan", date(2027, 5, 1), date(2027, 5, 10))
    itinerary.link("c1")
    itinerary.add_item({"kind": "activity", "title": "Temple", "start": "2027-05-02T10:00",
                        "end": "2027-05-02T12:00", "timezone": "Asia/Tokyo", "requires_booking": True})
    return itinerary


def test_a_trip_moves_one_stage_at_a_time_and_remembers_who_moved_it():
    itinerary = trip_with_item()
    for stage in ("planning", "proposed", "approved"):
        itinerary.move_to(stage, actor="mia", now=NOW, readiness=NONE_NEEDED)
    with pytest.raises(StageMoveRefused, match="1 of 2 required bookings"):
        itinerary.move_to("booked", actor="mia", now=NOW, readiness=Readiness(1, 2))
    itinerary.move_to("booked", actor="mia", now=NOW, readiness=Readiness(2, 2))
    with pytest.raises(StageMoveRefused, match="starts at 2027-05-02T01:00"):
        itinerary.move_to("in_progress", actor="mia", now=NOW, readiness=NONE_NEEDED)
    assert [(c.from_stage, c.to_stage, c.actor) for c in itinerary.stage_history][-1] == ("approved", "booked", "mia")


def test_cancelled_is_reachable_from_open_stages_and_final():
    itinerary = trip_with_item()
    itinerary.move_to("cancelled", actor="mia", now=NOW, readiness=NONE_NEEDED)
    for stage in ("planning", "inquiry", "archived"):
        with pytest.raises(StageMoveRefused):
            itinerary.move_to(stage, actor="mia", now=NOW, readiness=NONE_NEEDED)


def test_the_clock_starts_and_completes_a_booked_trip_in_the_first_items_time_zone():
    itinerary = trip_with_item()
    for stage in ("planning", "proposed", "approved"):
        itinerary.move_to(stage, actor="mia", now=NOW, readiness=NONE_NEEDED)
    assert [c.after for c in itinerary.due_moves(NOW, Readiness(1, 1))] == ["booked"]
    # 10:00 in Tokyo is 01:00 UTC: not a minute before.
    assert itinerary.due_moves(datetime(2027, 5, 2, 0, 59, tzinfo=UTC), Readiness(1, 1)) == []
    assert [c.after for c in itinerary.due_moves(datetime(2027, 5, 2, 1, 0, tzinfo=UTC), Readiness(1, 1))] == [
        "in_progress"]
    assert [c.after for c in itinerary.due_moves(datetime(2027, 5, 9, tzinfo=UTC), Readiness(1, 1))] == ["completed"]
    assert itinerary.stage_history[-1].actor == "system"


def test_the_calendar_describes_each_zone_over_the_trip_including_its_daylight_saving_change():
    itinerary = Itinerary.draft("t", "Autumn in New York", date(2027, 11, 5), date(2027, 11, 9))
    itinerary.add_item({"kind": "activity", "title": "Walk", "start": "2027-11-05T10:00", "end": "2027-11-05T11:00",
                        "timezone": "America/New_York"})
    itinerary.add_item({"kind": "activity", "title": "Show", "start": "2027-11-08T20:00", "end": "2027-11-08T22:00",
                        "timezone": "America/New_York"})
    feed = calendar_feed(itinerary, ClientContext())
    assert "BEGIN:DAYLIGHT\r\nDTSTART:19700101" not in feed
    # Clocks go back on 7 November 2027 at 02:00 EDT.
    assert "BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST" in feed
    assert feed.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and feed.endswith("END:VCALENDAR\r\n")
