"""Incidents through the API: reported, followed, escalated when nobody answers, scrubbed with an erasure."""
import asyncio

from opentelemetry.sdk.trace import TracerProvider

from feedback.bootstrap import create_app
from trip_shared.contracts.customers import CustomerErased, ErasedCustomer
from trip_shared.contracts.feedback import IncidentEscalated, IncidentReported, IncidentUpdated
from trip_shared.contracts.itinerary import (
    ItemSnapshot,
    ItinerarySummary,
)
from trip_shared.testing.service import auth, component_settings, running_service

TRIP = ItinerarySummary(itinerary_id="it-1", title="Kyoto", stage="in_progress", items=[
    ItemSnapshot(item_id="flight", kind="flight", title="BA5", timezone="Europe/London", start="2026-10-01T19:50",
                 end_timezone="Asia/Tokyo"),
    ItemSnapshot(item_id="transfer", kind="transfer", title="Airport to hotel", timezone="Asia/Tokyo",
                 start="2026-10-02T17:30")])
DELAY = {"itinerary_id": "it-1", "item_id": "flight", "kind": "delay", "severity": "high",
         "summary": "BA5 delayed 3 hours", "description": "Crew shortage, says the gate agent. Mei is unwell.",
         "occurred_at": "2026-10-01T19:05", "delay_minutes": 180, "supplier": "British Airways",
         "travellers": ["c1"]}


