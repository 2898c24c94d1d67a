"""Bookings through the HTTP API and the supplier's answer page: requests built from the trip's events, answers,
amendments, cancellations."""
from trip_shared.contracts import booking as events
from trip_shared.contracts.itinerary import (
    DisruptionApplied,
    ItemSnapshot,
    ItineraryChanged,
    ItineraryCreated,
    ItinerarySummary,
    Party,
    Place,
    Requirement,
    TravellerSnapshot,
)
from trip_shared.testing.service import assert_every_v1_route_requires_auth, auth, unbounded_inputs
from trip_shared.web import ops

DINNER = ItemSnapshot(item_id="dinner-1", kind="dining", title="Kaiseki dinner at Gion Karyo", timezone="Asia/Tokyo",
                      start="2027-10-02T19:00", end="2027-10-02T21:00", place=Place(address="Gion, Kyoto"),
                      vendor="Gion Karyo", requires_booking=True)
HOTEL = ItemSnapshot(item_id="hotel-1", kind="accommodation", title="Hiiragiya Ryokan", timezone="Asia/Tokyo",
                     start="2027-10-01T15:00", end="2027-10-04T11:00", vendor="Hiiragiya Ryokan",
                     requires_booking=True)
ANA = TravellerSnapshot(customer_id="c1", name="Ana Silva", is_poc=True,
                        requirements=[Requirement(kind="dietary", text="vegetarian"),
                                      Requirement(kind="accessibility", text="wheelchair user")])
BEN = TravellerSnapshot(customer_id="c2", name="Ben Silva", requirements=[Requirement(kind="dietary",
                                                                                      text="no shellfish")])


def itinerary_event(itinerary_id="it-1", version=1, title="Kyoto", tenant="tenant-a", items=(DINNER,),
                    travellers=(ANA, BEN), party=(2, 1), stage="approved"):
    contract = ItineraryCreated if version == 1 else ItineraryChanged
    return contract(tenant_id=tenant, aggregate_id=itinerary_id, aggregate_version=version, trip_id=itinerary_id,
                    producer="itinerary", data=ItinerarySummary(
                        itinerary_id=itinerary_id, title=title, stage=stage, item_ids=[i.item_id for i in items],
                        items=list(items), travellers=list(travellers),
                        party=Party(adults=party[0], children=party[1])))


async def supplier(service, tenant="tenant-a", **fields):
    body = {"name": "Gion Karyo", "kind": "restaurant", "language": "en",
            "contacts": [{"name": "Reservations", "email": "reserve@karyo.example"}], **fields}
    response = await service.client.post("/v1/suppliers", json=body, headers=auth(tenant))
    assert response.status_code == 201, response.text
    return response.json()


async def request(service, supplier_id, tenant="tenant-a", **body):
    return await service.client.post("/v1/bookings", headers=auth(tenant), json={
        "itinerary_id": "it-1", "item_id": "dinner-1", "supplier_id": supplier_id, **body})


async def test_a_request_carries_what_the_supplier_needs_and_a_link_to_answer(service):
    await service.publish(itinerary_event())
    karyo = await supplier(service)
    created = await request(service, karyo["id"], price={"amount": "66000", "currency": "jpy"},
                            deposit={"amount": "20000", "currency": "JPY", "due_date": "2027-09-01"},
                            vendor_note="Anniversary: a quiet table, please.", respond_by="2027-08-20T09:00:00Z")
    assert created.status_code == 201, created.text
    booking = created.json()
    assert created.headers["location"] == f"/v1/bookings/{booking['id']}"
    assert (booking["status"], booking["vendor_name"], booking["round"]) == ("requested", "Gion Karyo", 1)
    assert booking["service"]["start"] == "2027-10-02T19:00" and booking["service"]["timezone"] == "Asia/Tokyo"
    assert (booking["party_adults"], booking["party_children"]) == (2, 1)
    assert booking["traveller_names"] == ["Ana Silva", "Ben Silva"]
    assert [(r["traveller_name"], r["kind"], r["text"]) for r in booking["requirements"]] == [
        ("Ana Silva", "dietary", "vegetarian"), ("Ana Silva", "accessibility", "wheelchair user"),
        ("Ben Silva", "dietary", "no shellfish")]
    assert booking["price"] == {"amount": "66000.00", "currency": "JPY"}
    assert booking["deposit"]["due_date"] == "2027-09-01"
    assert [(h["to_status"], h["channel"]) for h in booking["history"]] == [("requested", "api")]

    [requested] = await service.emitted(events.BookingRequested)
    assert requested.trip_id == "it-1" and requested.data.service.place.address == "Gion, Kyoto"
    message = requested.to_supplier
    assert (message.kind, message.channel, message.email, message.language) == (
        "request", "email", "reserve@karyo.example", "en")
    assert message.response_url.startswith("http") and "/supplier/bookings/" in message.response_url
    assert message.vendor_note == "Anniversary: a quiet table, please."


