
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot, CustomerUpdated
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryState,
    PocChanged,
)
from trip_shared.testing.service import assert_every_v1_route_requires_auth, auth, unbounded_inputs


def customer_event(customer_id: str, version: int = 1, tenant: str = "tenant-a", first_name: str = "Ana",
                   status: str = "active"):
    contract = CustomerCreated if version == 1 else CustomerUpdated
    return contract(tenant_id=tenant, aggregate_id=customer_id, aggregate_version=version, producer="customers",
                    data=CustomerSnapshot(customer_id=customer_id, first_name=first_name, status=status))


async def new_itinerary(service, tenant="tenant-a", **body):
    response = await service.client.post("/v1/itineraries", json={"title": "Kyoto", **body}, headers=auth(tenant))
    assert response.status_code == 201, response.text
    return response.json()


async def link(service, itinerary_id, customer_id, tenant="tenant-a", **body):
    return await service.client.post(f"/v1/itineraries/{itinerary_id}/customers",
                                     json={"customer_id": customer_id, **body}, headers=auth(tenant))


async def test_create_get_and_revise_an_itinerary(service):
    created = await new_itinerary(service, start_date="2027-10-01", end_date="2027-10-09")
    assert created["customers"] == [] and created["stage"] == "inquiry"
    got = await service.client.get(f"/v1/itineraries/{created['id']}", headers=auth())
    assert got.json()["start_date"] == "2027-10-01"
    patched = await service.client.patch(f"/v1/itineraries/{created['id']}", json={"end_date": "2027-10-12"},
                                         headers=auth())
    assert patched.status_code == 200 and patched.json()["version"] == 2
    [changed] = await service.emitted(ItineraryChanged)
    assert [(c.field, c.before, c.after) for c in changed.changes] == [("end_date", "2027-10-09", "2027-10-12")]


async def test_linking_follows_the_poc_rules_and_announces_each_change(service):
    for customer_id in ("c1", "c2"):
        await service.publish(customer_event(customer_id, first_name=customer_id.upper()))
    itinerary = await new_itinerary(service)
    path = f"/v1/itineraries/{itinerary['id']}/customers"
    first = await link(service, itinerary["id"], "c1")
    assert first.status_code == 201
    assert [(c["customer_id"], c["is_poc"], c["first_name"]) for c in first.json()["customers"]] == [("c1", True, "C1")]
    await link(service, itinerary["id"], "c2")
    refused = await service.client.delete(f"{path}/c1", headers=auth())
    assert refused.status_code == 409 and refused.json()["code"] == "last-poc"
    refused = await service.client.patch(f"{path}/c1", json={"is_poc": False}, headers=auth())
    assert refused.status_code == 409 and refused.json()["code"] == "last-poc"
    assert (await service.client.patch(f"{path}/c2", json={"is_poc": True}, headers=auth())).status_code == 200
    assert (await service.client.delete(f"{path}/c1", headers=auth())).status_code == 200
    last = await service.client.delete(f"{path}/c2", headers=auth())
    assert last.status_code == 200 and last.json()["customers"] == []

    linked = await service.emitted(CustomerLinked)
    assert [(e.data.customer_id, e.data.is_poc, e.aggregate_version) for e in linked] == [("c1", True, 2), ("c2", False, 3)]
    assert [(m.customer_id, m.is_poc) for m in linked[1].data.customers] == [("c1", True), ("c2", False)]
    assert linked[0].trip_id == itinerary["id"] and linked[0].data.itinerary.title == "Kyoto"
    [poc] = await service.emitted(PocChanged)
    assert (poc.data.customer_id, poc.data.is_poc) == ("c2", True)
    unlinked = await service.emitted(CustomerUnlinked)
    assert [e.data.customer_id for e in unlinked] == ["c1", "c2"] and unlinked[-1].data.customers == []
    states = await service.emitted(ItineraryState)
    assert [(state.aggregate_version, [(m.customer_id, m.is_poc) for m in state.data.customers])
            for state in states] == [(1, []), (2, [("c1", True)]), (3, [("c1", True), ("c2", False)]),
                                     (4, [("c1", True), ("c2", True)]), (5, [("c2", True)]), (6, [])], \
        "after each change, the trip's whole state for itinerary.state"
    assert {state.partition_key for state in states} == {itinerary["id"]}


