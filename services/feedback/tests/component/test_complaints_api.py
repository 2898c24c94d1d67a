"""Complaints through the API: taken down, analysed, offered a remedy, answered, closed; every step announced."""
import asyncio
from datetime import UTC, datetime, timedelta

from trip_shared.contracts.customers import CustomerErased, ErasedCustomer
from trip_shared.contracts.feedback import ComplaintRecorded, ComplaintUpdated
from trip_shared.contracts.itinerary import (
    ItemSnapshot,
    ItinerarySummary,
    TravellerSnapshot,
)
from trip_shared.testing.service import auth

TRIP = ItinerarySummary(
    itinerary_id="it-1", title="Kyoto", stage="in_progress",
    items=[ItemSnapshot(item_id="class", kind="activity", title="Cooking class", timezone="Asia/Tokyo",
                        start="2026-10-03T10:00")],
    travellers=[TravellerSnapshot(customer_id="c1", name="Mei Lin", is_poc=True),
                TravellerSnapshot(customer_id="c2", name="Tom Lin")])
COMPLAINT = {"itinerary_id": "it-1", "complainant": "c1", "language": "zh-Hans", "item_id": "class",
             "account": "The class started an hour late and nobody told us. Mei Lin"}


async def record(service, **overrides):
    made = await service.client.post("/v1/complaints", json={**COMPLAINT, **overrides}, headers=auth())
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_complaint_goes_from_received_to_closed_and_every_step_is_announced(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    complaint = await record(service)
    path = f"/v1/complaints/{complaint['id']}"
    assert (complaint["status"], complaint["source"], complaint["overdue"]) == ("received", "staff", False)
    received = datetime.fromisoformat(complaint["received_at"])
    assert datetime.fromisoformat(complaint["due_at"]) - received == timedelta(days=3)
    early = await service.client.post(f"{path}/offer", json={"remedy": "apology", "message": "Sorry."},
                                      headers=auth())
    assert early.status_code == 409 and early.json()["code"] == "complaint-state-conflict", "analyse first"
    steps = [("/assign", {"owner": "Ana"}), ("/notes", {"text": "Called the school: teacher double-booked."}),
             ("/analysis", {"cause": "supplier", "supplier": "Kyoto Cooking School", "booking_id": "bk-1",
                            "finding": "Double-booked teacher, confirmed in writing."}),
             ("/offer", {"remedy": "refund", "amount": "120", "currency": "eur",
                         "message": "We are sorry the class started late. We refund its price."}),
             ("/answer", {"answer": "escalate", "reason": "We lost the whole morning."}),
             ("/offer", {"remedy": "credit", "amount": "200", "currency": "EUR",
                         "message": "A 200 EUR credit toward your next trip, with our apologies."}),
             ("/answer", {"answer": "accept"}),
             ("/close", {"note": "Credit issued: voucher KY-200."})]
    for step, body in steps:
        done = await service.client.post(path + step, json=body, headers=auth())
        assert done.status_code == 200, (step, done.text)
    closed = (await service.client.get(path, headers=auth())).json()
    assert (closed["status"], closed["owner"], closed["cause"], closed["supplier"]) == \
        ("closed", "Ana", "supplier", "Kyoto Cooking School")
    assert [(o["remedy"], o["amount"], o["currency"]) for o in closed["offers"]] == \
        [("refund", "120.00", "EUR"), ("credit", "200.00", "EUR")]
    assert closed["account"] == COMPLAINT["account"], "the client's words, exactly"
    assert closed["escalation_reason"] == "We lost the whole morning."
    assert [e["kind"] for e in closed["timeline"]] == ["received", "assigned", "note", "analysed", "proposed",
                                                       "escalated", "proposed", "accepted", "closed"]
    [announced] = await service.emitted(ComplaintRecorded)
    assert (announced.trip_id, announced.data.complainant, announced.data.language) == ("it-1", "c1", "zh-Hans")
    assert "late" not in announced.model_dump_json(), "the client's account stays in feedback"
    updates = await service.emitted(ComplaintUpdated)
    assert [(u.change, u.aggregate_version) for u in updates] == [
        ("assigned", 2), ("note", 3), ("analysed", 4), ("proposed", 5), ("escalated", 6), ("proposed", 7),
        ("accepted", 8), ("closed", 9)]
    assert "double-booked" not in str([u.model_dump() for u in updates]).lower(), "notes and findings stay internal"
    offered = updates[3].data.offer
    assert (offered.remedy, offered.amount, offered.currency) == ("refund", "120.00", "EUR")
    assert updates[4].data.escalation_reason == "We lost the whole morning."


async def test_the_list_puts_the_agencys_turn_first_and_filters_what_is_overdue(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    waiting = await record(service, account="Room was noisy.")
    await service.client.post(f"/v1/complaints/{waiting['id']}/analysis",
                              json={"cause": "external", "finding": "Street festival."}, headers=auth())
    await service.client.post(f"/v1/complaints/{waiting['id']}/offer",
                              json={"remedy": "apology", "message": "We are sorry."}, headers=auth())
    late = await record(service, account="No vegetarian meal on the tour.", complainant="c2")
    fresh = await record(service, account="Guide was rude.")
    await service.runtime.store.db["complaints"].update_one(
        {"_id": late["id"]}, {"$set": {"due_at": datetime.now(UTC) - timedelta(minutes=1)}})
    listed = (await service.client.get("/v1/complaints", headers=auth())).json()["items"]
    assert [c["id"] for c in listed] == [late["id"], fresh["id"], waiting["id"]]
    assert [c["overdue"] for c in listed] == [True, False, False]
    overdue = (await service.client.get("/v1/complaints", params={"overdue": "true"}, headers=auth())).json()
    assert [c["id"] for c in overdue["items"]] == [late["id"]]
    proposed = (await service.client.get("/v1/complaints", params={"status": "proposed"}, headers=auth())).json()
    assert [c["id"] for c in proposed["items"]] == [waiting["id"]]
    assert (await service.client.get("/v1/complaints", headers=auth("tenant-b"))).json()["items"] == []
    assert (await service.client.get(f"/v1/complaints/{late['id']}", headers=auth("tenant-b"))).status_code == 404


async def test_bad_input_is_a_problem_and_changes_nothing(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    client = service.client
    cases = [
        ({**COMPLAINT, "complainant": "stranger"}, 422, "customer-not-on-trip"),
        ({**COMPLAINT, "item_id": "dinner"}, 422, "item-not-on-trip"),
        ({**COMPLAINT, "account": "   "}, 422, "missing-account"),
        ({**COMPLAINT, "language": "fr"}, 422, "invalid-request"),
        ({**COMPLAINT, "itinerary_id": "nope"}, 404, "itinerary-not-found"),
        ({**COMPLAINT, "source": "client"}, 422, "invalid-request"),
    ]
    for body, status, code in cases:
        refused = await client.post("/v1/complaints", json=body, headers=auth())
        assert refused.status_code == status and refused.json()["code"] == code, (body, refused.text)
    assert (await client.post("/v1/complaints", json=COMPLAINT, headers=auth("read-only"))).status_code == 403
    assert await service.runtime.store.db["complaints"].count_documents({}) == 0
    made = await record(service)
    path = f"/v1/complaints/{made['id']}"
    await client.post(f"{path}/analysis", json={"cause": "agency", "finding": "Wrong time sent."}, headers=auth())
    for step, body, status in (("/analysis", {"cause": "supplier", "finding": "x"}, 422),
                               ("/offer", {"remedy": "refund", "message": "Sorry"}, 422),
                               ("/offer", {"remedy": "apology", "amount": "5", "currency": "EUR",
                                           "message": "Sorry"}, 422),
                               ("/offer", {"remedy": "refund", "amount": "-5", "currency": "EUR",
                                           "message": "Sorry"}, 422),
                               ("/answer", {"answer": "accept"}, 409),
                               ("/close", None, 409)):
        refused = await client.post(path + step, json=body, headers=auth())
        assert refused.status_code == status, (step, refused.text)
    unchanged = (await client.get(path, headers=auth())).json()
    assert (unchanged["version"], unchanged["status"], unchanged["offers"]) == (2, "analysed", [])


async def test_a_retried_complaint_with_its_idempotency_key_is_recorded_once(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    headers = {**auth(), "Idempotency-Key": "complaint-1"}
    first = await service.client.post("/v1/complaints", json=COMPLAINT, headers=headers)
    again = await service.client.post("/v1/complaints", json=COMPLAINT, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert await service.runtime.store.db["complaints"].count_documents({}) == 1


async def test_an_erasure_scrubs_the_words_of_the_travellers_complaints_and_keeps_the_figures(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    mine = await record(service)
    theirs = await record(service, complainant="c2", account="Tom: the bus was cold.")
    path = f"/v1/complaints/{mine['id']}"
    await service.client.post(f"{path}/analysis", json={"cause": "supplier", "supplier": "Kyoto Cooking School",
                                                         "finding": "Mei Lin was upset."}, headers=auth())
    await service.client.post(f"{path}/offer", json={"remedy": "refund", "amount": "120", "currency": "EUR",
                                                      "message": "Dear Mei Lin, we refund the class."},
                              headers=auth())
    async with asyncio.timeout(10):  # an erasure comes long after: by then the relay has published everything
        while await service.runtime.outbox.rows.count_documents({"status": "pending"}):
            await asyncio.sleep(0.05)
    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=3,
                                         producer="customers", data=ErasedCustomer(customer_id="c1")))
    scrubbed = (await service.client.get(path, headers=auth())).json()
    assert "Mei" not in str(scrubbed)
    assert (scrubbed["cause"], scrubbed["offers"][0]["amount"]) == ("supplier", "120.00")
    kept = (await service.client.get(f"/v1/complaints/{theirs['id']}", headers=auth())).json()
    assert kept["account"] == "Tom: the bus was cold.", "only the erased traveller's complaints"
    assert await service.runtime.outbox.rows.count_documents({"aggregate_id": mine["id"]}) == 0
    trip = await service.runtime.store.db["known_trips"].find_one({"_id": "it-1"})
    assert trip["traveller_names"] == {"c2": "Tom Lin"}, "the client pages no longer show the erased name"