async def test_a_planner_records_a_phone_confirmation_once(service):
    await service.publish(itinerary_event())
    booking = (await request(service, (await supplier(service))["id"])).json()
    url = f"/v1/bookings/{booking['id']}/confirmation"
    first_line = booking["requirements"][0]["id"]
    confirmed = await service.client.post(url, headers=auth(), json={
        "confirmation_code": "GK-123", "confirmed_price": {"amount": "64000", "currency": "JPY"},
        "acknowledged_requirements": [first_line]})
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["confirmed_price"]["amount"] == "64000.00"
    assert body["history"][-1]["channel"] == "phone" and body["history"][-1]["actor"] == body["history"][0]["actor"]
    assert [r["acknowledged_via"] for r in body["requirements"]] == ["phone", None, None]
    again = await service.client.post(url, json={"confirmation_code": "GK-123"}, headers=auth())
    assert again.status_code == 200 and again.json()["version"] == body["version"]
    [confirmation] = await service.emitted(events.BookingConfirmed)
    assert confirmation.data.confirmation_code == "GK-123" and confirmation.data.channel == "phone"
    [acknowledged] = await service.emitted(events.BookingRequirementsAcknowledged)
    assert acknowledged.acknowledged == [first_line]


async def test_an_item_has_one_open_booking_and_impossible_moves_are_409(service):
    await service.publish(itinerary_event())
    karyo = await supplier(service)
    booking = (await request(service, karyo["id"])).json()
    twice = await request(service, karyo["id"])
    assert twice.status_code == 409 and twice.json()["code"] == "item-already-requested"
    path = f"/v1/bookings/{booking['id']}"
    refused = await service.client.post(f"{path}/cancellation/confirmation",
                                        json={"cancellation_reference": "X"}, headers=auth())
    assert refused.status_code == 409 and "requested" in refused.json()["detail"]
    declined = await service.client.post(f"{path}/decline", headers=auth(),
                                         json={"reason": "Closed that night", "alternative": "The 3rd at 19:00"})
    assert declined.json()["status"] == "declined" and declined.json()["alternative"] == "The 3rd at 19:00"
    for route, body in (("amendment", {"changes": ["later"]}), ("cancellation", {"reason": "x"}),
                        ("confirmation", {"confirmation_code": "A"})):
        moved = await service.client.post(f"{path}/{route}", json=body, headers=auth())
        assert moved.status_code == 409 and moved.json()["code"] == "booking-state-conflict", (route, moved.text)
    assert (await request(service, karyo["id"])).status_code == 201, "a declined item can be requested again"
    [declined_event] = await service.emitted(events.BookingDeclined)
    assert declined_event.data.status == "declined" and declined_event.data.decline_reason == "Closed that night"


async def test_the_trip_changing_marks_the_booking_and_one_call_sends_the_amendment(service):
    await service.publish(itinerary_event())
    booking = (await request(service, (await supplier(service))["id"])).json()
    path = f"/v1/bookings/{booking['id']}"
    await service.client.post(f"{path}/confirmation", json={"confirmation_code": "GK-1"}, headers=auth())
    later = DINNER.model_copy(update={"start": "2027-10-02T20:00", "end": "2027-10-02T22:00"})
    await service.publish(itinerary_event(version=2, items=(later,)))
    marked = (await service.client.get(path, headers=auth())).json()
    assert marked["status"] == "confirmed" and marked["attention"] == "amendment"
    assert marked["attention_changes"] == ["start: 2027-10-02T19:00 → 2027-10-02T20:00",
                                           "end: 2027-10-02T21:00 → 2027-10-02T22:00"]
    [attention] = await service.emitted(events.BookingNeedsAttention)
    assert attention.data.attention == "amendment"
    await service.publish(itinerary_event(version=2, items=(later,)))  # redelivered: one effect
    assert len(await service.emitted(events.BookingNeedsAttention)) == 1

    amended = await service.client.post(f"{path}/amendment", json={"reason": "The flight lands later."},
                                        headers=auth())
    assert amended.status_code == 200, amended.text
    body = amended.json()
    assert (body["status"], body["round"], body["attention"]) == ("amendment_requested", 2, None)
    assert body["service"]["start"] == "2027-10-02T20:00" and body["amendment_changes"][0].startswith("start")
    [amendment] = await service.emitted(events.BookingAmendmentRequested)
    assert amendment.to_supplier.kind == "amendment" and amendment.to_supplier.amendment_reason.startswith("The")
    confirmed = await service.client.post(f"{path}/confirmation", json={"confirmation_code": "GK-2"},
                                          headers=auth())
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["confirmation_code"] == "GK-2"


