"""Items, checks, budget, stages, versioning and the calendar feed, through the HTTP API."""
from datetime import UTC, datetime

from trip_shared.contracts.booking import BookingConfirmed, BookingDetails
from trip_shared.contracts.customers import Budget, CustomerCreated, CustomerSnapshot, Preferences, PreferencesRecorded
from trip_shared.contracts.itinerary import ItineraryChanged
from trip_shared.testing.documents import pdf_fonts, pdf_text
from trip_shared.testing.service import auth

FLIGHT = {"kind": "flight", "title": "BA7 London to Tokyo", "start": "2027-05-01T19:00", "end": "2027-05-02T15:30",
          "timezone": "Europe/London", "end_timezone": "Asia/Tokyo",
          "location": {"address": "Heathrow", "lat": 51.47, "lon": -0.4543},
          "end_location": {"address": "Haneda", "lat": 35.5494, "lon": 139.7798},
          "cost": {"amount": "1200.00", "currency": "EUR"}, "requires_booking": True}
SUSHI = {"kind": "activity", "title": "Sushi class", "start": "2027-05-02T16:00", "end": "2027-05-02T18:00",
         "timezone": "Asia/Tokyo", "location": {"address": "Tsukiji", "lat": 35.6655, "lon": 139.7707},
         "cost": {"amount": 90, "currency": "EUR"}}


async def trip(service, **body):
    response = await service.client.post("/v1/itineraries", json={
        "title": "Japan", "start_date": "2027-05-01", "end_date": "2027-05-10", **body}, headers=auth())
    assert response.status_code == 201, response.text
    return response.json()


async def add(service, itinerary_id, item):
    response = await service.client.post(f"/v1/itineraries/{itinerary_id}/items", json=item, headers=auth())
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_overnight_flight_lands_on_the_right_local_day_and_the_tight_connection_is_found(service):
    itinerary = await trip(service)
    flight = await add(service, itinerary["id"], FLIGHT)
    assert (flight["day"], flight["end_day"]) == ("2027-05-01", "2027-05-02")
    assert flight["start_utc"] == "2027-05-01T18:00:00Z" and flight["end_utc"] == "2027-05-02T06:30:00Z"
    sushi = await add(service, itinerary["id"], SUSHI)
    free_day = await add(service, itinerary["id"], {"kind": "free_time", "title": "Explore", "start": "2027-05-03",
                                                    "timezone": "Asia/Tokyo"})
    assert free_day["start"] == "2027-05-03" and free_day["start_utc"] == "2027-05-02T15:00:00Z"
    detail = (await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())).json()
    assert [i["id"] for i in detail["items"]] == [flight["id"], sushi["id"], free_day["id"]]
    assert [(d["date"], [(e["item_id"], e["role"]) for e in d["entries"]]) for d in detail["days"]] == [
        ("2027-05-01", [(flight["id"], "starts")]),
        ("2027-05-02", [(flight["id"], "ends"), (sushi["id"], "starts")]),
        ("2027-05-03", [(free_day["id"], "starts")])]
    [tight] = [f for f in detail["feasibility"]["findings"] if f["kind"] == "insufficient_transfer_time"]
    assert tight["items"] == [flight["id"], sushi["id"]] and tight["severity"] == "error"
    assert "30 min" in tight["message"] and "45 min to leave the airport" in tight["message"]
    on_demand = (await service.client.get(f"/v1/itineraries/{itinerary['id']}/feasibility", headers=auth())).json()
    assert on_demand == detail["feasibility"]
    assert detail["readiness"] == {"confirmed": 0, "required": 1, "complete": False, "label": "0 of 1 confirmed"}


async def test_overlapping_items_and_items_outside_the_trip_are_reported(service):
    itinerary = await trip(service)
    sushi = await add(service, itinerary["id"], SUSHI)
    tea = await add(service, itinerary["id"], {**SUSHI, "title": "Tea ceremony", "start": "2027-05-02T17:30",
                                               "end": "2027-05-02T19:00"})
    findings = (await service.client.get(f"/v1/itineraries/{itinerary['id']}/feasibility",
                                         headers=auth())).json()["findings"]
    [overlap] = [f for f in findings if f["kind"] == "overlap"]
    assert overlap["items"] == [sushi["id"], tea["id"]] and "by 30 min" in overlap["message"]
    outside = await service.client.post(f"/v1/itineraries/{itinerary['id']}/items",
                                        json={**SUSHI, "start": "2027-05-12T10:00", "end": "2027-05-12T11:00"},
                                        headers=auth())
    assert outside.status_code == 422 and outside.json()["code"] == "item-outside-trip-dates"


