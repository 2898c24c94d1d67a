from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from itinerary.domain.budget import ClientBudget, summarise
from itinerary.domain.feasibility import check, travel_minutes
from itinerary.domain.items import InvalidItem, Item, Location

TOKYO = {"lat": 35.6762, "lon": 139.6503}


def item(kind="activity", title="Visit", start="2027-05-02T10:00", end="2027-05-02T12:00", timezone="Asia/Tokyo",
         **fields) -> Item:
    return Item.create({"kind": kind, "title": title, "start": start, "end": end, "timezone": timezone, **fields})


def kinds(findings):
    return sorted(f.kind for f in findings)


def test_a_date_line_crossing_lands_on_the_local_arrival_day():
    # Tokyo 2027-05-03 17:00 to Honolulu the same calendar day, 05:00: earlier on the clock, later in time.
    flight = item("flight", start="2027-05-03T17:00", end="2027-05-03T05:30", timezone="Asia/Tokyo",
                  end_timezone="Pacific/Honolulu")
    assert flight.start_utc == datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
    assert flight.end_utc == datetime(2027, 5, 3, 15, 30, tzinfo=UTC)
    assert (flight.start_day, flight.end_day) == (date(2027, 5, 3), date(2027, 5, 3))


def test_an_untimed_item_is_a_whole_local_day_not_midnight_utc():
    day = item("free_time", start="2027-05-04", end=None)
    assert not day.timed and day.start == date(2027, 5, 4)
    assert day.start_utc == datetime(2027, 5, 3, 15, 0, tzinfo=UTC) and day.end_utc == datetime(2027, 5, 4, 15, 0,
                                                                                                    tzinfo=UTC)


def test_times_that_the_clocks_skip_are_refused_and_ambiguous_ones_need_a_choice():
    with pytest.raises(InvalidItem) as error:
        item(start="2027-03-14T02:30", end="2027-03-14T04:00", timezone="America/New_York")
    assert error.value.code == "nonexistent-local-time"
    with pytest.raises(InvalidItem) as error:
        item(start="2027-11-07T01:30", end="2027-11-07T03:00", timezone="America/New_York")
    assert error.value.code == "ambiguous-local-time"
    assert "'first' (UTC-04:00) or 'second' (UTC-05:00)" in error.value.detail
    first = item(start="2027-11-07T01:30", end="2027-11-07T03:00", timezone="America/New_York",
                 start_occurrence="first")
    second = item(start="2027-11-07T01:30", end="2027-11-07T03:00", timezone="America/New_York",
                  start_occurrence="second")
    assert first.start_utc == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    assert second.start_utc == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)


def test_a_change_that_breaks_a_rule_leaves_the_item_as_it_was():
    visit = item()
    with pytest.raises(InvalidItem):
        visit.with_changes({"end": "2027-05-02T09:00"})
    assert visit.end == datetime(2027, 5, 2, 12, 0)


def test_travel_time_grows_with_distance_and_depends_on_the_mode():
    shinjuku, shibuya = Location("Shinjuku", 35.6938, 139.7034), Location("Shibuya", 35.6580, 139.7016)
    assert 15 < travel_minutes(shinjuku, shibuya) < 30
    assert travel_minutes(shinjuku, shibuya, "walk") > 50
    assert travel_minutes(shinjuku, Location("Somewhere")) is None


def test_a_transfer_shorter_than_its_distance_is_reported():
    transfer = item("transfer", title="Kyoto to Osaka", start="2027-05-02T10:00", end="2027-05-02T10:20",
                    location={"address": "Kyoto", "lat": 35.0116, "lon": 135.7681},
                    end_location={"address": "Osaka", "lat": 34.6937, "lon": 135.5023}, mode="car")
    [finding] = check([transfer], start_date=None, end_date=None)
    assert finding.kind == "insufficient_transfer_time" and "by car" in finding.message


def test_a_flight_needs_check_in_time_after_the_previous_item():
    lunch = item("dining", title="Lunch", start="2027-05-05T11:00", end="2027-05-05T12:30",
                 location={"address": "Ginza", "lat": 35.6717, "lon": 139.7650})
    flight = item("flight", title="Home", start="2027-05-05T14:00", end="2027-05-05T18:00",
                  location={"address": "Haneda", "lat": 35.5494, "lon": 139.7798})
    [finding] = check([lunch, flight], start_date=None, end_date=None)
    assert finding.kind == "insufficient_transfer_time" and finding.items == (lunch.id, flight.id)
    assert "120 min at the airport" in finding.message
    relaxed = flight.with_changes({"start": "2027-05-05T16:00", "end": "2027-05-05T20:00"})
    assert check([lunch, relaxed], start_date=None, end_date=None) == []