async def test_a_trip_shifted_around_a_delay_sends_the_amendment_at_once_with_why_not_the_incident(service):
    flight = ItemSnapshot(item_id="flight-1", kind="flight", title="Flight JL123", timezone="Asia/Tokyo",
                          start="2027-10-02T13:00", end="2027-10-02T16:00")
    await service.publish(itinerary_event(items=(flight, DINNER)))
    booking = (await request(service, (await supplier(service))["id"])).json()
    path = f"/v1/bookings/{booking['id']}"
    await service.client.post(f"{path}/confirmation", json={"confirmation_code": "GK-1"}, headers=auth())
    late_flight = flight.model_copy(update={"start": "2027-10-02T16:00", "end": "2027-10-02T19:00"})
    later = DINNER.model_copy(update={"start": "2027-10-02T22:00", "end": "2027-10-03T00:00"})
    shifted = itinerary_event(version=2, items=(late_flight, later), stage="in_progress").model_copy(update={
        "action": "disruption_shift",
        "disruption": DisruptionApplied(incident_id="inc-1", item_id="flight-1", kind="delay", delay_minutes=180)})
    await service.publish(shifted)
    amended = (await service.client.get(path, headers=auth())).json()
    assert (amended["status"], amended["round"], amended["attention"]) == ("amendment_requested", 2, None)
    assert amended["service"]["start"] == "2027-10-02T22:00"
    [amendment] = await service.emitted(events.BookingAmendmentRequested)
    assert amendment.to_supplier.amendment_reason == ("Flight JL123 is delayed by 3 h; the later services of the "
                                                      "trip move with it.")
    assert amendment.to_supplier.response_url and amendment.data.actor == "system"
    assert amendment.data.amendment_changes[0] == "start: 2027-10-02T19:00 → 2027-10-02T22:00"
    assert await service.emitted(events.BookingNeedsAttention) == [], "nothing left for the planner to do"
    await service.publish(shifted)  # redelivered: one amendment
    assert len(await service.emitted(events.BookingAmendmentRequested)) == 1


async def test_a_removed_item_or_a_cancelled_trip_asks_for_a_cancellation(service):
    await service.publish(itinerary_event(items=(DINNER, HOTEL)))
    karyo = await supplier(service)
    dinner = (await request(service, karyo["id"])).json()
    await service.publish(itinerary_event(version=2, items=(HOTEL,)))
    marked = (await service.client.get(f"/v1/bookings/{dinner['id']}", headers=auth())).json()
    assert (marked["attention"], marked["attention_changes"]) == ("cancellation", ["the item was removed"])
    amend = await service.client.post(f"/v1/bookings/{dinner['id']}/amendment", json={}, headers=auth())
    assert amend.status_code == 409 and amend.json()["code"] == "item-removed"
    cancelled = await service.client.post(f"/v1/bookings/{dinner['id']}/cancellation",
                                          json={"reason": "Dinner dropped from the trip"}, headers=auth())
    assert (cancelled.json()["status"], cancelled.json()["attention"]) == ("cancellation_requested", None)
    [asked] = await service.emitted(events.BookingCancellationRequested)
    assert asked.to_supplier.kind == "cancellation" and asked.to_supplier.response_url
    done = await service.client.post(f"/v1/bookings/{dinner['id']}/cancellation/confirmation",
                                     json={"cancellation_reference": "CX-9"}, headers=auth())
    assert done.json()["status"] == "cancelled" and done.json()["cancellation_reference"] == "CX-9"
    assert [step["to_status"] for step in done.json()["history"]] == ["requested", "cancellation_requested",
                                                                      "cancelled"]


async def test_a_traveller_s_new_needs_mark_the_booking(service):
    await service.publish(itinerary_event())
    booking = (await request(service, (await supplier(service))["id"])).json()
    vegan = ANA.model_copy(update={"requirements": [Requirement(kind="dietary", text="vegan")]})
    await service.publish(itinerary_event(version=2, travellers=(vegan, BEN)))
    marked = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert marked["attention"] == "amendment"
    assert marked["attention_changes"] == ["requirements: Ana Silva: vegan; Ben Silva: no shellfish"]
    resent = (await service.client.post(f"/v1/bookings/{booking['id']}/amendment", json={},
                                        headers=auth())).json()
    assert resent["status"] == "requested" and resent["round"] == 2, "an unanswered request is re-sent as it is now"
    assert [r["text"] for r in resent["requirements"]] == ["vegan", "no shellfish"]
    assert len(await service.emitted(events.BookingRequested)) == 2


async def test_one_call_requests_every_item_still_needing_a_booking(service):
    free = ItemSnapshot(item_id="walk-1", kind="activity", title="Philosopher's Path", timezone="Asia/Tokyo",
                        start="2027-10-03")
    tea = ItemSnapshot(item_id="tea-1", kind="activity", title="Tea ceremony", timezone="Asia/Tokyo",
                       start="2027-10-03T10:00", vendor="Camellia", requires_booking=True)
    await service.publish(itinerary_event(items=(HOTEL, DINNER, free, tea)))
    karyo = await supplier(service)
    ryokan = await supplier(service, name="Hiiragiya Ryokan", kind="hotel", language="zh-Hans")
    await request(service, karyo["id"])
    made = await service.client.post("/v1/itineraries/it-1/booking-requests", json={}, headers=auth())
    assert made.status_code == 201, made.text
    assert [(b["item_id"], b["supplier_id"]) for b in made.json()["requested"]] == [("hotel-1", ryokan["id"])]
    assert [(s["item_id"], "Camellia" in s["reason"]) for s in made.json()["skipped"]] == [("tea-1", True)]
    again = await service.client.post("/v1/itineraries/it-1/booking-requests", json={}, headers=auth())
    assert again.json()["requested"] == [] and [s["item_id"] for s in again.json()["skipped"]] == ["tea-1"]