async def test_the_clients_pace_and_budget_come_from_their_latest_consultation(service):
    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=1,
                                          producer="customers", data=CustomerSnapshot(customer_id="c1",
                                                                                      first_name="Ana")))
    await service.publish(PreferencesRecorded(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2, producer="customers", customer_id="c1",
        consultation_version=1, data=Preferences(pace="relaxed", budget=Budget(maximum=1300, currency="EUR"),
                                                 dietary=["vegetarian"], special_requirements="Ground floor room")))
    itinerary = await trip(service)
    assert (await service.client.post(f"/v1/itineraries/{itinerary['id']}/customers", json={"customer_id": "c1"},
                                      headers=auth())).status_code == 201
    await add(service, itinerary["id"], FLIGHT)
    for hour in (9, 12, 15):
        await add(service, itinerary["id"], {**SUSHI, "title": f"Temple {hour}", "start": f"2027-05-04T{hour:02d}:00",
                                             "end": f"2027-05-04T{hour + 2:02d}:00", "cost": None})
    patched = await service.client.patch(f"/v1/itineraries/{itinerary['id']}", json={"markup_percent": 10},
                                         headers=auth())
    detail = patched.json()
    assert detail["customers"][0]["requirements"] == {"pace": "relaxed", "dietary": ["vegetarian"], "accessibility": [],
                                                      "special_requirements": "Ground floor room"}
    assert detail["feasibility"]["pace"] == "relaxed"
    [pace] = [f for f in detail["feasibility"]["findings"] if f["kind"] == "pace_exceeded"]
    assert pace["day"] == "2027-05-04" and len(pace["items"]) == 3 and "relaxed pace allows 2" in pace["message"]
    budget = detail["budget"]
    assert budget["totals"] == [{"currency": "EUR", "cost": "1200.00", "price": "1320.00",
                                 "by_category": {"transport": "1200.00"}}]
    assert budget["status"] == "over" and budget["client_budget"]["maximum"] == "1300.00"
    assert len(budget["unpriced_items"]) == 3


async def test_a_date_change_that_would_drop_items_is_refused_unless_confirmed(service):
    itinerary = await trip(service)
    sushi = await add(service, itinerary["id"], SUSHI)
    url = f"/v1/itineraries/{itinerary['id']}"
    refused = await service.client.patch(url, json={"start_date": "2027-05-03"}, headers=auth())
    assert refused.status_code == 409 and refused.json()["code"] == "items-outside-new-dates"
    assert refused.json()["items"] == [sushi["id"]] and "Sushi class" in refused.json()["detail"]
    unchanged = (await service.client.get(url, headers=auth())).json()
    assert unchanged["start_date"] == "2027-05-01" and unchanged["item_count"] == 1 and unchanged["version"] == 2
    confirmed = await service.client.patch(url, params={"drop_items_outside": "true"},
                                           json={"start_date": "2027-05-03"}, headers=auth())
    assert confirmed.status_code == 200 and confirmed.json()["items"] == []
    history = (await service.client.get(f"{url}/history", headers=auth())).json()["items"]
    assert [entry["action"] for entry in history] == ["created", "item_added", "details_changed"]
    dropped = history[-1]["changes"]
    assert dropped[0] == {"field": "start_date", "before": "2027-05-01", "after": "2027-05-03",
                          "description": "start date changed from 2027-05-01 to 2027-05-03"}
    assert dropped[1]["field"] == f"items.{sushi['id']}" and dropped[1]["after"] is None
    assert dropped[1]["before"]["title"] == "Sushi class" and history[-1]["actor"] == "a"
    events = [ItineraryChanged.model_validate_json(row["payload"]) async for row in
              service.runtime.outbox.rows.find({"event_type": "itinerary.changed"}).sort("_id", 1)]
    assert [e.action for e in events] == ["item_added", "details_changed"]
    assert "removed: outside the new trip dates" in events[-1].changes[1].description


