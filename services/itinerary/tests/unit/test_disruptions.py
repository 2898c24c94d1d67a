from datetime import UTC, datetime, timedelta

import pytest

from itinerary.domain.disruptions import Disruption, InvalidShift, assess, check_moves, shifted
from itinerary.domain.feasibility import check
from itinerary.domain.items import Item

AIRPORT = {"address": "Fiumicino", "lat": 41.8003, "lon": 12.2389}
HOTEL = {"address": "Hotel Artemide, Via Nazionale", "lat": 41.9009, "lon": 12.4946}
RESTAURANT = {"address": "Trastevere", "lat": 41.8894, "lon": 12.4700}


def item(kind, title, start, end, timezone="Europe/Rome", **fields) -> Item:
    return Item.create({"kind": kind, "title": title, "start": start, "end": end, "timezone": timezone, **fields})


def rome_arrival():
    flight = item("flight", "Flight BA548", "2027-10-01T11:00", "2027-10-01T14:30", "Europe/London",
                  end_timezone="Europe/Rome", location={"address": "Heathrow"}, end_location=AIRPORT)
    transfer = item("transfer", "Private transfer to the hotel", "2027-10-01T15:00", "2027-10-01T16:30",
                    location=AIRPORT, end_location=HOTEL, mode="car")
    hotel = item("accommodation", "Hotel Artemide", "2027-10-01T17:00", "2027-10-04T11:00", location=HOTEL)
    dinner = item("dining", "Dinner in Trastevere", "2027-10-01T19:30", "2027-10-01T21:30", location=RESTAURANT)
    tour = item("activity", "Vatican Museums", "2027-10-02T10:00", "2027-10-02T13:00",
                location={"address": "Vatican", "lat": 41.9065, "lon": 12.4536})
    return flight, transfer, hotel, dinner, tour


def findings_of(items):
    return check(items, start_date=None, end_date=None)


def delay(target: Item, minutes: int) -> Disruption:
    return Disruption("inc-1", "it-1", target.id, "delay", minutes, "BA548 delayed", datetime(2027, 10, 1, tzinfo=UTC))


def test_a_three_hour_delay_flags_the_transfer_the_check_in_and_the_dinner_but_not_the_next_day():
    flight, transfer, hotel, dinner, tour = items = rome_arrival()
    assert findings_of(items) == [], "the plan works as planned"
    assessment = assess(items, delay(flight, 180), findings_of)
    assert assessment.disrupted.end == datetime(2027, 10, 1, 17, 30) and assessment.disrupted.end_timezone == \
        "Europe/Rome", "the flight now lands three hours later, in Rome's time"
    by_id = {affected.item_id: affected for affected in assessment.affected}
    assert set(by_id) == {transfer.id, hotel.id, dinner.id}, [a.title for a in assessment.affected]
    assert by_id[transfer.id].action == "shift" and by_id[transfer.id].minutes == 180
    assert "Flight BA548" in by_id[transfer.id].reasons[0], "why: it would leave before the flight lands"
    assert by_id[transfer.id].proposed.start == datetime(2027, 10, 1, 18, 0)
    assert by_id[hotel.id].proposed.start == datetime(2027, 10, 1, 20, 0)
    assert by_id[hotel.id].proposed.end == hotel.end, "a stay moves its check-in, not its check-out"
    assert "Dinner in Trastevere" in " ".join(by_id[dinner.id].reasons), "no time left to get to dinner"
    assert assessment.moves == {transfer.id: 180, hotel.id: 180, dinner.id: 180} and tour.id not in by_id
    assert assessment.remaining == [], "with the shift, nothing new goes wrong"


def test_an_hours_delay_moves_the_transfer_and_check_in_and_leaves_time_for_dinner():
    flight, transfer, hotel, dinner, tour = items = rome_arrival()
    assessment = assess(items, delay(flight, 60), findings_of)
    assert assessment.moves == {transfer.id: 60, hotel.id: 60}
    assert assessment.remaining == []


def test_a_flight_that_no_longer_connects_is_to_rebook_not_to_move():
    flight = item("flight", "Flight AZ1", "2027-10-01T09:00", "2027-10-01T11:00", end_location=AIRPORT)
    onward = item("flight", "Flight AZ610 to New York", "2027-10-01T13:00", "2027-10-01T16:30",
                  end_timezone="America/New_York", location=AIRPORT)
    assessment = assess([flight, onward], delay(flight, 150), findings_of)
    [affected] = assessment.affected
    assert affected.item_id == onward.id and affected.action == "rebook" and affected.minutes is None
    assert assessment.moves == {} and assessment.remaining, "still wrong until the onward flight is rebooked"


def test_a_cancellation_lists_what_was_planned_around_it_for_review():
    flight, transfer, hotel, dinner, tour = items = rome_arrival()
    cancelled = Disruption("inc-2", "it-1", flight.id, "cancellation", None, "BA548 cancelled",
                           datetime(2027, 10, 1, tzinfo=UTC))
    assessment = assess(items, cancelled, findings_of)
    actions = {a.item_id: a.action for a in assessment.affected}
    assert actions == {flight.id: "rebook", transfer.id: "review", hotel.id: "review", dinner.id: "review",
                       tour.id: "review"}
    assert assessment.moves == {}


def test_a_shift_keeps_the_real_duration_across_a_clock_change():
    # Clocks go back in Rome at 03:00 on 2027-10-31: 00:30 + 3 h of real time is 02:30 the second time round.
    late = item("activity", "Night walk", "2027-10-31T00:30", "2027-10-31T01:00")
    moved = shifted(late, 180)
    assert moved.start_utc - late.start_utc == timedelta(hours=3) == moved.end_utc - late.end_utc
    assert moved.start == datetime(2027, 10, 31, 2, 30) and moved.start_occurrence == "second"
    assert moved.end == datetime(2027, 10, 31, 3, 0)


def test_a_planners_own_shift_must_name_items_on_the_trip_and_whole_minutes_within_two_days():
    flight, transfer, *_ = items = rome_arrival()
    assert check_moves({transfer.id: 90}, items) == {transfer.id: 90}
    for moves, code in (({}, "nothing-to-shift"), ({"nope": 10}, "item-not-found"),
                        ({transfer.id: 0}, "invalid-shift"), ({transfer.id: 3000}, "invalid-shift")):
        with pytest.raises(InvalidShift) as refused:
            check_moves(moves, items)
        assert refused.value.code == code