async def test_a_customer_must_be_known_active_and_of_the_same_agency(service):
    await service.publish(customer_event("theirs", tenant="tenant-b"))
    await service.publish(customer_event("gone", status="inactive"))
    itinerary = await new_itinerary(service)
    unknown = await link(service, itinerary["id"], "nobody")
    assert unknown.status_code == 404 and unknown.json()["code"] == "customer-not-found"
    theirs = await link(service, itinerary["id"], "theirs")
    assert theirs.status_code == 404
    inactive = await link(service, itinerary["id"], "gone")
    assert inactive.status_code == 409 and inactive.json()["code"] == "customer-inactive"
    first_not_poc = await link(service, itinerary["id"], "gone", is_poc=False)
    assert first_not_poc.status_code in (409,)
    got = (await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())).json()
    assert got["customers"] == [] and got["version"] == 1
    assert await service.runtime.outbox.rows.count_documents({"event_type": "customer.linked"}) == 0


async def test_the_customers_read_model_ignores_stale_and_duplicate_events(service):
    itinerary = await new_itinerary(service)
    await service.publish(customer_event("c1", first_name="Ana"))
    await link(service, itinerary["id"], "c1")
    renamed = customer_event("c1", version=3, first_name="Anna")
    await service.publish(renamed)
    await service.publish(renamed)
    await service.publish(customer_event("c1", version=2, first_name="Old"))
    got = (await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())).json()
    assert got["customers"][0]["first_name"] == "Anna"
    known = await service.runtime.store.db["known_customers"].find_one({"_id": "c1"})
    assert known["version"] == 3 and known["tenant_id"] == "tenant-a"


async def test_list_filters_by_customer_and_pages_newest_first(service):
    await service.publish(customer_event("c1"))
    ids = [(await new_itinerary(service, title=f"Trip {n}"))["id"] for n in range(3)]
    await link(service, ids[0], "c1")
    mine = (await service.client.get("/v1/itineraries", params={"customer_id": "c1"}, headers=auth())).json()
    assert [i["id"] for i in mine["items"]] == [ids[0]]
    first = (await service.client.get("/v1/itineraries", params={"limit": 2}, headers=auth())).json()
    second = (await service.client.get("/v1/itineraries", params={"limit": 2, "cursor": first["next_cursor"]},
                                       headers=auth())).json()
    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1] and second["next_cursor"] is None