def test_checking_out_after_the_flight_leaves_is_an_error():
    hotel = item("accommodation", title="Park Hyatt", start="2027-05-02T15:00", end="2027-05-05T11:00")
    flight = item("flight", title="Home", start="2027-05-05T09:00", end="2027-05-05T13:00")
    assert "checkout_after_departure" in kinds(check([hotel, flight], start_date=None, end_date=None))


def test_hotel_windows_and_double_booked_nights_are_reported():
    early = item("accommodation", title="A", start="2027-05-02T09:00", end="2027-05-04T13:00")
    other = item("accommodation", title="B", start="2027-05-03T15:00", end="2027-05-05T11:00")
    assert kinds(check([early, other], start_date=None, end_date=None)) == [
        "accommodation_overlap", "check_in_window", "check_out_window"]


def test_a_day_over_the_pace_or_without_leisure_is_reported_against_the_clients_pace():
    day = [item(title=f"Sight {h}", start=f"2027-05-02T{h:02d}:00", end=f"2027-05-02T{h + 3:02d}:00")
           for h in (8, 11, 14, 17)]
    assert kinds(check(day, start_date=None, end_date=None, pace="packed")) == []
    assert kinds(check(day, start_date=None, end_date=None, pace="standard")) == ["pace_exceeded"]
    assert kinds(check(day, start_date=None, end_date=None, pace="relaxed")) == ["no_leisure_time", "pace_exceeded"]
    free = item("free_time", title="Onsen", start="2027-05-02", end=None)
    assert kinds(check([*day, free], start_date=None, end_date=None, pace="relaxed")) == ["pace_exceeded"]


def test_items_outside_the_trip_dates_are_reported_by_their_local_day():
    late = item(start="2027-05-11T09:00", end="2027-05-11T10:00")
    [finding] = check([late], start_date=date(2027, 5, 1), end_date=date(2027, 5, 10))
    assert finding.kind == "outside_trip_dates" and finding.day == date(2027, 5, 11)


def test_budget_totals_by_category_and_currency_with_markup():
    items = [item("flight", cost={"amount": "800", "currency": "EUR"}),
             item("accommodation", cost={"amount": "450.50", "currency": "EUR"}),
             item(cost={"amount": "12000", "currency": "JPY"}), item("free_time")]
    summary = summarise(items, Decimal("10"), ClientBudget(Decimal("1000"), Decimal("1500"), "EUR"))
    eur, jpy = summary.totals
    assert (eur.currency, eur.cost, eur.price) == ("EUR", Decimal("1250.50"), Decimal("1375.55"))
    assert eur.by_category == {"transport": Decimal("800.00"), "accommodation": Decimal("450.50")}
    assert jpy.by_category == {"tickets": Decimal("12000.00")}
    assert summary.status == "not_comparable" and "JPY" in summary.message
    within = summarise(items[:2], Decimal("10"), ClientBudget(None, Decimal("1500"), "EUR"))
    assert within.status == "within"
    over = summarise(items[:2], Decimal("30"), ClientBudget(None, Decimal("1500"), "EUR"))
    assert over.status == "over" and "125.65 over" in over.message


def test_getting_from_the_airport_to_a_hotel_in_another_city_is_checked():
    landing = item("flight", title="BA7", start="2027-05-01T19:00", end="2027-05-02T15:30", timezone="Europe/London",
                   end_timezone="Asia/Tokyo", location={"address": "Heathrow", "lat": 51.47, "lon": -0.4543},
                   end_location={"address": "Haneda", "lat": 35.5494, "lon": 139.7798})
    ryokan = item("accommodation", title="Ryokan", start="2027-05-02T16:00", end="2027-05-04T11:00",
                  location={"address": "Kyoto", "lat": 35.0116, "lon": 135.7681})
    [finding] = [f for f in check([landing, ryokan], start_date=None, end_date=None)
                 if f.kind == "insufficient_transfer_time"]
    assert "'Ryokan' (check-in)" in finding.message and finding.day == date(2027, 5, 2)
    # 370 km by road: hours, not days.
    assert 300 < travel_minutes(landing.end_location, ryokan.location) < 600


def test_an_evening_flight_weighs_on_its_day_only_until_midnight():
    red_eye = item("flight", title="BA7", start="2027-05-01T19:00", end="2027-05-02T15:30", timezone="Europe/London",
                   end_timezone="Asia/Tokyo")
    assert check([red_eye], start_date=None, end_date=None, pace="relaxed") == []
