from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from itinerary.domain.agency_settings import InvalidSettings, TravelSettings, exchange_rate
from itinerary.domain.budget import ClientBudget, summarise
from itinerary.domain.feasibility import Traveller, check, travel_minutes
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


TOKYO_STATION = {"address": "Tokyo Station", "lat": 35.6812, "lon": 139.7671}
KYOTO_STATION = {"address": "Kyoto Station", "lat": 34.9858, "lon": 135.7588}
HANEDA = {"address": "Haneda", "lat": 35.5494, "lon": 139.7798}
HOTEL_SHIBUYA = {"address": "Shibuya hotel", "lat": 35.6580, "lon": 139.7016}


def test_high_speed_rail_takes_the_time_the_timetable_says():
    tokyo, kyoto = (Location(**place) for place in (TOKYO_STATION, KYOTO_STATION))
    # The Nozomi takes 2 h 15 min; with getting to the platform, 2 h 30 min to 3 h door to door.
    assert 140 < travel_minutes(tokyo, kyoto, "high_speed_rail") < 180
    assert travel_minutes(tokyo, kyoto, "car") > 300, "by road it is a day trip of its own"
    shinkansen = item("transfer", title="Nozomi to Kyoto", start="2027-05-03T09:00", end="2027-05-03T11:40",
                      location=TOKYO_STATION, end_location=KYOTO_STATION, mode="high_speed_rail")
    assert [f.kind for f in check([shinkansen], start_date=None, end_date=None)] == []


def test_an_agency_sets_its_own_speeds_and_buffers():
    tokyo, kyoto = (Location(**place) for place in (TOKYO_STATION, KYOTO_STATION))
    slower = TravelSettings().with_changes({"speeds": {"high_speed_rail": {"kmh": 150}},
                                            "airport_before_departure_min": 180})
    assert travel_minutes(tokyo, kyoto, "high_speed_rail", slower.speeds) > \
        travel_minutes(tokyo, kyoto, "high_speed_rail") + 30
    hotel = item("accommodation", title="Hotel", start="2027-05-01T15:00", end="2027-05-03T07:00",
                 location=HOTEL_SHIBUYA)
    flight = item("flight", title="NH 21", start="2027-05-03T10:00", end="2027-05-03T11:30", location=HANEDA)
    # 3 h before: 2 h at the airport plus the drive fits with the defaults; the agency's 3 h don't.
    assert not [f for f in check([hotel, flight], start_date=None, end_date=None)
                if f.kind == "insufficient_transfer_time"]
    [finding] = [f for f in check([hotel, flight], start_date=None, end_date=None, travel=slower)
                 if f.kind == "insufficient_transfer_time"]
    assert "180 min at the airport" in finding.message
    with pytest.raises(InvalidSettings) as refused:
        TravelSettings().with_changes({"speeds": {"teleport": {"kmh": 9000}}})
    assert "no such mode" in refused.value.detail


def test_an_explicit_transfer_is_the_way_from_the_airport_nothing_is_counted_twice():
    landing = item("flight", title="NH 212", start="2027-05-02T13:00", end="2027-05-02T15:30",
                   timezone="Asia/Tokyo", location={"address": "Osaka", "lat": 34.43, "lon": 135.23},
                   end_location=HANEDA)
    car = item("transfer", title="Private car", start="2027-05-02T15:40", end="2027-05-02T16:40", mode="car",
               location=HANEDA, end_location=HOTEL_SHIBUYA)
    hotel = item("accommodation", title="Hotel", start="2027-05-02T16:45", end="2027-05-04T11:00",
                 location=HOTEL_SHIBUYA)
    findings = check([landing, car, hotel], start_date=None, end_date=None)
    assert [f for f in findings if f.kind == "insufficient_transfer_time"] == [], findings
    # Without the transfer the same hotel is checked against the airport's 45 min and the drive.
    [without] = [f for f in check([landing, hotel], start_date=None, end_date=None)
                 if f.kind == "insufficient_transfer_time"]
    assert "45 min to leave the airport" in without.message


def test_free_time_taken_by_a_booked_activity_is_reported():
    free = item("free_time", title="Free afternoon", start="2027-05-03T13:00", end="2027-05-03T18:00")
    tour = item("activity", title="Sake tasting", start="2027-05-03T15:00", end="2027-05-03T16:30",
                requires_booking=True)
    [finding] = [f for f in check([free, tour], start_date=None, end_date=None) if f.kind == "free_time_taken"]
    assert finding.severity == "warning" and set(finding.items) == {free.id, tour.id}
    # Free time without hours is some time that day: a dinner that evening takes nothing from it.
    free_day = item("free_time", title="Some free time", start="2027-05-04", end=None)
    dinner = item("dining", title="Kaiseki dinner", start="2027-05-04T19:00", end="2027-05-04T21:00")
    assert [f for f in check([free_day, dinner], start_date=None, end_date=None) if f.kind == "free_time_taken"] == []


