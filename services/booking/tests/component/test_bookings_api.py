from trip_shared.contracts.booking import BookingConfirmed, BookingRequested
from trip_shared.contracts.itinerary import ItineraryChanged, ItineraryCreated, ItinerarySummary
from trip_shared.testing.service import assert_every_v1_route_requires_auth, auth, unbounded_inputs
from trip_shared.web import ops


def itinerary_event(itinerary_id="it-1", version=1, title="Kyoto", tenant="tenant-a", item_ids=None):
    contract = ItineraryCreated if version == 1 else ItineraryChanged
    return contract(tenant_id=tenant, aggregate_id=itinerary_id, aggregate_version=version, trip_id=itinerary_id,
                    producer="itinerary", data=ItinerarySummary(itinerary_id=itinerary_id, title=title,
                                                                item_ids=item_ids))


async def outbox_events(service, contract):
    rows = service.runtime.outbox.rows.find({"event_type": contract.TOPIC}).sort("_id", 1)
    return [contract.model_validate_json(row["payload"]) async for row in rows]


async def request(service, tenant="tenant-a", **body):
    return await service.client.post("/v1/bookings", json={"itinerary_id": "it-1", "vendor_name": "Ryokan", **body},
                                     headers=auth(tenant))


async def test_request_and_confirm_a_booking(service):
    await service.publish(itinerary_event())
    created = await request(service, description="2 nights, garden room")
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "requested" and created.headers["location"] == f"/v1/bookings/{booking['id']}"
    url = f"/v1/bookings/{booking['id']}/confirmation"
    confirmed = await service.client.post(url, json={"confirmation_code": "RY-123"}, headers=auth())
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["confirmed_at"]
    again = await service.client.post(url, json={"confirmation_code": "RY-123"}, headers=auth())
    assert again.status_code == 200
    listed = await service.client.get("/v1/bookings", params={"itinerary_id": "it-1"}, headers=auth())
    assert [b["id"] for b in listed.json()["items"]] == [booking["id"]]
    [requested] = await outbox_events(service, BookingRequested)
    assert requested.trip_id == "it-1" and requested.data.vendor_name == "Ryokan"
    [confirmation] = await outbox_events(service, BookingConfirmed)
    assert confirmation.data.confirmation_code == "RY-123" and confirmation.aggregate_version == 2


async def test_the_itineraries_read_model_follows_events_once_and_in_version_order(service):
    await service.publish(itinerary_event(version=1, title="Kyoto"))
    await service.publish(itinerary_event(version=3, title="Kyoto & Nara"))
    await service.publish(itinerary_event(version=2, title="Old title"))
    await service.publish(itinerary_event(version=3, title="Kyoto & Nara"))
    known = await service.runtime.store.db["known_itineraries"].find_one({"_id": "it-1"})
    assert known["title"] == "Kyoto & Nara" and known["version"] == 3


async def test_bad_input_gets_problem_details_and_changes_nothing(service):
    await service.publish(itinerary_event())
    await service.publish(itinerary_event("theirs", tenant="tenant-b"))
    booking = (await request(service)).json()
    await service.client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "A"},
                              headers=auth())
    client = service.client
    cases = [
        (await client.post("/v1/bookings", content=b"{", headers={**auth(), "content-type": "application/json"}), 400, "malformed-json"),
        (await request(service, vendor_name=""), 422, "invalid-request"),
        (await request(service, vendor_name="   "), 422, "vendor-required"),
        (await request(service, itinerary_id="nope"), 404, "itinerary-not-found"),
        (await request(service, itinerary_id="theirs"), 404, "itinerary-not-found"),
        (await request(service, tenant="read-only"), 403, "forbidden"),
        (await client.post("/v1/bookings/nope/confirmation", json={"confirmation_code": "A"}, headers=auth()), 404, "booking-not-found"),
        (await client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "B"}, headers=auth()), 409, "already-confirmed"),
        (await client.post(f"/v1/bookings/{booking['id']}/confirmation", json={}, headers=auth()), 422, "invalid-request"),
        (await client.get(f"/v1/bookings/{booking['id']}", headers=auth("tenant-b")), 404, "booking-not-found"),
        (await client.get("/v1/bookings", headers=auth()), 422, "invalid-request"),
        (await request(service, vendor_name="Hotel\u202e"), 422, "invalid-request"),
        (await client.post(f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "A\nB"}, headers=auth()), 422, "invalid-request"),
    ]
    for response, status, code in cases:
        assert response.status_code == status and response.json()["code"] == code, response.text
    assert await service.runtime.store.db["bookings"].count_documents({}) == 1
    assert [e.data.confirmation_code for e in await outbox_events(service, BookingConfirmed)] == ["A"]


async def test_every_route_requires_an_api_key(service):
    assert await assert_every_v1_route_requires_auth(service) == 4 + 5 + len(ops.router.routes)  # bookings, suppliers, ops
    assert unbounded_inputs(service.app) == [], "every field a client sends has a size limit"


async def test_a_booking_names_an_item_of_its_own_itinerary(service):
    await service.publish(itinerary_event(item_ids=["flight-1"]))
    await service.publish(itinerary_event("it-2", item_ids=["hotel-2"]))
    assert (await request(service, item_id="flight-1")).status_code == 201
    elsewhere = await request(service, item_id="hotel-2")
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "item-not-on-itinerary"
    made_up = await request(service, item_id="nope")
    assert made_up.status_code == 422 and made_up.json()["code"] == "item-not-on-itinerary"
    await service.publish(itinerary_event(version=2, item_ids=["flight-1", "dinner-3"]))
    assert (await request(service, item_id="dinner-3")).status_code == 201, "an item added later is bookable"
    assert await service.runtime.store.db["bookings"].count_documents({}) == 2