async def test_bad_input_gets_problem_details_and_changes_nothing(service):
    await service.publish(itinerary_event())
    await service.publish(itinerary_event("theirs", tenant="tenant-b"))
    karyo = await supplier(service)
    booking = (await request(service, karyo["id"])).json()
    await service.client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "A"},
                              headers=auth())
    theirs = await supplier(service, tenant="tenant-b")
    inactive = await supplier(service, name="Closed Place")
    await service.client.patch(f"/v1/suppliers/{inactive['id']}", json={"active": False}, headers=auth())
    client = service.client
    cases = [
        (await client.post("/v1/bookings", content=b"{", headers={**auth(), "content-type": "application/json"}), 400, "malformed-json"),
        (await request(service, karyo["id"], itinerary_id="nope"), 404, "itinerary-not-found"),
        (await request(service, karyo["id"], itinerary_id="theirs"), 404, "itinerary-not-found"),
        (await request(service, karyo["id"], item_id="nope"), 422, "item-not-on-itinerary"),
        (await request(service, theirs["id"], item_id="dinner-1"), 404, "supplier-not-found"),
        (await request(service, karyo["id"], tenant="read-only"), 403, "forbidden"),
        (await request(service, karyo["id"], price={"amount": "-1", "currency": "JPY"}), 422, "invalid-request"),
        (await request(service, karyo["id"], price={"amount": "1", "currency": "YENS"}), 422, "invalid-request"),
        (await request(service, karyo["id"], respond_by="2020-01-01T00:00:00Z"), 409, "item-already-requested"),
        (await client.post("/v1/bookings/nope/confirmation", json={"confirmation_code": "A"}, headers=auth()), 404, "booking-not-found"),
        (await client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "B"}, headers=auth()), 409, "already-confirmed"),
        (await client.post(f"/v1/bookings/{booking['id']}/confirmation", json={}, headers=auth()), 422, "invalid-request"),
        (await client.post(f"/v1/bookings/{booking['id']}/requirements/acknowledgement", json={"requirement_ids": ["r0"]}, headers=auth()), 422, "unknown-requirement"),
        (await client.post(f"/v1/bookings/{booking['id']}/amendment", json={}, headers=auth()), 422, "nothing-to-amend"),
        (await client.get(f"/v1/bookings/{booking['id']}", headers=auth("tenant-b")), 404, "booking-not-found"),
        (await client.get("/v1/bookings", headers=auth()), 422, "invalid-request"),
        (await client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "A\nB"}, headers=auth()), 422, "invalid-request"),
    ]
    for response, status, code in cases:
        assert response.status_code == status and response.json()["code"] == code, response.text
    await service.publish(itinerary_event(version=2, items=(DINNER, HOTEL)))
    for response, status, code in [
        (await client.post("/v1/bookings", headers=auth(), json={"itinerary_id": "it-1", "item_id": "hotel-1", "supplier_id": inactive["id"]}), 409, "supplier-inactive"),
        (await client.post("/v1/bookings", headers=auth(), json={"itinerary_id": "it-1", "item_id": "hotel-1", "supplier_id": karyo["id"], "respond_by": "2020-01-01T00:00:00Z"}), 422, "invalid-respond-by"),
        (await client.post("/v1/bookings", headers=auth(), json={"itinerary_id": "it-1", "item_id": "hotel-1", "supplier_id": karyo["id"], "price": {"amount": "10", "currency": "JPY"}, "deposit": {"amount": "20", "currency": "JPY", "due_date": "2027-01-01"}}), 422, "invalid-deposit"),
    ]:
        assert response.status_code == status and response.json()["code"] == code, response.text
    assert await service.runtime.store.db["bookings"].count_documents({}) == 1
    assert [e.data.confirmation_code for e in await service.emitted(events.BookingConfirmed)] == ["A"]


async def test_every_route_requires_an_api_key(service):
    # bookings, suppliers, ops
    assert await assert_every_v1_route_requires_auth(service) == 15 + 5 + len(ops.router.routes)
    assert unbounded_inputs(service.app) == [], "every field a client sends has a size limit"


async def test_the_itineraries_read_model_follows_events_once_and_in_version_order(service):
    await service.publish(itinerary_event(version=1, title="Kyoto"))
    await service.publish(itinerary_event(version=3, title="Kyoto & Nara"))
    await service.publish(itinerary_event(version=2, title="Old title"))
    await service.publish(itinerary_event(version=3, title="Kyoto & Nara"))
    known = await service.runtime.store.db["known_itineraries"].find_one({"_id": "it-1"})
    assert known["title"] == "Kyoto & Nara" and known["version"] == 3
    assert known["items"]["dinner-1"]["title"] == DINNER.title and known["party"] == {"adults": 2, "children": 1}


# --- the supplier's page ----------------------------------------------------------------------------------------


async def requested(service, **supplier_fields):
    await service.publish(itinerary_event())
    karyo = await supplier(service, notes="Pays commission monthly", **supplier_fields)
    booking = (await request(service, karyo["id"], respond_by="2027-08-20T09:00:00Z",
                             vendor_note="Anniversary: a quiet table")).json()
    [event] = await service.emitted(events.BookingRequested)
    return booking, event.to_supplier.response_url.split("/supplier/")[1]