async def test_bad_input_gets_problem_details_and_changes_nothing(service):
    await service.publish(customer_event("c1"))
    itinerary = await new_itinerary(service)
    path = f"/v1/itineraries/{itinerary['id']}"
    client = service.client
    cases = [
        (await client.post("/v1/itineraries", content=b"{", headers={**auth(), "content-type": "application/json"}), 400),
        (await client.post("/v1/itineraries", json={}, headers=auth()), 422),
        (await client.post("/v1/itineraries", json={"title": "X", "start_date": "2027-05-02", "end_date": "2027-05-01"}, headers=auth()), 422),
        (await client.post("/v1/itineraries", json={"title": "X", "start_date": "soon"}, headers=auth()), 422),
        (await client.post("/v1/itineraries", json={"title": "X"}, headers=auth("read-only")), 403),
        (await client.get("/v1/itineraries/nope", headers=auth()), 404),
        (await client.get(path, headers=auth("tenant-b")), 404),
        (await client.patch(path, json={"title": None}, headers=auth()), 422),
        (await client.patch(path, json={"end_date": "1999-01-01", "start_date": "2000-01-01"}, headers=auth()), 422),
        (await client.post(f"{path}/customers", json={}, headers=auth()), 422),
        (await client.post(f"{path}/customers", json={"customer_id": "c1", "is_poc": "maybe"}, headers=auth()), 422),
        (await client.post("/v1/itineraries/nope/customers", json={"customer_id": "c1"}, headers=auth()), 404),
        (await client.post(f"{path}/customers", json={"customer_id": "c1"}, headers=auth("tenant-b")), 404),
        (await client.patch(f"{path}/customers/c1", json={"is_poc": True}, headers=auth()), 404),
        (await client.delete(f"{path}/customers/c1", headers=auth()), 404),
        (await client.get("/v1/itineraries?cursor=abc", headers=auth()), 400),
        (await client.post("/v1/itineraries", json={"title": "Kyoto\nDESCRIPTION:injected"}, headers=auth()), 422),
        (await client.patch(path, json={"title": "Kyoto \u2066evil"}, headers=auth()), 422),
        (await client.post("/v1/itineraries", json={"title": "X", "start_date": 20270501}, headers=auth()), 422),
        (await client.patch(path, json={"start_date": "2027-05-01T00:00"}, headers=auth()), 422),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.method, response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    got = (await client.get(path, headers=auth())).json()
    assert got["version"] == 1 and got["customers"] == [] and got["title"] == "Kyoto"
    assert await service.runtime.outbox.rows.count_documents(
        {"event_type": {"$nin": ["itinerary.created", "itinerary.state"]}}) == 0
    assert await service.runtime.outbox.rows.count_documents({"event_type": "itinerary.state"}) == 1, \
        "the state after its creation, and after nothing else"


async def test_every_route_requires_an_api_key(service):
    assert await assert_every_v1_route_requires_auth(service) >= 7
    assert unbounded_inputs(service.app) == [], "every field a client sends has a size limit"


async def test_a_deactivated_customer_can_no_longer_be_linked(service):
    from trip_shared.contracts.customers import CustomerDeactivated

    await service.publish(customer_event("c1"))
    await service.publish(CustomerDeactivated(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2,
                                              producer="customers",
                                              data=CustomerSnapshot(customer_id="c1", first_name="Ana",
                                                                    status="inactive")))
    itinerary = await new_itinerary(service)
    refused = await link(service, itinerary["id"], "c1")
    assert refused.status_code == 409 and refused.json()["code"] == "customer-inactive"


async def test_a_deleted_customer_is_unlinked_everywhere_and_the_next_one_becomes_poc(service):
    from trip_shared.contracts.customers import CustomerDeleted, DeletedCustomer

    for customer_id in ("c1", "c2"):
        await service.publish(customer_event(customer_id))
    shared_trip, solo_trip = await new_itinerary(service), await new_itinerary(service, title="Solo")
    await link(service, shared_trip["id"], "c1")
    await link(service, shared_trip["id"], "c2")
    await link(service, solo_trip["id"], "c1")
    deleted = CustomerDeleted(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2, producer="customers",
                              data=DeletedCustomer(customer_id="c1"))
    await service.publish(deleted)
    await service.publish(deleted)
    shared_now = (await service.client.get(f"/v1/itineraries/{shared_trip['id']}", headers=auth())).json()
    assert [(c["customer_id"], c["is_poc"]) for c in shared_now["customers"]] == [("c2", True)]
    assert shared_now["notices"][0]["kind"] == "poc_reassigned" and shared_now["version"] == 5
    solo_now = (await service.client.get(f"/v1/itineraries/{solo_trip['id']}", headers=auth())).json()
    assert solo_now["customers"] == [] and solo_now["notices"] == []
    unlinked = [e for e in await service.emitted(CustomerUnlinked) if e.data.reason == "customer_deleted"]
    assert sorted(e.aggregate_id for e in unlinked) == sorted([shared_trip["id"], solo_trip["id"]])
    [promoted] = [e for e in await service.emitted(PocChanged) if e.data.reason == "poc_deleted"]
    assert (promoted.data.customer_id, promoted.aggregate_version) == ("c2", 5)
    relink = await link(service, solo_trip["id"], "c1")
    assert relink.status_code == 404, "the deleted customer is gone from the read model too"


async def test_a_merged_duplicates_links_move_to_the_survivor(service):
    from trip_shared.contracts.customers import CustomersMerged, MergedCustomers

    for customer_id in ("dup", "other", "survivor"):
        await service.publish(customer_event(customer_id, first_name=customer_id.title()))
    led_by_dup, both = await new_itinerary(service), await new_itinerary(service, title="Both")
    await link(service, led_by_dup["id"], "dup")
    await link(service, led_by_dup["id"], "other")
    await link(service, both["id"], "survivor")
    await link(service, both["id"], "dup")
    merged = CustomersMerged(tenant_id="tenant-a", aggregate_id="survivor", aggregate_version=2,
                             producer="customers",
                             data=MergedCustomers(survivor=CustomerSnapshot(customer_id="survivor", first_name="Sam"),
                                                  merged_customer_id="dup"))
    await service.publish(merged)
    await service.publish(merged)
    first = (await service.client.get(f"/v1/itineraries/{led_by_dup['id']}", headers=auth())).json()
    assert [(c["customer_id"], c["is_poc"]) for c in first["customers"]] == [("other", False), ("survivor", True)]
    assert first["customers"][1]["first_name"] == "Sam"
    second = (await service.client.get(f"/v1/itineraries/{both['id']}", headers=auth())).json()
    assert [(c["customer_id"], c["is_poc"]) for c in second["customers"]] == [("survivor", True)]
    relinked = [e for e in await service.emitted(CustomerLinked) if e.data.reason == "customers_merged"]
    assert [(e.data.customer_id, e.data.is_poc) for e in relinked] == [("survivor", True)]


async def test_linked_customers_whose_passport_ends_before_the_trip_are_flagged(service):
    from datetime import date

    expiring = customer_event("c1").model_copy(update={"data": CustomerSnapshot(
        customer_id="c1", first_name="Ana", passport_expiry=date(2027, 10, 3))})
    await service.publish(expiring)
    await service.publish(customer_event("c2"))
    itinerary = await new_itinerary(service, start_date="2027-10-01", end_date="2027-10-09")
    await link(service, itinerary["id"], "c1")
    body = (await link(service, itinerary["id"], "c2")).json()
    assert [(c["customer_id"], c["passport_expires_before_trip_ends"]) for c in body["customers"]] == [
        ("c1", True), ("c2", False)]


async def test_itinerary_events_carry_items_and_who_travels_with_their_needs(service):
    from trip_shared.contracts.customers import Preferences, PreferencesRecorded

    await service.publish(customer_event("c1", first_name="Ana"))
    await service.publish(PreferencesRecorded(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2, producer="customers", customer_id="c1",
        consultation_version=1, data=Preferences(dietary=["vegetarian"], accessibility=["wheelchair user"],
                                                 party_adults=2, party_children=1)))
    itinerary = await new_itinerary(service, start_date="2027-10-01", end_date="2027-10-09")
    await link(service, itinerary["id"], "c1")
    added = await service.client.post(f"/v1/itineraries/{itinerary['id']}/items", headers=auth(), json={
        "kind": "dining", "title": "Kaiseki dinner", "start": "2027-10-02T19:00", "timezone": "Asia/Tokyo",
        "location": {"address": "Gion, Kyoto"}, "notes": "ask for the private room", "requires_booking": True})
    assert added.status_code == 201, added.text
    [changed] = await service.emitted(ItineraryChanged)
    [item] = changed.data.items
    assert (item.title, item.start, item.timezone, item.place.address, item.requires_booking) == (
        "Kaiseki dinner", "2027-10-02T19:00", "Asia/Tokyo", "Gion, Kyoto", True)
    assert item.starts_at.isoformat() == "2027-10-02T10:00:00+00:00"
    assert "private room" not in changed.data.model_dump_json()  # what other services copy has no planner note
    [ana] = changed.data.travellers
    assert (ana.name, ana.is_poc) == ("Ana", True)
    assert [(r.kind, r.text) for r in ana.requirements] == [("dietary", "vegetarian"),
                                                           ("accessibility", "wheelchair user")]
    assert (changed.data.party.adults, changed.data.party.children) == (2, 1)

    # A new consultation with other needs is a new version of the open trip, so its vendors can hear of it.
    await service.publish(PreferencesRecorded(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=3, producer="customers", customer_id="c1",
        consultation_version=2, data=Preferences(dietary=["vegan"])))
    changes = await service.emitted(ItineraryChanged)
    assert changes[-1].action == "travellers_changed" and changes[-1].aggregate_version == 4
    assert [(c.field, c.before, c.after) for c in changes[-1].changes] == [
        ("customers.c1.requirements", ["vegetarian", "wheelchair user"], ["vegan"])]
    assert [r.text for r in changes[-1].data.travellers[0].requirements] == ["vegan"]
    # The same consultation again changes nothing.
    await service.publish(PreferencesRecorded(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=3, producer="customers", customer_id="c1",
        consultation_version=2, data=Preferences(dietary=["vegan"])))
    assert len(await service.emitted(ItineraryChanged)) == len(changes)


async def test_a_message_a_client_did_not_receive_shows_on_their_trip_until_it_reaches_them(service):
    from trip_shared.contracts.customers import CustomerDeleted, DeletedCustomer
    from trip_shared.contracts.notify import DeliveryProblem, NotificationRecovered, NotificationUndeliverable

    await service.publish(CustomerCreated(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=1, producer="customers",
        data=CustomerSnapshot(customer_id="c1", first_name="Mei", last_name="Tan")))
    itinerary = await new_itinerary(service)
    assert (await link(service, itinerary["id"], "c1")).status_code == 201

    def problem(contract, version, reason="no_address", notification_id="n1", channel="email"):
        return contract(tenant_id="tenant-a", aggregate_id=notification_id, aggregate_version=version,
                        trip_id=itinerary["id"], producer="notify",
                        data=DeliveryProblem(notification_id=notification_id, itinerary_id=itinerary["id"],
                                             customer_id="c1", kind="trip_changes", channel=channel,
                                             subject="Changes to your trip Kyoto", reason=reason))

    async def undelivered():
        got = await service.client.get(f"/v1/itineraries/{itinerary['id']}", headers=auth())
        assert got.status_code == 200
        return got.json()["undelivered"]

    await service.publish(problem(NotificationUndeliverable, 1))
    await service.publish(problem(NotificationUndeliverable, 1, "bounced", "n2", "sms"))
    notices = await undelivered()
    assert [n["notification_id"] for n in notices] == ["n1", "n2"]
    assert notices[0]["message"] == ("Mei Tan did not receive the e-mail \u201cChanges to your trip Kyoto\u201d: no "
                                     "e-mail address or mobile number they accept reaches them.")
    assert notices[1]["message"].endswith("the text message \u201cChanges to your trip Kyoto\u201d: it bounced.")
    await service.publish(problem(NotificationRecovered, 2))
    await service.publish(problem(NotificationUndeliverable, 1))  # redelivered, older: changes nothing
    assert [n["notification_id"] for n in await undelivered()] == ["n2"]
    await service.publish(CustomerDeleted(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2,
                                          producer="customers", data=DeletedCustomer(customer_id="c1")))
    assert await undelivered() == []


async def test_an_item_for_some_of_the_party_names_them_and_only_travellers_of_the_trip(service):
    for customer_id in ("c1", "c2"):
        await service.publish(customer_event(customer_id, first_name=customer_id.upper()))
    itinerary = await new_itinerary(service, planner="Ana", start_date="2027-10-01", end_date="2027-10-09")
    assert itinerary["planner"] == "Ana"
    for customer_id in ("c1", "c2"):
        assert (await link(service, itinerary["id"], customer_id)).status_code == 201
    items = f"/v1/itineraries/{itinerary['id']}/items"
    golf = {"kind": "activity", "title": "Golf", "timezone": "Asia/Tokyo", "start": "2027-10-02T09:00",
            "end": "2027-10-02T13:00"}
    stranger = await service.client.post(items, json={**golf, "travellers": ["c9"]}, headers=auth())
    assert stranger.status_code == 422 and stranger.json()["code"] == "customer-not-on-trip"
    made = await service.client.post(items, json={**golf, "travellers": ["c1", "c1"]}, headers=auth())
    assert made.status_code == 201 and made.json()["travellers"] == ["c1"]
    everyone = await service.client.patch(f"{items}/{made.json()['id']}", json={"travellers": []}, headers=auth())
    assert everyone.status_code == 200 and everyone.json()["travellers"] is None
    announced = await service.emitted(ItineraryChanged)
    added = next(e for e in announced if e.action == "item_added")
    assert added.data.items[0].travellers == ["c1"] and added.data.planner == "Ana"
    assert announced[-1].changes[0].description == "'Golf': now for everyone"