async def test_editing_an_item_records_before_and_after(service):
    itinerary = await trip(service)
    sushi = await add(service, itinerary["id"], SUSHI)
    url = f"/v1/itineraries/{itinerary['id']}/items/{sushi['id']}"
    moved = await service.client.patch(url, json={"start": "2027-05-03T10:00", "end": "2027-05-03T12:00"},
                                       headers=auth())
    assert moved.status_code == 200 and moved.json()["day"] == "2027-05-03"
    [entry] = [e for e in (await service.client.get(f"/v1/itineraries/{itinerary['id']}/history",
                                                    headers=auth())).json()["items"] if e["action"] == "item_changed"]
    assert [(c["field"], c["before"], c["after"]) for c in entry["changes"]] == [
        (f"items.{sushi['id']}.start", "2027-05-02T16:00:00", "2027-05-03T10:00:00"),
        (f"items.{sushi['id']}.end", "2027-05-02T18:00:00", "2027-05-03T12:00:00")]
    assert (await service.client.delete(url, headers=auth())).status_code == 204
    assert (await service.client.get(url, headers=auth())).status_code == 404


async def test_bad_items_get_problem_details_and_change_nothing(service):
    itinerary = await trip(service)
    url = f"/v1/itineraries/{itinerary['id']}/items"
    cases = {
        "unknown zone": ({**SUSHI, "timezone": "Mars/Olympus"}, "invalid-timezone"),
        "abbreviation": ({**SUSHI, "timezone": "JST"}, "invalid-timezone"),
        "utc offset": ({**SUSHI, "start": "2027-05-02T16:00+09:00"}, "invalid-times"),
        "not a time": ({**SUSHI, "start": "tomorrow"}, "invalid-times"),
        "end first": ({**SUSHI, "end": "2027-05-02T15:00"}, "end-before-start"),
        "skipped by DST": ({**SUSHI, "timezone": "Europe/Paris", "start": "2027-03-28T02:30",
                            "end": "2027-03-28T04:00"}, "nonexistent-local-time"),
        "kind": ({**SUSHI, "kind": "spa"}, "invalid-request"),
        "currency": ({**SUSHI, "cost": {"amount": 5, "currency": "E12"}}, "invalid-currency"),
        "negative": ({**SUSHI, "cost": {"amount": -5, "currency": "EUR"}}, "invalid-request"),
        "half location": ({**SUSHI, "location": {"lat": 35.6}}, "invalid-location"),
        "extra field": ({**SUSHI, "colour": "red"}, "invalid-request"),
        "line break in a title": ({**SUSHI, "title": "Sushi\r\nclass"}, "invalid-request"),
        "escape in notes": ({**SUSHI, "notes": "see \x1b]8;;http://evil\x07"}, "invalid-request"),
        "NUL in a vendor": ({**SUSHI, "vendor": "Tsukiji\x00"}, "invalid-request"),
        "huge amount": ({**SUSHI, "cost": {"amount": "1" * 40, "currency": "EUR"}}, "invalid-request"),
    }
    for name, (body, code) in cases.items():
        response = await service.client.post(url, json=body, headers=auth())
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code, (name, response.json())
    after = (await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())).json()
    assert after["items"] == [] and after["version"] == 1
    missing = await service.client.patch(f"{url}/nope", json={"title": "x"}, headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "item-not-found"


async def test_stages_move_by_the_rules_and_keep_who_moved_them(service):
    itinerary = await trip(service)
    url = f"/v1/itineraries/{itinerary['id']}/stage"
    skipped = await service.client.post(url, json={"stage": "approved"}, headers=auth())
    assert skipped.status_code == 409 and skipped.json()["code"] == "stage-move-refused"
    assert "can move to planning, cancelled" in skipped.json()["detail"]
    assert (await service.client.post(url, json={"stage": "planning"}, headers=auth())).status_code == 200
    empty = await service.client.post(url, json={"stage": "proposed"}, headers=auth())
    assert empty.status_code == 409 and "at least one item" in empty.json()["detail"]
    cancelled = await service.client.post(url, json={"stage": "cancelled", "reason": "client changed plans"},
                                          headers=auth())
    body = cancelled.json()
    assert body["stage"] == "cancelled" and body["next_stages"] == []
    assert [(h["from_stage"], h["to_stage"], h["actor"]) for h in body["stage_history"]] == [
        ("inquiry", "planning", "a"), ("planning", "cancelled", "a")]
    assert body["stage_history"][-1]["reason"] == "client changed plans"
    other = await trip(service)
    listed = (await service.client.get("/v1/itineraries", params={"stage": "cancelled"}, headers=auth())).json()
    assert [i["id"] for i in listed["items"]] == [itinerary["id"]] and other["id"] != itinerary["id"]
    assert (await service.client.get("/v1/itineraries", params={"stage": "gone"}, headers=auth())).status_code == 422
    again = await service.client.post(url, json={"stage": "planning"}, headers=auth())
    assert again.status_code == 409 and "nowhere" in again.json()["detail"]
    frozen = await service.client.post(f"/v1/itineraries/{itinerary['id']}/items", json=SUSHI, headers=auth())
    assert frozen.status_code == 409 and frozen.json()["code"] == "itinerary-closed"


async def test_confirmed_bookings_make_the_trip_booked_and_the_clock_starts_and_ends_it(service):
    from itinerary.service_layer.services import move_due_itineraries

    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=1,
                                          producer="customers", data=CustomerSnapshot(customer_id="c1",
                                                                                      first_name="Ana")))
    itinerary = await trip(service)
    base = f"/v1/itineraries/{itinerary['id']}"
    await service.client.post(f"{base}/customers", json={"customer_id": "c1"}, headers=auth())
    flight = await add(service, itinerary["id"], FLIGHT)
    for stage in ("planning", "proposed", "approved"):
        moved = await service.client.post(f"{base}/stage", json={"stage": stage}, headers=auth())
        assert moved.status_code == 200, moved.text
    early = await service.client.post(f"{base}/stage", json={"stage": "booked"}, headers=auth())
    assert early.status_code == 409 and "0 of 1 required bookings" in early.json()["detail"]
    await service.publish(BookingConfirmed(
        tenant_id="tenant-a", aggregate_id="b1", aggregate_version=2, producer="booking", trip_id=itinerary["id"],
        data=BookingDetails(booking_id="b1", itinerary_id=itinerary["id"], item_id=flight["id"], vendor_name="BA",
                            status="confirmed", confirmation_code="XY12")))
    detail = (await service.client.get(base, headers=auth())).json()
    assert detail["stage"] == "booked" and detail["readiness"]["label"] == "1 of 1 confirmed"
    assert detail["items"][0]["booking"]["confirmation_code"] == "XY12"
    assert detail["stage_history"][-1]["actor"] == "system"
    assert await move_due_itineraries(service.runtime.transaction, datetime(2027, 4, 30, tzinfo=UTC)) == 0
    assert await move_due_itineraries(service.runtime.transaction, datetime(2027, 5, 3, tzinfo=UTC)) == 2
    detail = (await service.client.get(base, headers=auth())).json()
    assert detail["stage"] == "completed"
    assert [h["to_stage"] for h in detail["stage_history"][-2:]] == ["in_progress", "completed"]