async def test_the_supplier_sees_the_request_in_local_time_and_confirms_with_requirements(service):
    booking, path = await requested(service)
    page = await service.client.get(f"/supplier/{path}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for shown in ("Booking request", "Kaiseki dinner at Gion Karyo", "Sat 02 Oct 2027, 19:00 (Asia/Tokyo)",
                  "21:00 (Asia/Tokyo)", "Gion, Kyoto", "2 adult(s), 1 child(ren)", "Ana Silva, Ben Silva",
                  "Dietary — Ana Silva: vegetarian", "Accessibility — Ana Silva: wheelchair user",
                  "Anniversary: a quiet table", "Fri 20 Aug 2027, 18:00 (Asia/Tokyo)", "From Lotus &amp; Maple Travel",
                  "Lotus &amp; Maple Travel: phone +86 21 5555 0100 · e-mail care@lotusmaple.example"):
        assert shown in html, shown
    assert "Pays commission" not in html, "the agency's own notes on the supplier never reach it"
    assert "On-trip support" not in html, "a supplier is not a traveller"
    first, second = booking["requirements"][0]["id"], booking["requirements"][1]["id"]
    answer = {"action": "confirm", "confirmation_code": "GK-77", "confirmed_amount": "64000",
              "confirmed_currency": "JPY", "acknowledge": [first, second]}
    confirmed = await service.client.post(f"/supplier/{path}", data=answer)
    assert confirmed.status_code == 200 and "GK-77" in confirmed.text, confirmed.text
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert (got["status"], got["confirmation_code"], got["confirmed_price"]["amount"]) == ("confirmed", "GK-77",
                                                                                          "64000.00")
    assert [r["acknowledged_via"] for r in got["requirements"]] == ["email", "email", None]
    assert got["history"][1]["channel"] == "email" and got["history"][1]["actor"].startswith("supplier:")

    double_click = await service.client.post(f"/supplier/{path}", data=answer)
    assert double_click.status_code == 200
    assert len(await service.emitted(events.BookingConfirmed)) == 1, "a double click has one effect"
    late = await service.client.post(f"/supplier/{path}", data={"action": "decline", "reason": "full"})
    assert late.status_code == 409 and "already answered" in late.text
    # The rest of the requirements can still be acknowledged from the same link.
    rest = await service.client.post(f"/supplier/{path}", data={"action": "acknowledge",
                                                                "acknowledge": [booking["requirements"][2]["id"]]})
    assert rest.status_code == 200
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert got["status"] == "confirmed" and all(r["acknowledged_at"] for r in got["requirements"])
    assert len(await service.emitted(events.BookingRequirementsAcknowledged)) == 2


async def test_a_chinese_speaking_supplier_declines_with_an_alternative(service):
    booking, path = await requested(service, language="zh-Hans")
    page = await service.client.get(f"/supplier/{path}")
    assert "预订请求" in page.text and "2027年10月2日 周六, 19:00 (Asia/Tokyo)" in page.text
    assert "饮食 — Ana Silva: vegetarian" in page.text and 'lang="zh-Hans"' in page.text
    missing = await service.client.post(f"/supplier/{path}", data={"action": "decline", "reason": " "})
    assert missing.status_code == 422 and "请说明原因" in missing.text
    declined = await service.client.post(f"/supplier/{path}", data={"action": "decline", "reason": "当晚已满",
                                                                   "alternative": "10月3日 19:00"})
    assert declined.status_code == 200 and "已婉拒" in declined.text
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert (got["status"], got["decline_reason"], got["alternative"]) == ("declined", "当晚已满", "10月3日 19:00")


async def test_a_superseded_link_is_stale_and_a_forged_one_is_refused(service):
    booking, path = await requested(service)
    await service.client.post(f"/supplier/{path}", data={"action": "confirm", "confirmation_code": "GK-1"})
    await service.client.post(f"/v1/bookings/{booking['id']}/amendment",
                              json={"changes": ["dinner for 4, not 3"], "reason": "A friend joins"}, headers=auth())
    [amendment] = await service.emitted(events.BookingAmendmentRequested)
    new_path = amendment.to_supplier.response_url.split("/supplier/")[1]
    assert new_path != path
    old = await service.client.post(f"/supplier/{path}", data={"action": "confirm", "confirmation_code": "GK-2"})
    assert old.status_code == 409, "the first round's link cannot answer the amendment"
    page = await service.client.get(f"/supplier/{new_path}")
    assert "Amendment request" in page.text and "dinner for 4, not 3" in page.text and "A friend joins" in page.text
    assert (await service.client.post(f"/supplier/{new_path}", data={"action": "confirm",
                                                                     "confirmation_code": "GK-2"})).status_code == 200
    forged = await service.client.get(f"/supplier/{path[:-3]}abc")
    assert forged.status_code == 403 and "cannot be used" in forged.text
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert [h["to_status"] for h in got["history"]] == ["requested", "confirmed", "amendment_requested", "confirmed"]


async def test_the_supplier_confirms_a_cancellation_with_its_reference(service):
    booking, _ = await requested(service)
    await service.client.post(f"/v1/bookings/{booking['id']}/cancellation", json={"reason": "Trip shortened"},
                              headers=auth())
    [asked] = await service.emitted(events.BookingCancellationRequested)
    path = asked.to_supplier.response_url.split("/supplier/")[1]
    page = await service.client.get(f"/supplier/{path}")
    assert "Cancellation request" in page.text and "Trip shortened" in page.text
    done = await service.client.post(f"/supplier/{path}", data={"action": "cancel", "cancellation_reference": "CX-1"})
    assert done.status_code == 200 and "CX-1" in done.text
    [cancelled] = await service.emitted(events.BookingCancelled)
    assert cancelled.data.cancellation_reference == "CX-1" and cancelled.data.channel == "email"


