"""A delay reported as an incident: what it does to the rest of the trip, and the shift that answers it."""
import asyncio
from datetime import UTC, datetime, timedelta

from trip_shared.contracts.feedback import IncidentReported, IncidentState
from trip_shared.contracts.itinerary import ItineraryChanged
from trip_shared.testing.service import auth

AIRPORT = {"address": "Fiumicino", "lat": 41.8003, "lon": 12.2389}
HOTEL = {"address": "Hotel Artemide, Via Nazionale", "lat": 41.9009, "lon": 12.4946}
ITEMS = [
    {"kind": "flight", "title": "Flight BA548", "start": "2027-10-01T11:00", "end": "2027-10-01T14:30",
     "timezone": "Europe/London", "end_timezone": "Europe/Rome", "location": {"address": "Heathrow"},
     "end_location": AIRPORT},
    {"kind": "transfer", "title": "Private transfer to the hotel", "start": "2027-10-01T15:00",
     "end": "2027-10-01T16:30", "timezone": "Europe/Rome", "location": AIRPORT, "end_location": HOTEL,
     "mode": "car", "requires_booking": True},
    {"kind": "accommodation", "title": "Hotel Artemide", "start": "2027-10-01T17:00", "end": "2027-10-04T11:00",
     "timezone": "Europe/Rome", "location": HOTEL},
    {"kind": "activity", "title": "Vatican Museums", "start": "2027-10-02T10:00", "end": "2027-10-02T13:00",
     "timezone": "Europe/Rome", "location": {"address": "Vatican", "lat": 41.9065, "lon": 12.4536}},
]


async def rome_trip(service) -> tuple[str, dict[str, str]]:
    created = await service.client.post("/v1/itineraries", json={
        "title": "Rome", "start_date": "2027-10-01", "end_date": "2027-10-04"}, headers=auth())
    itinerary_id = created.json()["id"]
    ids = {}
    for item in ITEMS:
        added = await service.client.post(f"/v1/itineraries/{itinerary_id}/items", json=item, headers=auth())
        assert added.status_code == 201, added.text
        ids[item["kind"]] = added.json()["id"]
    return itinerary_id, ids


def delay_reported(itinerary_id: str, item_id: str, minutes: int, incident_id="inc-1", kind="delay",
                   tenant="tenant-a") -> IncidentReported:
    occurred = datetime(2027, 10, 1, 10, 0, tzinfo=UTC)
    return IncidentReported(
        tenant_id=tenant, aggregate_id=incident_id, aggregate_version=1, trip_id=itinerary_id, producer="feedback",
        data=IncidentState(
            incident_id=incident_id, itinerary_id=itinerary_id, kind=kind, severity="high", status="open",
            summary="BA548 delayed at Heathrow", description="Crew change; airline says 3 h.",
            occurred_local="2027-10-01T11:00", timezone="Europe/London", occurred_at=occurred,
            response_due_at=occurred + timedelta(hours=1), item_id=item_id,
            delay_minutes=minutes if kind == "delay" else None))


async def disruptions(service, itinerary_id, tenant="tenant-a"):
    answer = await service.client.get(f"/v1/itineraries/{itinerary_id}/disruptions", headers=auth(tenant))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def reported(service, itinerary_id):
    async with asyncio.timeout(10):
        while not (found := await disruptions(service, itinerary_id)):
            await asyncio.sleep(0.05)
    return found


async def changes_announced(service):
    rows = service.runtime.outbox.rows.find({"event_type": ItineraryChanged.TOPIC}).sort("_id", 1)
    return [ItineraryChanged.model_validate_json(row["payload"]) async for row in rows]


