"""What a client reads: each day in time order, flights with where and when they land, local times with their
zone, calendars an independent parser reads right, PDFs any reader shows."""
from datetime import UTC, date, datetime

import icalendar
import pytest

from itinerary.domain.items import InvalidItem
from itinerary.domain.model import Itinerary
from itinerary.entrypoints.deliverables import ClientContext, calendar_feed, itinerary_pdf, local_time_label
from trip_shared.agency import AgencyProfile
from trip_shared.testing.documents import pdf_fonts, pdf_text

AGENCY = AgencyProfile(name="Lotus & Maple Travel", support_phone="+86 21 5555 0100",
                       support_email="care@lotusmaple.example", emergency_phone="+86 21 5555 0199")
INTERNAL = "INTERNAL: vendor owes us 8% commission"


def tokyo_trip() -> Itinerary:
    itinerary = Itinerary.draft("t", "Tokyo and Kyoto", date(2027, 4, 1), date(2027, 4, 8))
    itinerary.add_item({"kind": "accommodation", "title": "Park Hotel Tokyo", "start": "2027-04-01T15:00",
                        "end": "2027-04-03T10:00", "timezone": "Asia/Tokyo", "notes": INTERNAL,
                        "client_note": "Breakfast from 06:30 on the 25th floor."})
    itinerary.add_item({"kind": "transfer", "title": "Car to Tokyo Station", "start": "2027-04-03T08:30",
                        "end": "2027-04-03T09:10", "timezone": "Asia/Tokyo", "mode": "car", "notes": INTERNAL})
    itinerary.add_item({"kind": "flight", "title": "JL 91 to Seoul", "start": "2027-04-05T09:00",
                        "end": "2027-04-05T11:25", "timezone": "Asia/Tokyo", "end_timezone": "Asia/Seoul",
                        "location": {"address": "Haneda Airport"}, "end_location": {"address": "Gimpo Airport"}})
    return itinerary


def entries_of(itinerary: Itinerary, day: date) -> list[tuple[str, str]]:
    return [(item.title, role) for item, role in dict(itinerary.days())[day]]


def test_a_days_entries_come_in_the_order_they_happen_whatever_the_order_they_were_added():
    itinerary = tokyo_trip()
    assert entries_of(itinerary, date(2027, 4, 3)) == [("Car to Tokyo Station", "starts"),
                                                        ("Park Hotel Tokyo", "ends")]


def test_a_flight_shows_where_and_when_it_lands_even_on_the_same_local_day():
    itinerary = tokyo_trip()
    flight = next(item for item in itinerary.items if item.kind == "flight")
    assert local_time_label(flight, "starts", "en") == "departs 09:00 (Asia/Tokyo) → arrives 11:25 (Asia/Seoul)"
    assert local_time_label(flight, "starts", "zh-Hans") == "出发 09:00 (Asia/Tokyo) → 抵达 11:25 (Asia/Seoul)"


def test_an_overnight_flight_names_its_arrival_day_and_lands_on_that_day_too():
    itinerary = Itinerary.draft("t", "Home", date(2027, 4, 1), date(2027, 4, 9))
    flight, _ = itinerary.add_item({"kind": "flight", "title": "BA 8", "start": "2027-04-08T11:30",
                                    "end": "2027-04-08T15:10", "timezone": "Asia/Tokyo",
                                    "end_timezone": "Europe/London"})
    assert local_time_label(flight, "starts", "en") == "departs 11:30 (Asia/Tokyo) → arrives 15:10 (Europe/London)"
    night, _ = itinerary.add_item({"kind": "flight", "title": "NH 211", "start": "2027-04-07T21:55",
                                   "end": "2027-04-08T05:00", "timezone": "Asia/Tokyo",
                                   "end_timezone": "Europe/London"})
    assert local_time_label(night, "starts", "en") == \
        "departs 21:55 (Asia/Tokyo) → arrives 08 Apr 05:00 (Europe/London)"
    assert local_time_label(night, "ends", "en") == "arrives 05:00 (Europe/London)"
    assert ("NH 211", "ends") in entries_of(itinerary, date(2027, 4, 8))


def test_every_time_names_its_zone():
    itinerary = tokyo_trip()
    labels = [local_time_label(item, role, "en") for _, entries in itinerary.days() for item, role in entries
              if role != "continues"]
    assert labels and all("(Asia/" in label for label in labels), labels


def test_a_time_the_clocks_go_back_over_needs_a_choice_and_the_calendar_keeps_it():
    itinerary = Itinerary.draft("t", "Autumn in London", date(2027, 10, 30), date(2027, 11, 2))
    with pytest.raises(InvalidItem, match="happens twice in Europe/London") as refused:
        itinerary.add_item({"kind": "activity", "title": "Night walk", "start": "2027-10-31T01:30",
                            "timezone": "Europe/London"})
    assert refused.value.code == "ambiguous-local-time"
    first, _ = itinerary.add_item({"kind": "activity", "title": "Night walk", "start": "2027-10-31T01:30",
                                   "end": "2027-10-31T01:50", "timezone": "Europe/London",
                                   "start_occurrence": "first", "end_occurrence": "first"})
    second, _ = itinerary.add_item({"kind": "activity", "title": "Ghost tour", "start": "2027-10-31T01:30",
                                    "end": "2027-10-31T02:30", "timezone": "Europe/London",
                                    "start_occurrence": "second"})
    assert first.start_utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert second.start_utc == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    events = {str(event["SUMMARY"]): event
              for event in icalendar.Calendar.from_ical(calendar_feed(itinerary, ClientContext())).walk("VEVENT")}
    assert events["Night walk"].decoded("DTSTART").astimezone(UTC) == first.start_utc
    assert events["Ghost tour"].decoded("DTSTART").astimezone(UTC) == second.start_utc
    assert events["Ghost tour"].decoded("DTEND").astimezone(UTC) == second.end_utc