# --- following up -------------------------------------------------------------------------------------------------

async def test_unanswered_requests_are_chased_then_escalated_and_expire_at_their_deadline(service):
    from datetime import UTC, datetime, timedelta

    from booking.service_layer import services

    await service.publish(itinerary_event())
    settings = await service.client.patch("/v1/booking-settings", headers=auth(), json={
        "chase_after_hours": 24, "chases_before_escalation": 1, "escalation_email": "planners@agency.example"})
    assert settings.status_code == 200 and settings.json()["version"] == 1, settings.text
    again = await service.client.patch("/v1/booking-settings", headers=auth(), json={"chase_after_hours": 24})
    assert again.status_code == 200 and again.json()["version"] == 2, again.text
    booking = (await request(service, (await supplier(service))["id"], respond_by="2027-08-20T09:00:00Z")).json()
    runtime, links = service.runtime, service.app.state.response_links
    made = datetime.fromisoformat(booking["created_at"])
    assert await services.follow_up_due(runtime.transaction, links, made + timedelta(hours=23)) == 0
    assert await services.follow_up_due(runtime.transaction, links, made + timedelta(hours=24)) == 1
    assert await services.follow_up_due(runtime.transaction, links, made + timedelta(hours=25)) == 0, "once"
    [reminded] = await service.emitted(events.BookingSupplierReminded)
    assert reminded.to_supplier.kind == "reminder" and reminded.data.chases == 1
    assert reminded.to_supplier.response_url, "the reminder carries the same round's link"
    assert await services.follow_up_due(runtime.transaction, links, made + timedelta(hours=48)) == 1
    [escalated] = await service.emitted(events.BookingEscalated)
    assert escalated.escalation.notify_email == "planners@agency.example"
    assert "Gion Karyo has not answered" in escalated.escalation.reason
    assert await services.follow_up_due(runtime.transaction, links, made + timedelta(days=5)) == 0, "told once"
    deadline = datetime(2027, 8, 20, 9, tzinfo=UTC)
    assert await services.follow_up_due(runtime.transaction, links, deadline) == 1
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert got["status"] == "expired" and got["escalated_at"] and got["chases"] == 1
    [expired] = await service.emitted(events.BookingExpired)
    assert expired.data.status == "expired"
    # A late answer on the expired request's page is stale.
    [requested] = await service.emitted(events.BookingRequested)
    path = requested.to_supplier.response_url.split("/supplier/")[1]
    late = await service.client.post(f"/supplier/{path}", data={"action": "confirm", "confirmation_code": "X"})
    assert late.status_code == 409 and "expired" in late.text


async def test_a_confirmed_booking_is_reconfirmed_before_the_service(service):
    from datetime import UTC, datetime

    from booking.service_layer import services

    await service.publish(itinerary_event(items=(DINNER.model_copy(update={
        "starts_at": datetime(2027, 10, 2, 10, tzinfo=UTC)}),)))
    booking = (await request(service, (await supplier(service))["id"])).json()
    await service.client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "GK-1"},
                              headers=auth())
    runtime, links = service.runtime, service.app.state.response_links
    assert await services.follow_up_due(runtime.transaction, links, datetime(2027, 9, 28, tzinfo=UTC)) == 0
    assert await services.follow_up_due(runtime.transaction, links, datetime(2027, 9, 29, 10, tzinfo=UTC)) == 1
    [asked] = await service.emitted(events.BookingSupplierReminded)
    assert asked.to_supplier.kind == "reconfirmation"
    path = asked.to_supplier.response_url.split("/supplier/")[1]
    page = await service.client.get(f"/supplier/{path}")
    assert "please reconfirm booking GK-1" in page.text
    done = await service.client.post(f"/supplier/{path}", data={"action": "reconfirm"})
    assert done.status_code == 200 and "reconfirmed" in done.text
    again = await service.client.post(f"/supplier/{path}", data={"action": "reconfirm"})
    assert again.status_code == 200
    assert len(await service.emitted(events.BookingReconfirmed)) == 1
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert got["reconfirmed_at"] and got["status"] == "confirmed"


async def test_follow_up_settings_are_validated(service):
    for body in ({"chase_after_hours": 0}, {"reconfirm_days_before": 61}, {"chase_after_hours": None},
                 {"bogus": 1}):
        refused = await service.client.patch("/v1/booking-settings", json=body, headers=auth())
        assert refused.status_code == 422, (body, refused.text)
    got = (await service.client.get("/v1/booking-settings", headers=auth())).json()
    assert got == {"chase_after_hours": 48, "chases_before_escalation": 2, "reconfirm_days_before": 3,
                   "escalation_email": None, "version": 0}