async def test_an_incident_is_reported_in_local_time_followed_to_its_close_and_every_step_announced(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    reported = await service.client.post("/v1/incidents", json=DELAY, headers=auth())
    assert reported.status_code == 201, reported.text
    incident = reported.json()
    assert reported.headers["Location"] == f"/v1/incidents/{incident['id']}"
    assert (incident["status"], incident["timezone"], incident["occurred_at"]) == \
        ("open", "Europe/London", "2026-10-01T19:05")
    assert incident["occurred_at_utc"].startswith("2026-10-01T18:05")
    path = f"/v1/incidents/{incident['id']}"
    assert (await service.client.post(f"{path}/close", headers=auth())).json()["code"] == "incident-state-conflict"
    steps = [("POST", "/acknowledge", {"owner": "Ana (duty planner)"}),
             ("POST", "/timeline", {"kind": "communication", "text": "Called Mei: the transfer will wait."}),
             ("PUT", "/cost", {"amount": "4500", "currency": "JPY", "borne_by": "supplier"}),
             ("POST", "/resolve", {"resolution": "Transfer moved to 20:30; hotel told."}),
             ("POST", "/close", None)]
    for method, step, body in steps:
        done = await service.client.request(method, path + step, json=body, headers=auth())
        assert done.status_code == 200, (step, done.text)
    closed = (await service.client.get(path, headers=auth())).json()
    assert closed["status"] == "closed" and closed["owner"] == "Ana (duty planner)"
    assert closed["cost"] == {"amount": "4500.00", "currency": "JPY", "borne_by": "supplier"}
    assert [e["kind"] for e in closed["timeline"]] == ["reported", "acknowledged", "communication", "cost",
                                                       "resolved", "closed"]
    [announced] = await service.emitted(IncidentReported)
    assert announced.trip_id == "it-1" and announced.data.delay_minutes == 180
    assert announced.data.occurred_at.isoformat().startswith("2026-10-01T18:05")
    updates = await service.emitted(IncidentUpdated)
    assert [(u.change, u.aggregate_version) for u in updates] == [
        ("acknowledged", 2), ("communication", 3), ("cost", 4), ("resolved", 5), ("closed", 6)]
    assert updates[-1].data.status == "closed" and updates[-1].data.resolution.startswith("Transfer moved")


async def test_the_list_puts_what_needs_a_person_first_and_filters(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    ids = {}
    for severity, kind in (("low", "lost_item"), ("critical", "illness_or_injury"), ("medium", "other")):
        body = {**DELAY, "severity": severity, "kind": kind, "delay_minutes": None, "summary": f"{kind} report"}
        ids[kind] = (await service.client.post("/v1/incidents", json=body, headers=auth())).json()["id"]
    await service.client.post(f"/v1/incidents/{ids['illness_or_injury']}/acknowledge", headers=auth())
    listed = (await service.client.get("/v1/incidents", headers=auth())).json()["items"]
    assert [i["kind"] for i in listed] == ["other", "lost_item", "illness_or_injury"], "open first, most severe"
    only = (await service.client.get("/v1/incidents", params={"severity": ["critical", "low"], "status": "open"},
                                     headers=auth())).json()["items"]
    assert [i["kind"] for i in only] == ["lost_item"]
    theirs = await service.client.get("/v1/incidents", headers=auth("tenant-b"))
    assert theirs.json()["items"] == [], "another agency sees none of them"
    assert (await service.client.get(f"/v1/incidents/{ids['other']}", headers=auth("tenant-b"))).status_code == 404


async def test_bad_input_is_a_problem_and_changes_nothing(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    client = service.client
    cases = [
        ({**DELAY, "kind": "volcano"}, 422, "invalid-request"),
        ({**DELAY, "item_id": "dinner"}, 422, "item-not-on-trip"),
        ({**DELAY, "delay_minutes": None}, 422, "missing-delay"),
        ({**DELAY, "occurred_at": "2026-10-01T19:05+01:00"}, 422, "invalid-request"),
        ({**DELAY, "occurred_at": "2099-10-01T19:05"}, 422, "invalid-time"),
        ({**DELAY, "timezone": "Mars/Olympus"}, 422, "invalid-timezone"),
        ({**DELAY, "travellers": ["stranger"]}, 422, "customer-not-on-trip"),
        ({**DELAY, "cost": {"amount": "1.005", "currency": "EUR", "borne_by": "agency"}}, 422, "invalid-request"),
        ({**DELAY, "itinerary_id": "nope"}, 404, "itinerary-not-found"),
        ({**DELAY, "summary": "x" * 201}, 422, "invalid-request"),
    ]
    for body, status, code in cases:
        refused = await client.post("/v1/incidents", json=body, headers=auth())
        assert refused.status_code == status and refused.json()["code"] == code, (body, refused.text)
    assert (await client.post("/v1/incidents", json=DELAY, headers=auth("read-only"))).status_code == 403
    assert await service.runtime.store.db["incidents"].count_documents({}) == 0
    assert await service.runtime.outbox.rows.count_documents({"event_type": {"$regex": "^feedback"}}) == 0
    made = (await client.post("/v1/incidents", json=DELAY, headers=auth())).json()
    for step, body in (("/timeline", {"kind": "gossip", "text": "x"}), ("/resolve", {"resolution": ""}),
                       ("/reopen", {"reason": "why"})):
        refused = await client.post(f"/v1/incidents/{made['id']}{step}", json=body, headers=auth())
        assert refused.status_code in (409, 422), refused.text
    assert (await client.get(f"/v1/incidents/{made['id']}", headers=auth())).json()["version"] == 1


async def test_a_retried_report_with_its_idempotency_key_records_one_incident(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    headers = {**auth(), "Idempotency-Key": "report-1"}
    first = await service.client.post("/v1/incidents", json=DELAY, headers=headers)
    again = await service.client.post("/v1/incidents", json=DELAY, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert await service.runtime.store.db["incidents"].count_documents({}) == 1


async def test_an_incident_nobody_acknowledges_in_time_escalates_once(mongodb_url, mongo_database_name):
    from datetime import UTC, datetime, timedelta

    app = create_app(component_settings("feedback", mongodb_url, mongo_database_name),
                     tracer_provider=TracerProvider(), escalation_check_interval_s=0.05)
    async with running_service(app) as service:
        await service.publish_trip(TRIP, ["c1", "c2"])
        critical = (await service.client.post("/v1/incidents", json={**DELAY, "severity": "critical"},
                                              headers=auth())).json()
        answered = (await service.client.post("/v1/incidents", json={**DELAY, "severity": "critical"},
                                              headers=auth())).json()
        await service.client.post(f"/v1/incidents/{answered['id']}/acknowledge", headers=auth())
        # The deadline passes (15 minutes, here moved to the past rather than waited for).
        await service.runtime.store.db["incidents"].update_many(
            {}, {"$set": {"response_due_at": datetime.now(UTC) - timedelta(minutes=1)}})
        async with asyncio.timeout(5):
            while not await service.emitted(IncidentEscalated):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # several more checks: still once
        [escalated] = await service.emitted(IncidentEscalated)
        assert escalated.aggregate_id == critical["id"] and "Not acknowledged within 15 min" in escalated.reason
        shown = (await service.client.get(f"/v1/incidents/{critical['id']}", headers=auth())).json()
        assert shown["escalated_at"] and shown["timeline"][-1]["kind"] == "escalated" and shown["overdue"]


async def test_an_erasure_scrubs_the_accounts_of_incidents_that_concern_the_traveller(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    mine = (await service.client.post("/v1/incidents", json=DELAY, headers=auth())).json()
    other = (await service.client.post("/v1/incidents", json={**DELAY, "travellers": ["c2"]}, headers=auth())).json()
    await service.client.post(f"/v1/incidents/{mine['id']}/resolve", json={"resolution": "Mei saw a doctor."},
                              headers=auth())
    async with asyncio.timeout(10):  # an erasure comes long after: by then the relay has published the incident
        while await service.runtime.outbox.rows.count_documents({"aggregate_id": mine["id"], "status": "pending"}):
            await asyncio.sleep(0.05)
    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=3,
                                         producer="customers", data=ErasedCustomer(customer_id="c1")))
    scrubbed = (await service.client.get(f"/v1/incidents/{mine['id']}", headers=auth())).json()
    assert "Mei" not in str(scrubbed) and scrubbed["kind"] == "delay" and scrubbed["delay_minutes"] == 180
    kept = (await service.client.get(f"/v1/incidents/{other['id']}", headers=auth())).json()
    assert "Mei is unwell" in kept["description"], "only incidents that concern the erased traveller"
    published = await service.runtime.outbox.rows.count_documents({"aggregate_id": mine["id"]})
    assert published == 0, "the events that carried the account are gone from the outbox too"


async def test_metrics_count_unresolved_incidents_by_severity_and_status(service):
    from prometheus_client.parser import text_string_to_metric_families

    def figures(text: str) -> dict[tuple, float]:
        return {(sample.name, sample.labels["severity"], sample.labels.get("status")): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples
                if sample.name.startswith("incidents_") and sample.value}

    await service.publish_trip(TRIP, ["c1", "c2"])
    for severity in ("critical", "high"):
        reported = await service.client.post("/v1/incidents", json={**DELAY, "severity": severity}, headers=auth())
        assert reported.status_code == 201, reported.text
    taken = await service.client.post(f"/v1/incidents/{reported.json()['id']}/acknowledge", json={}, headers=auth())
    assert taken.status_code == 200, taken.text
    assert figures((await service.client.get("/metrics")).text) == {
        ("incidents_open", "critical", "open"): 1, ("incidents_open", "high", "acknowledged"): 1}