def test_a_passport_expiring_before_the_trip_ends_is_an_error_and_one_expiring_soon_after_a_warning():
    visit = item()
    travellers = [Traveller("Wei Chen", date(2027, 5, 1)), Traveller("Lin Chen", date(2027, 8, 1)),
                  Traveller("Tom Chen", date(2030, 1, 1)), Traveller("Ann Chen", None)]
    findings = check([visit], start_date=date(2027, 5, 1), end_date=date(2027, 5, 6), travellers=travellers)
    [expired] = [f for f in findings if f.kind == "passport_expires_during_trip"]
    assert expired.severity == "error" and "Wei Chen" in expired.message
    [short] = [f for f in findings if f.kind == "passport_validity_short"]
    assert short.severity == "warning" and "Lin Chen" in short.message


def test_a_mixed_currency_trip_is_compared_with_the_budget_at_the_agencys_rates_and_a_missing_rate_is_named():
    items = [item("flight", cost={"amount": "1000", "currency": "EUR"}),
             item(cost={"amount": "100000", "currency": "JPY"}),
             item(cost={"amount": "200", "currency": "USD"})]
    budget = ClientBudget(None, Decimal("2000"), "EUR")
    at = datetime(2027, 1, 5, tzinfo=UTC)
    jpy = exchange_rate("JPY", "EUR", "0.0062", date(2027, 1, 5), "ECB reference rate", entered_by="mia",
                        entered_at=at)
    missing = summarise(items, Decimal("0"), budget, (jpy,))
    assert missing.status == "not_comparable" and missing.missing_rates == ["USD/EUR"]
    assert "USD/EUR" in missing.message
    eur_usd = exchange_rate("EUR", "USD", "1.25", date(2027, 1, 5), "bank", entered_by="mia", entered_at=at)
    summary = summarise(items, Decimal("0"), budget, (jpy, eur_usd))
    # 1000 EUR + 100000 JPY × 0.0062 (620 EUR) + 200 USD ÷ 1.25 (160 EUR)
    assert summary.price_in_budget_currency == Decimal("1780.00") and summary.status == "within"
    usd = next(c for c in summary.conversions if c.from_currency == "USD")
    assert usd.inverted and usd.converted == Decimal("160.00") and usd.rate.source == "bank"
    assert "1 JPY = 0.0062 EUR, 2027-01-05, ECB reference rate" in summary.message


def test_the_api_takes_a_speed_for_every_mode_the_checks_know():
    from itinerary.domain.agency_settings import DEFAULT_SPEEDS
    from itinerary.entrypoints.schemas import SpeedsIn

    assert set(SpeedsIn.model_fields) == set(DEFAULT_SPEEDS)


def test_a_timetabled_train_is_taken_at_its_timetable_and_only_an_impossible_one_is_doubted():
    nozomi = item("transfer", title="Nozomi 209", start="2027-05-05T09:30", end="2027-05-05T11:45",
                  location=TOKYO_STATION, end_location=KYOTO_STATION, mode="high_speed_rail")
    assert [f.kind for f in check([nozomi], start_date=None, end_date=None)] == []
    typo = item("transfer", title="Nozomi 209", start="2027-05-05T09:30", end="2027-05-05T09:50",
                location=TOKYO_STATION, end_location=KYOTO_STATION, mode="high_speed_rail")
    [doubt] = check([typo], start_date=None, end_date=None)
    assert (doubt.kind, doubt.severity) == ("transfer_time_doubtful", "warning")


def test_leaving_a_hotel_by_an_explicit_transfer_before_its_check_out_time_is_not_a_missing_drive():
    hotel = item("accommodation", title="Park Hotel", start="2027-05-02T15:00", end="2027-05-05T10:00",
                 location=HOTEL_SHIBUYA)
    car = item("transfer", title="Car to the station", start="2027-05-05T08:30", end="2027-05-05T09:05",
               location=HOTEL_SHIBUYA, end_location=TOKYO_STATION, mode="car")
    nozomi = item("transfer", title="Nozomi 209", start="2027-05-05T09:30", end="2027-05-05T11:45",
                  location=TOKYO_STATION, end_location=KYOTO_STATION, mode="high_speed_rail")
    ryokan = item("accommodation", title="Ryokan", start="2027-05-05T15:00", end="2027-05-07T10:00",
                  location={"address": "Kyoto ryokan", "lat": 35.0106, "lon": 135.7627})
    findings = check([hotel, car, nozomi, ryokan], start_date=None, end_date=None)
    assert [f for f in findings if f.kind == "insufficient_transfer_time"] == [], findings
    # Without the car and the train, the 370 km from the hotel to the ryokan in 5 h are still found.
    [missing] = [f for f in check([hotel, ryokan], start_date=None, end_date=None)
                 if f.kind == "insufficient_transfer_time"]
    assert "'Park Hotel' (check-out)" in missing.message