async def test_readiness_says_what_each_trip_still_needs(service):
    from datetime import UTC, datetime

    from booking.service_layer import services

    transfer = ItemSnapshot(item_id="car-1", kind="transfer", title="Car to Kyoto Station", timezone="Asia/Tokyo",
                            start="2027-10-04T11:30", requires_booking=True)
    await service.publish(itinerary_event(items=(HOTEL, DINNER, transfer)))
    await service.publish(itinerary_event("it-later", items=(HOTEL.model_copy(update={"start": "2027-12-01T15:00"}),)))
    karyo = await supplier(service)
    dinner = (await request(service, karyo["id"])).json()
    hotel = (await request(service, karyo["id"], item_id="hotel-1")).json()
    await service.client.post(f"/v1/bookings/{hotel['id']}/confirmation", headers=auth(), json={
        "confirmation_code": "H-1", "acknowledged_requirements": [r["id"] for r in hotel["requirements"]]})
    await service.client.post(f"/v1/bookings/{dinner['id']}/decline", json={"reason": "full"}, headers=auth())

    report = (await service.client.get("/v1/itineraries/it-1/readiness", headers=auth())).json()
    assert (report["required"], report["confirmed"], report["ready"]) == (3, 1, False)
    assert sorted(entry["item_id"] for entry in report["unrequested"]) == ["car-1", "dinner-1"]
    assert [(d["item_id"], d["reason"]) for d in report["declined"]] == [("dinner-1", "full")]
    assert report["requirements_unacknowledged"] == [], "declined bookings' needs are not waiting on anyone"
    assert report["departs_on"] == "2027-10-01"

    departing = await services.readiness_departing(service.runtime.transaction, "tenant-a", 14,
                                                   now=datetime(2027, 9, 25, tzinfo=UTC))
    assert [trip.itinerary_id for trip in departing] == ["it-1"], "the December trip departs later"
    later = await services.readiness_departing(service.runtime.transaction, "tenant-a", 90,
                                               now=datetime(2027, 9, 25, tzinfo=UTC))
    assert [trip.itinerary_id for trip in later] == ["it-1", "it-later"], "soonest first"
    listed = await service.client.get("/v1/readiness", params={"departing_within_days": 365}, headers=auth())
    assert listed.status_code == 200 and all("ready" in trip for trip in listed.json()["items"]), listed.text
    assert (await service.client.get("/v1/readiness", params={"departing_within_days": -1},
                                     headers=auth())).status_code == 422
    missing = await service.client.get("/v1/itineraries/nope/readiness", headers=auth())
    assert missing.status_code == 404


async def test_a_confirmed_booking_has_a_voucher_for_the_client(service):
    from trip_shared.testing.documents import pdf_fonts, pdf_text

    await service.publish(itinerary_event())
    karyo = await supplier(service, address="570-8 Gionmachi Minamigawa, Kyoto",
                           contacts=[{"email": "reserve@karyo.example", "phone": "+81 75 532 0025"}],
                           notes="Pays 10% commission")
    booking = (await request(service, karyo["id"], price={"amount": "66000", "currency": "JPY"},
                             vendor_note="Anniversary: a quiet table")).json()
    early = await service.client.get(f"/v1/bookings/{booking['id']}/voucher.pdf", headers=auth())
    assert early.status_code == 404 and early.json()["code"] == "no-voucher"
    confirmed = (await service.client.post(f"/v1/bookings/{booking['id']}/confirmation", headers=auth(), json={
        "confirmation_code": "GK-2027", "acknowledged_requirements": [booking["requirements"][0]["id"]]})).json()
    assert confirmed["voucher_url"] and "/vouchers/" in confirmed["voucher_url"]
    [event] = await service.emitted(events.BookingConfirmed)
    assert event.data.voucher_url == confirmed["voucher_url"], "itinerary learns the link from the event"

    planner_copy = await service.client.get(f"/v1/bookings/{booking['id']}/voucher.pdf", headers=auth())
    assert planner_copy.status_code == 200 and planner_copy.headers["content-type"] == "application/pdf"
    text = pdf_text(planner_copy.content)
    for shown in ("Service voucher", "GK-2027", "Kaiseki dinner at Gion Karyo",
                  "Sat 02 Oct 2027, 19:00 (Asia/Tokyo) – 21:00 (Asia/Tokyo)", "570-8 Gionmachi Minamigawa",
                  "+81 75 532 0025", "Ana Silva, Ben Silva", "Dietary — Ana Silva: vegetarian (confirmed by the supplier)",
                  "Dietary — Ben Silva: no shellfish (not yet confirmed by the supplier)", "Lotus & Maple Travel",
                  "+86 21 5555 0199"):
        assert shown in text, (shown, text)
    for hidden in ("66000", "Anniversary", "commission"):
        assert hidden not in text, hidden
    assert all(font.embedded for font in pdf_fonts(planner_copy.content))

    path = confirmed["voucher_url"].split("://", 1)[1].split("/", 1)[1]
    chinese = await service.client.get(f"/{path}", params={"lang": "zh-Hans"})
    assert chinese.status_code == 200 and chinese.headers["content-type"] == "application/pdf"
    assert "服务凭证" in pdf_text(chinese.content) and "2027年10月2日 周六, 19:00 (Asia/Tokyo)" in pdf_text(chinese.content)
    forged = await service.client.get(f"/{path}x")
    assert forged.status_code == 403
    await service.client.post(f"/v1/bookings/{booking['id']}/cancellation", json={"reason": "x"}, headers=auth())
    assert (await service.client.get(f"/{path}")).status_code == 404, "a cancelled booking's voucher is gone"


# --- webhook suppliers ----------------------------------------------------------------------------------------------