async def test_the_calendar_feed_keeps_each_items_own_time_zone(service):
    itinerary = await trip(service)
    await add(service, itinerary["id"], FLIGHT)
    await add(service, itinerary["id"], {"kind": "free_time", "title": "Explore, freely; rest", "start": "2027-05-03",
                                         "timezone": "Asia/Tokyo"})
    response = await service.client.get(f"/v1/itineraries/{itinerary['id']}/calendar.ics", headers=auth())
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert "DTSTART;TZID=Europe/London:20270501T190000\r\n" in text
    assert "DTEND;TZID=Asia/Tokyo:20270502T153000\r\n" in text
    assert "DTSTART;VALUE=DATE:20270503\r\nDTEND;VALUE=DATE:20270504\r\n" in text
    assert "SUMMARY:Explore\\, freely\\; rest" in text
    assert "TZID:Europe/London\r\nBEGIN:DAYLIGHT" in text and "TZOFFSETTO:+0100" in text
    assert text.count("BEGIN:VEVENT") == 2 and all(len(line.encode()) <= 75 for line in text.split("\r\n"))


async def test_the_printable_pdf_lists_each_day_in_local_time(service):
    itinerary = await trip(service)
    await add(service, itinerary["id"], FLIGHT)
    await add(service, itinerary["id"], SUSHI)
    response = await service.client.get(f"/v1/itineraries/{itinerary['id']}/itinerary.pdf", headers=auth())
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    for expected in ("Sushi class", "BA7 London to Tokyo", "Day 1", "Day 2", "departs 19:00 (Europe/London)",
                     "arrives 15:30 (Asia/Tokyo)", "16:00–18:00 (Asia/Tokyo)", "Heathrow"):
        assert expected in text, expected
    chinese = await service.client.get(f"/v1/itineraries/{itinerary['id']}/itinerary.pdf",
                                       params={"language": "zh-Hans"}, headers=auth())
    assert "抵达 15:30 (Asia/Tokyo)" in pdf_text(chinese.content)
    assert all(font.embedded for font in pdf_fonts(chinese.content)), pdf_fonts(chinese.content)
    refused = await service.client.get(f"/v1/itineraries/{itinerary['id']}/itinerary.pdf",
                                       params={"language": "fr"}, headers=auth())
    assert refused.status_code == 422