def test_a_choice_of_occurrence_on_a_time_that_happens_once_is_dropped():
    itinerary = Itinerary.draft("t", "Spring", date(2027, 4, 1), date(2027, 4, 3))
    item, _ = itinerary.add_item({"kind": "activity", "title": "Walk", "start": "2027-04-02T10:00",
                                  "timezone": "Europe/London", "start_occurrence": "second"})
    assert item.start_occurrence is None


def test_each_calendar_event_counts_its_own_changes_and_says_whether_it_is_confirmed():
    itinerary = tokyo_trip()
    hotel = next(item for item in itinerary.items if item.kind == "accommodation")
    transfer = next(item for item in itinerary.items if item.kind == "transfer")
    itinerary.change_item(transfer.id, {"start": "2027-04-03T08:15"})
    itinerary.change_item(transfer.id, {"notes": "driver prefers cash"})  # internal: the client sees no change
    itinerary.change_item(hotel.id, {"requires_booking": True})
    context = ClientContext(confirmed_item_ids=frozenset())
    events = {str(event["SUMMARY"]): event
              for event in icalendar.Calendar.from_ical(calendar_feed(itinerary, context)).walk("VEVENT")}
    assert events["Car to Tokyo Station"]["SEQUENCE"] == 1
    assert events["JL 91 to Seoul"]["SEQUENCE"] == 0
    assert events["Park Hotel Tokyo"]["STATUS"] == "TENTATIVE"
    assert events["JL 91 to Seoul"]["STATUS"] == "CONFIRMED"
    confirmed = calendar_feed(itinerary, ClientContext(confirmed_item_ids=frozenset({hotel.id})))
    assert {str(e["SUMMARY"]): str(e["STATUS"]) for e in icalendar.Calendar.from_ical(confirmed).walk("VEVENT")}[
        "Park Hotel Tokyo"] == "CONFIRMED"


def test_the_calendar_carries_the_client_note_the_travellers_and_the_agency_never_the_internal_notes():
    context = ClientContext(travellers=["Wei Chen", "Lin Chen"], agency=AGENCY)
    feed = calendar_feed(tokyo_trip(), context)
    calendar = icalendar.Calendar.from_ical(feed)
    hotel = next(e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]) == "Park Hotel Tokyo")
    description = str(hotel["DESCRIPTION"])
    assert "Breakfast from 06:30" in description
    assert "Lotus & Maple Travel" in description and "+86 21 5555 0199" in description
    # The parser leaves an X- property as written: TEXT, escaped (RFC 5545 §3.3.11).
    assert "Travellers: Wei Chen\\, Lin Chen" in str(calendar["X-WR-CALDESC"])
    assert "commission" not in feed


def test_the_pdf_embeds_every_font_it_uses_chinese_included():
    itinerary = tokyo_trip()
    itinerary.change_item(itinerary.items[0].id, {"client_note": "早餐 06:30 起，25 楼。"})
    document = itinerary_pdf(itinerary, ClientContext(travellers=["陈伟"], agency=AGENCY, language="zh-Hans"))
    fonts = pdf_fonts(document)
    assert {font.name.split("+")[-1] for font in fonts} == {"DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback"}
    assert all(font.embedded for font in fonts), fonts
    text = pdf_text(document)
    assert "早餐 06:30 起" in text and "出行人：陈伟" in text and "24小时紧急电话：+86 21 5555 0199" in text
    assert "出发 09:00 (Asia/Tokyo)" in text
    assert "commission" not in text


def test_a_day_in_the_middle_of_a_stay_says_where_the_client_sleeps_and_the_night_comes_last():
    itinerary = tokyo_trip()  # the hotel from 1 to 3 April
    assert entries_of(itinerary, date(2027, 4, 2)) == [("Park Hotel Tokyo", "continues")]
    itinerary.add_item({"kind": "activity", "title": "Tsukiji walk", "start": "2027-04-02T21:00",
                        "end": "2027-04-02T22:00", "timezone": "Asia/Tokyo"})
    assert entries_of(itinerary, date(2027, 4, 2)) == [("Tsukiji walk", "starts"), ("Park Hotel Tokyo", "continues")]
    hotel = itinerary.items[0]
    assert local_time_label(hotel, "continues", "en") == "Overnight"
    assert local_time_label(hotel, "continues", "zh-Hans") == "住宿"


def test_an_event_carries_the_calendars_first_and_the_pdfs_that_fit_the_rest_are_named_for_the_trip_page():
    from itinerary.service_layer.services import DOCUMENTS_BUDGET_BYTES, fit_in_event
    from trip_shared.contracts.itinerary import IssuedDocument

    def document(language, kind, size):
        return IssuedDocument(language=language, kind=kind, filename=f"{language}.{kind}", media_type="x/y",
                              content=b"x" * size)

    big = DOCUMENTS_BUDGET_BYTES // 2 + 1
    carried, left_out = fit_in_event([document("en", "pdf", big), document("zh-Hans", "pdf", big),
                                      document("en", "calendar", 3000), document("zh-Hans", "calendar", 3000)])
    assert [d.filename for d in carried] == ["en.calendar", "zh-Hans.calendar", "en.pdf"]
    assert left_out == ["zh-Hans.pdf"]
    small, none_left = fit_in_event([document("en", "pdf", 1000), document("en", "calendar", 10)])
    assert len(small) == 2 and none_left == []