async def test_a_webhook_supplier_answers_with_signed_callbacks_and_forgeries_change_nothing(service):
    import json
    import time

    from trip_shared.webhooks import signed_headers

    await service.publish(itinerary_event())
    cars = await supplier(service, name="Kansai Private Cars", kind="transfer", channel="webhook",
                          webhook_url="https://api.kansaicars.example/bookings")
    secret = cars["signing_secret"]
    booking = (await request(service, cars["id"])).json()
    [requested] = await service.emitted(events.BookingRequested)
    message = requested.to_supplier
    assert (message.channel, message.webhook_url, message.secret_generation) == (
        "webhook", "https://api.kansaicars.example/bookings", 1)
    assert message.response_url is None and "/supplier/callbacks/" in message.callback_url
    path = "/" + message.callback_url.split("://", 1)[1].split("/", 1)[1]

    def signed(answer: dict, *, key=secret, at=None) -> tuple[bytes, dict]:
        body = json.dumps(answer).encode()
        return body, signed_headers(key, int(at or time.time()), body)

    confirm = {"booking_id": booking["id"], "round": 1, "action": "confirm", "confirmation_code": "KC-881",
               "acknowledged_requirements": [booking["requirements"][0]["id"]]}
    body, headers = signed(confirm)
    refusals = [
        (await service.client.post(path, content=body, headers={"Content-Type": "application/json"}), 401,
         "webhook-unsigned"),
        (await service.client.post(path, content=body.replace(b"KC-881", b"KC-999"), headers=headers), 401,
         "webhook-bad-signature"),
        (await service.client.post(path, content=signed(confirm, at=time.time() - 301)[0],
                                   headers=signed(confirm, at=time.time() - 301)[1]), 401, "webhook-stale"),
        (await service.client.post(path, content=signed(confirm, key="whsec_guessed")[0],
                                   headers=signed(confirm, key="whsec_guessed")[1]), 401, "webhook-bad-signature"),
        (await service.client.post(path[:-4] + "abcd", content=body, headers=headers), 403, "invalid-link"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()["status"] == \
        "requested", "nothing a refused callback said was applied"

    accepted = await service.client.post(path, content=body, headers=headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "confirmed", accepted.text
    replayed = await service.client.post(path, content=body, headers=headers)
    assert replayed.status_code == 409 and replayed.json()["code"] == "webhook-replayed"
    fresh = signed(confirm, at=time.time() + 1)  # signed a second later: another message, the same answer
    again = await service.client.post(path, content=fresh[0], headers=fresh[1])
    assert again.status_code == 200, "the same answer, freshly signed, is harmless"
    late = {"booking_id": booking["id"], "round": 1, "action": "decline", "reason": "no cars"}
    stale = await service.client.post(path, content=signed(late)[0], headers=signed(late)[1])
    assert stale.status_code == 409 and stale.json()["code"] == "answer-stale"
    got = (await service.client.get(f"/v1/bookings/{booking['id']}", headers=auth())).json()
    assert got["history"][1]["channel"] == "webhook" and got["requirements"][0]["acknowledged_via"] == "webhook"
    assert len(await service.emitted(events.BookingConfirmed)) == 1

    # A rotated secret: the old one no longer signs.
    await service.client.post(f"/v1/suppliers/{cars['id']}/signing-secret", headers=auth())
    ack = {"booking_id": booking["id"], "round": 1, "action": "acknowledge",
           "acknowledged_requirements": [booking["requirements"][1]["id"]]}
    old = await service.client.post(path, content=signed(ack)[0], headers=signed(ack)[1])
    assert old.status_code == 401 and old.json()["code"] == "webhook-bad-signature"


def gauge_values(text: str, name: str) -> dict[tuple, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {tuple(sorted(sample.labels.items())): sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name}


async def test_metrics_count_what_suppliers_have_not_answered_and_what_is_unconfirmed_close_to_its_date(service):
    from datetime import timedelta

    from trip_shared.clock import utc_now

    tomorrow = DINNER.model_copy(update={"item_id": "dinner-soon", "starts_at": utc_now() + timedelta(hours=30)})
    await service.publish(itinerary_event(items=(DINNER, HOTEL, tomorrow)))
    karyo = await supplier(service)
    assert (await request(service, karyo["id"], item_id="dinner-soon")).status_code == 201
    assert (await request(service, karyo["id"])).status_code == 201
    hotel = (await request(service, karyo["id"], item_id="hotel-1")).json()
    confirmed = await service.client.post(f"/v1/bookings/{hotel['id']}/confirmation", headers=auth(),
                                          json={"confirmation_code": "HH-1"})
    assert confirmed.status_code == 200, confirmed.text

    text = (await service.client.get("/metrics")).text
    awaiting = gauge_values(text, "bookings_awaiting_supplier")
    assert awaiting[(("age", "under_24h"), ("status", "requested"))] == 2, "the confirmed one waits for nobody"
    assert awaiting[(("age", "over_72h"), ("status", "amendment_requested"))] == 0, "every band is there, at 0"
    assert gauge_values(text, "bookings_unconfirmed_before_service") == {
        (("within", "48h"),): 1, (("within", "7d"),): 1}
    assert gauge_values(text, "bookings_late") == {(): 0}