async def test_itineraries_and_items_carry_etags_and_if_match_refuses_stale_changes(service):
    itinerary = await trip(service)
    url = f"/v1/itineraries/{itinerary['id']}"
    read = await service.client.get(url, headers=auth())
    assert read.headers["etag"] == f'"{read.json()["version"]}"'
    added = await service.client.post(f"{url}/items", json={**SUSHI, "cost": {"amount": "40.5", "currency": "EUR"}},
                                      headers=auth())
    item_url = f"{url}/items/{added.json()['id']}"
    item_tag = (await service.client.get(item_url, headers=auth())).headers["etag"]
    assert item_tag == added.headers["etag"], "the same item read back has the same revision"
    stale_trip = await service.client.patch(url, json={"title": "Osaka"}, headers={**auth(), "If-Match": read.headers["etag"]})
    assert stale_trip.status_code == 412, "adding an item moved the itinerary on"
    other_item = await service.client.post(f"{url}/items", json={**SUSHI, "title": "Tea ceremony", "start": "2027-05-03T10:00",
                                                                 "end": "2027-05-03T11:00"}, headers=auth())
    assert other_item.status_code == 201
    assert (await service.client.get(item_url, headers=auth())).headers["etag"] == item_tag, \
        "another item's change leaves this item's revision as it was"
    moved = await service.client.patch(item_url, json={"title": "Sushi masterclass"}, headers={**auth(), "If-Match": item_tag})
    assert moved.status_code == 200 and moved.headers["etag"] != item_tag
    stale_item = await service.client.patch(item_url, json={"title": "Ramen"}, headers={**auth(), "If-Match": item_tag})
    assert stale_item.status_code == 412 and stale_item.json()["current_etag"] == moved.headers["etag"]
    assert (await service.client.delete(item_url, headers={**auth(), "If-Match": item_tag})).status_code == 412
    assert (await service.client.get(item_url, headers=auth())).json()["title"] == "Sushi masterclass"
    current = (await service.client.get(url, headers=auth())).headers["etag"]
    renamed = await service.client.patch(url, json={"title": "Osaka"}, headers={**auth(), "If-Match": current})
    assert renamed.status_code == 200 and renamed.headers["etag"] != current
    assert (await service.client.delete(item_url, headers={**auth(), "If-Match": moved.headers["etag"]})).status_code == 204


