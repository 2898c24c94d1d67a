from trip_shared.contracts.feedback import FeedbackSubmitted
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryMember,
    ItinerarySummary,
    MembershipChange,
)
from trip_shared.testing.service import assert_every_v1_route_requires_auth, auth, unbounded_inputs
from trip_shared.web import ops

TRIP = ItinerarySummary(itinerary_id="it-1", title="Kyoto")


def created(tenant="tenant-a", itinerary_id="it-1"):
    return ItineraryCreated(tenant_id=tenant, aggregate_id=itinerary_id, aggregate_version=1, trip_id=itinerary_id,
                            producer="itinerary", data=TRIP.model_copy(update={"itinerary_id": itinerary_id}))


def membership(contract, version, members):
    return contract(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=version, trip_id="it-1",
                    producer="itinerary",
                    data=MembershipChange(itinerary=TRIP, customer_id="c1", is_poc=True,
                                          customers=[ItineraryMember(customer_id=c, is_poc=True) for c in members]))


async def submit(service, tenant="tenant-a", **body):
    return await service.client.post("/v1/feedback", json={"itinerary_id": "it-1", "rating": 5, **body},
                                     headers=auth(tenant))


async def test_travellers_rate_their_trip(service):
    await service.publish(created())
    await service.publish(membership(CustomerLinked, 2, ["c1"]))
    first = await submit(service, customer_id="c1", rating=5, comment="Wonderful ryokan")
    assert first.status_code == 201, first.text
    assert (await submit(service, rating=4)).status_code == 201
    listed = (await service.client.get("/v1/feedback", params={"itinerary_id": "it-1"}, headers=auth())).json()
    assert [f["rating"] for f in listed["items"]] == [5, 4] and listed["average_rating"] == 4.5
    got = await service.client.get(f"/v1/feedback/{first.json()['id']}", headers=auth())
    assert got.json()["comment"] == "Wonderful ryokan"
    rows = service.runtime.outbox.rows.find({"event_type": "feedback.submitted"}).sort("_id", 1)
    events = [FeedbackSubmitted.model_validate_json(row["payload"]) async for row in rows]
    assert [(e.data.rating, e.data.customer_id, e.trip_id) for e in events] == [(5, "c1", "it-1"), (4, None, "it-1")]


async def test_travellers_follow_the_newest_membership_event(service):
    await service.publish(created())
    await service.publish(membership(CustomerUnlinked, 3, []))
    await service.publish(membership(CustomerLinked, 2, ["c1"]))  # late and stale
    refused = await submit(service, customer_id="c1")
    assert refused.status_code == 422 and refused.json()["code"] == "customer-not-on-trip"


async def test_a_newer_itinerary_change_does_not_hide_an_older_membership_change(service):
    await service.publish(created())
    # Different topics, no order between them: the item added at version 3 arrives before the link at version 2.
    await service.publish(ItineraryChanged(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=3,
                                           trip_id="it-1", producer="itinerary", data=TRIP, action="item_added"))
    await service.publish(membership(CustomerLinked, 2, ["c1"]))
    accepted = await submit(service, customer_id="c1")
    assert accepted.status_code == 201, accepted.text


async def test_bad_input_gets_problem_details_and_changes_nothing(service):
    await service.publish(created())
    await service.publish(created(tenant="tenant-b", itinerary_id="theirs"))
    client = service.client
    cases = [
        (await client.post("/v1/feedback", content=b"[", headers={**auth(), "content-type": "application/json"}), 400, "malformed-json"),
        (await submit(service, rating=6), 422, "invalid-request"),
        (await submit(service, rating="5"), 422, "invalid-request"),
        (await submit(service, customer_id="stranger"), 422, "customer-not-on-trip"),
        (await submit(service, itinerary_id="nope"), 404, "itinerary-not-found"),
        (await submit(service, itinerary_id="theirs"), 404, "itinerary-not-found"),
        (await submit(service, tenant="read-only"), 403, "forbidden"),
        (await client.get("/v1/feedback/nope", headers=auth()), 404, "feedback-not-found"),
        (await client.get("/v1/feedback", headers=auth()), 422, "invalid-request"),
        (await submit(service, comment="lovely\x07\x07"), 422, "invalid-request"),
        (await submit(service, comment="x" * 5001), 422, "invalid-request"),
    ]
    for response, status, code in cases:
        assert response.status_code == status and response.json()["code"] == code, response.text
    assert await service.runtime.store.db["feedback"].count_documents({}) == 0
    assert await service.runtime.outbox.rows.count_documents({}) == 0


async def test_every_route_requires_an_api_key(service):
    assert await assert_every_v1_route_requires_auth(service) == 3 + 9 + 9 + 3 + 4 + 2 + len(ops.router.routes)
    assert unbounded_inputs(service.app) == [], "every field a client sends has a size limit"