async def test_a_delay_lists_what_no_longer_works_and_one_call_shifts_it(service):
    itinerary_id, ids = await rome_trip(service)
    await service.publish(delay_reported(itinerary_id, ids["flight"], 180))
    [disruption] = await reported(service, itinerary_id)
    assert disruption["status"] == "open" and disruption["delay_minutes"] == 180
    assert disruption["disrupted_item_when"].endswith("2027-10-01 17:30 Europe/Rome")
    affected = {entry["item_id"]: entry for entry in disruption["affected"]}
    assert set(affected) == {ids["transfer"], ids["accommodation"]}, "the museum tomorrow still works"
    assert affected[ids["transfer"]]["proposed_when"] == "2027-10-01 18:00 Europe/Rome to 2027-10-01 19:30 " \
                                                         "Europe/Rome"
    assert affected[ids["accommodation"]]["action"] == "shift" and affected[ids["accommodation"]]["reasons"]

    before = len(await changes_announced(service))
    shift = await service.client.post(f"/v1/itineraries/{itinerary_id}/disruptions/inc-1/shift", json={},
                                      headers=auth())
    assert shift.status_code == 200, shift.text
    assert shift.json()["status"] == "shifted" and shift.json()["moves"] == {
        ids["flight"]: 180, ids["transfer"]: 180, ids["accommodation"]: 180}
    items = {item["id"]: item for item in (await service.client.get(
        f"/v1/itineraries/{itinerary_id}/items", headers=auth())).json()["items"]}
    assert items[ids["flight"]]["end"] == "2027-10-01T17:30" and items[ids["transfer"]]["start"] == "2027-10-01T18:00"
    assert items[ids["accommodation"]]["start"] == "2027-10-01T20:00"
    assert items[ids["accommodation"]]["end"] == "2027-10-04T11:00", "the check-out stays"
    feasibility = (await service.client.get(f"/v1/itineraries/{itinerary_id}/feasibility", headers=auth())).json()
    assert [f for f in feasibility["findings"] if f["severity"] == "error"] == []

    [announced] = (await changes_announced(service))[before:]
    assert announced.action == "disruption_shift" and announced.disruption.incident_id == "inc-1"
    assert announced.disruption.delay_minutes == 180
    assert {change.field for change in announced.changes} >= {f"items.{ids['transfer']}.start",
                                                               f"items.{ids['accommodation']}.start"}
    history = (await service.client.get(f"/v1/itineraries/{itinerary_id}/history", headers=auth())).json()
    assert history["items"][-1]["action"] == "disruption_shift"

    again = await service.client.post(f"/v1/itineraries/{itinerary_id}/disruptions/inc-1/shift", json={},
                                      headers=auth())
    assert again.status_code == 409 and again.json()["code"] == "already-shifted"
    assert len(await changes_announced(service)) == before + 1, "a retried shift has one effect"


async def test_a_planners_own_shift_is_checked_and_a_bad_one_changes_nothing(service):
    itinerary_id, ids = await rome_trip(service)
    await service.publish(delay_reported(itinerary_id, ids["flight"], 90))
    await reported(service, itinerary_id)
    before = (await service.client.get(f"/v1/itineraries/{itinerary_id}", headers=auth())).json()["version"]
    for moves, status, code in (([{"item_id": "nope", "minutes": 30}], 422, "item-not-found"),
                                ([{"item_id": ids["transfer"], "minutes": 0}], 422, "invalid-shift"),
                                ([{"item_id": ids["transfer"], "minutes": 99999}], 422, None)):
        refused = await service.client.post(f"/v1/itineraries/{itinerary_id}/disruptions/inc-1/shift",
                                            json={"moves": moves}, headers=auth())
        assert refused.status_code == status, refused.text
        assert code is None or refused.json()["code"] == code
    missing = await service.client.post(f"/v1/itineraries/{itinerary_id}/disruptions/inc-9/shift", json={},
                                        headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "disruption-not-found"
    assert (await service.client.get(f"/v1/itineraries/{itinerary_id}", headers=auth())).json()["version"] == before

    own = await service.client.post(f"/v1/itineraries/{itinerary_id}/disruptions/inc-1/shift", json={
        "moves": [{"item_id": ids["flight"], "minutes": 90}, {"item_id": ids["transfer"], "minutes": 120}]},
        headers=auth())
    assert own.status_code == 200 and own.json()["moves"] == {ids["flight"]: 90, ids["transfer"]: 120}
    transfer = (await service.client.get(f"/v1/itineraries/{itinerary_id}/items/{ids['transfer']}",
                                         headers=auth())).json()
    assert transfer["start"] == "2027-10-01T17:00"


async def test_other_incidents_and_other_agencies_trips_are_not_disruptions(service):
    itinerary_id, ids = await rome_trip(service)
    lost = delay_reported(itinerary_id, ids["flight"], 0, incident_id="inc-lost", kind="lost_item")
    foreign = delay_reported(itinerary_id, ids["flight"], 60, incident_id="inc-b", tenant="tenant-b")
    cancelled = delay_reported(itinerary_id, ids["flight"], 0, incident_id="inc-c", kind="cancellation")
    for event in (lost, foreign, cancelled, cancelled):
        await service.publish(event)
    [only] = await reported(service, itinerary_id)
    assert only["incident_id"] == "inc-c" and only["kind"] == "cancellation"
    assert {entry["action"] for entry in only["affected"]} == {"rebook", "review"}
    assert (await service.client.get(f"/v1/itineraries/{itinerary_id}/disruptions",
                                     headers=auth("tenant-b"))).status_code == 404