async def test_an_agency_sets_its_travel_buffers_and_exchange_rates_and_the_checks_and_budget_use_them(service):
    settings = await service.client.get("/v1/settings", headers=auth())
    assert settings.status_code == 200 and settings.json()["travel"]["airport_after_arrival_min"] == 45
    itinerary = await trip(service)
    await add(service, itinerary["id"], FLIGHT)
    await add(service, itinerary["id"], {**SUSHI, "start": "2027-05-02T17:30", "end": "2027-05-02T19:00",
                                         "cost": {"amount": "9000", "currency": "JPY"}})
    detail = (await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())).json()
    assert not [f for f in detail["feasibility"]["findings"] if f["kind"] == "insufficient_transfer_time"]
    changed = await service.client.patch("/v1/settings/travel", headers=auth(), json={
        "airport_after_arrival_min": 90, "speeds": {"car": {"kmh": 15}}})
    assert changed.status_code == 200 and changed.json()["travel"]["speeds"]["car"]["kmh"] == 15
    assert changed.json()["travel"]["speeds"]["car"]["overhead_min"] == 10, "what was not sent stays"
    detail = (await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())).json()
    [tight] = [f for f in detail["feasibility"]["findings"] if f["kind"] == "insufficient_transfer_time"]
    assert "90 min to leave the airport" in tight["message"]
    other_agency = (await service.client.get("/v1/settings", headers=auth("tenant-b"))).json()
    assert other_agency["travel"]["airport_after_arrival_min"] == 45, "another agency's settings are its own"

    await service.publish(PreferencesRecorded(
        tenant_id="tenant-a", aggregate_id="c-budget", aggregate_version=2, producer="customers",
        customer_id="c-budget", consultation_version=1, data=Preferences(budget=Budget(maximum=1500, currency="EUR"))))
    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c-budget", aggregate_version=1,
                                          producer="customers",
                                          data=CustomerSnapshot(customer_id="c-budget", first_name="Bo")))
    assert (await service.client.post(f"/v1/itineraries/{itinerary['id']}/customers",
                                      json={"customer_id": "c-budget"}, headers=auth())).status_code == 201
    budget = (await service.client.get(f"/v1/itineraries/{itinerary['id']}/budget", headers=auth())).json()
    assert budget["status"] == "not_comparable" and budget["missing_rates"] == ["JPY/EUR"]
    rate = await service.client.put("/v1/settings/exchange-rates/JPY/EUR", headers=auth(),
                                    json={"rate": "0.0062", "as_of": "2027-01-05", "source": "ECB reference rate"})
    assert rate.status_code == 200 and rate.json()["exchange_rates"][0]["entered_by"]
    budget = (await service.client.get(f"/v1/itineraries/{itinerary['id']}/budget", headers=auth())).json()
    assert budget["status"] == "within" and budget["price_in_budget_currency"] == "1255.80"
    assert budget["conversions"][0]["rate"]["source"] == "ECB reference rate"
    refused = [await service.client.put("/v1/settings/exchange-rates/JPY/JPY", headers=auth(),
                                        json={"rate": "1", "as_of": "2027-01-05", "source": "x"}),
               await service.client.put("/v1/settings/exchange-rates/jpy/EUR", headers=auth(),
                                        json={"rate": "1", "as_of": "2027-01-05", "source": "x"}),
               await service.client.put("/v1/settings/exchange-rates/JPY/EUR", headers=auth(),
                                        json={"rate": "-1", "as_of": "2027-01-05", "source": "x"}),
               await service.client.patch("/v1/settings/travel", headers=auth(),
                                          json={"speeds": {"rocket": {"kmh": 5}}})]
    assert [r.status_code for r in refused] == [422, 422, 422, 422], [r.text for r in refused]
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    after = (await service.client.get("/v1/settings", headers=auth())).json()
    assert [r["rate"] for r in after["exchange_rates"]] == ["0.0062"], "a refused change changes nothing"


async def test_a_trip_with_errors_is_proposed_only_with_an_override_and_its_reason_is_on_the_record(service):
    await service.publish(CustomerCreated(
        tenant_id="tenant-a", aggregate_id="c-pass", aggregate_version=1, producer="customers",
        data=CustomerSnapshot(customer_id="c-pass", first_name="Wei", last_name="Chen",
                              passport_expiry=datetime(2027, 5, 3).date())))
    itinerary = await trip(service)
    base = f"/v1/itineraries/{itinerary['id']}"
    assert (await service.client.post(f"{base}/customers", json={"customer_id": "c-pass"},
                                      headers=auth())).status_code == 201
    await add(service, itinerary["id"], SUSHI)
    [expired] = [f for f in (await service.client.get(f"{base}/feasibility", headers=auth())).json()["findings"]
                 if f["kind"] == "passport_expires_during_trip"]
    assert expired["severity"] == "error" and "Wei Chen" in expired["message"]
    await service.client.post(f"{base}/stage", json={"stage": "planning"}, headers=auth())
    refused = await service.client.post(f"{base}/proposals", headers=auth(), json={"options": [{"title": "A"}]})
    assert refused.status_code == 409 and refused.json()["code"] == "feasibility-errors"
    assert [f["kind"] for f in refused.json()["findings"]] == ["passport_expires_during_trip"]
    assert (await service.client.get(base, headers=auth())).json()["stage"] == "planning"
    sent = await service.client.post(f"{base}/proposals", headers=auth(), json={
        "options": [{"title": "A"}], "override_reason": "Renewal booked for 20 March; client confirmed by phone"})
    assert sent.status_code == 201, sent.text
    history = (await service.client.get(f"{base}/history", headers=auth())).json()["items"]
    [override] = [c for entry in history for c in entry["changes"] if c["field"] == "feasibility_override"]
    assert override["after"]["reason"].startswith("Renewal booked")
    assert "passport_expires_during_trip" in override["after"]["findings"][0]
