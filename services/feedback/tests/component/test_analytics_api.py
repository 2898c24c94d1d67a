"""What the agency learns, through the API: figures from surveys, incidents, complaints and bookings, as JSON and
as CSV; and each supplier's scorecard published as it moves."""
import csv
import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feedback.adapters.repository import KNOWN_TRIPS, SURVEYS, SurveyWork
from feedback.domain.surveys import Scores
from feedback.service_layer import services
from trip_shared.contracts.booking import BookingRequested
from trip_shared.contracts.feedback import SupplierScorecardChanged
from trip_shared.contracts.itinerary import (
    ItemSnapshot,
    ItinerarySummary,
)
from trip_shared.testing.service import auth

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST_DAY = datetime.now(TOKYO).date() - timedelta(days=1)
STARTED = datetime.combine(FIRST_DAY, time(10, 0), TOKYO)
TRIP = ItinerarySummary(
    itinerary_id="it-1", title="Kyoto", stage="in_progress", planner="Ana", start_date=FIRST_DAY,
    end_date=FIRST_DAY + timedelta(days=4),
    items=[ItemSnapshot(item_id="class", kind="activity", title="Cooking class", timezone="Asia/Tokyo",
                        start=STARTED.strftime("%Y-%m-%dT%H:%M"), starts_at=STARTED)])
TRAVELLERS = ("c1", "c2", "c3")


async def a_trip_with_a_survey(service):
    await service.publish_trip(TRIP, TRAVELLERS)
    for number in (1, 2):
        await service.publish(BookingRequested.model_validate({
            "tenant_id": "tenant-a", "aggregate_id": f"bk-{number}", "aggregate_version": 1, "trip_id": "it-1",
            "producer": "booking", "data": {
                "booking_id": f"bk-{number}", "itinerary_id": "it-1", "item_id": "class", "status": "requested",
                "vendor_name": "Kyoto Cooking School", "service": {
                    "kind": "activity", "title": "Cooking class", "timezone": "Asia/Tokyo",
                    "start": STARTED.strftime("%Y-%m-%dT%H:%M")}}}))
    db = service.runtime.store.db
    # The check-in on the first evening, yesterday: due now.
    await service.client.put("/v1/survey-settings", json={"mid_trip_day": 1}, headers=auth())
    assert await services.issue_due_surveys(service.runtime.transaction, SurveyWork(db[KNOWN_TRIPS], db[SURVEYS])) \
        == 1
    await db["surveys"].update_one({}, {"$set": {"suppliers": ["Kyoto Cooking School"]}})  # as if confirmed
    for customer, overall, score, rating in (("c1", 5, 10, 5), ("c2", 2, 5, 2)):
        await services.answer_survey(service.runtime.transaction, "tenant-a", "it-1:mid_trip", customer,
                                     Scores(overall, score, supplier_ratings={"Kyoto Cooking School": rating}),
                                     "en", None)


async def test_satisfaction_by_planner_and_supplier_as_json_and_csv(service):
    await a_trip_with_a_survey(service)
    planners = await service.client.get("/v1/analytics/satisfaction", params={"by": "planner"}, headers=auth())
    assert planners.status_code == 200, planners.text
    assert planners.json()["rows"] == [{"planner": "Ana", "responses": 2, "average_overall": 3.5, "nps": 0.0,
                                        "promoters": 1, "passives": 0, "detractors": 1}]
    by_month = (await service.client.get("/v1/analytics/satisfaction", headers=auth())).json()
    assert by_month["by"] == "month" and by_month["rows"][0]["responses"] == 2
    exported = await service.client.get("/v1/analytics/satisfaction", params={"by": "supplier", "format": "csv"},
                                        headers=auth())
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows == [{"supplier": "Kyoto Cooking School", "ratings": "2", "average_rating": "3.5"}]
    accepted = await service.client.get("/v1/analytics/satisfaction", params={"by": "destination"},
                                        headers={**auth(), "Accept": "text/csv"})
    assert accepted.text.splitlines()[0] == "destination,responses,average_overall,nps,promoters,passives,detractors"
    assert accepted.text.splitlines()[1].startswith("Asia/Tokyo,2,")
    theirs = await service.client.get("/v1/analytics/satisfaction", headers=auth("tenant-b"))
    assert theirs.json()["rows"] == [], "another agency's figures hold none of these"


async def test_incident_rates_complaint_times_and_response_rates(service):
    await a_trip_with_a_survey(service)
    for kind in ("delay", "other"):
        made = await service.client.post("/v1/incidents", headers=auth(), json={
            "itinerary_id": "it-1", "item_id": "class", "kind": kind, "severity": "low", "summary": "Late start",
            "occurred_at": STARTED.strftime("%Y-%m-%dT%H:%M"), "supplier": "Kyoto Cooking School",
            **({"delay_minutes": 40} if kind == "delay" else {})})
        assert made.status_code == 201, made.text
    rates = (await service.client.get("/v1/analytics/incident-rates", headers=auth())).json()["rows"]
    assert rates == [{"supplier": "Kyoto Cooking School", "incidents": 2, "bookings": 2, "per_100_bookings": 100.0}]
    kinds = (await service.client.get("/v1/analytics/incident-rates", params={"by": "kind"}, headers=auth())).json()
    assert [(row["kind"], row["per_100_trips"]) for row in kinds["rows"]] == [("delay", 100.0), ("other", 100.0)]
    complaints = (await service.client.get("/v1/analytics/complaints", headers=auth())).json()["rows"]
    assert complaints[0]["cause"] == "all" and complaints[0]["complaints"] == 1, "the low answer's follow-up"
    responses = (await service.client.get("/v1/analytics/survey-responses", headers=auth())).json()["rows"]
    assert responses == [{"kind": "mid_trip", "surveys": 1, "asked": 3, "answered": 2, "rate": 0.667}]


async def test_bad_ranges_and_groupings_are_refused(service):
    today = datetime.now(UTC).date()
    for params, code in (({"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()},
                          "invalid-range"),
                         ({"from": "2019-01-01", "to": "2026-01-01"}, "invalid-range"),
                         ({"by": "colour"}, "invalid-request"), ({"format": "xlsx"}, "invalid-request"),
                         ({"from": "yesterday"}, "invalid-request")):
        refused = await service.client.get("/v1/analytics/satisfaction", params=params, headers=auth())
        assert refused.status_code == 422 and refused.json()["code"] == code, (params, refused.text)


async def test_each_supplier_scorecard_is_published_as_it_moves(service):
    await a_trip_with_a_survey(service)
    cards = await service.emitted(SupplierScorecardChanged)
    assert [(c.aggregate_version, c.data.bookings, c.data.ratings) for c in cards] == [
        (1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 2, 2)], "each booking, then each rating"
    assert cards[-1].data.average_rating == 3.5 and cards[-1].aggregate_id == "Kyoto Cooking School"
    await service.client.post("/v1/incidents", headers=auth(), json={
        "itinerary_id": "it-1", "item_id": "class", "kind": "other", "severity": "low", "summary": "Rude host",
        "occurred_at": STARTED.strftime("%Y-%m-%dT%H:%M"), "supplier": "Kyoto Cooking School"})
    latest = (await service.emitted(SupplierScorecardChanged))[-1]
    assert (latest.aggregate_version, latest.data.incidents, latest.data.incidents_per_100_bookings) == (5, 1, 50.0)


async def test_the_trips_record_holds_every_incident_complaint_and_survey_step_in_order(service):
    await a_trip_with_a_survey(service)
    incident = (await service.client.post("/v1/incidents", headers=auth(), json={
        "itinerary_id": "it-1", "item_id": "class", "kind": "other", "severity": "low", "summary": "Rude host",
        "occurred_at": STARTED.strftime("%Y-%m-%dT%H:%M")})).json()
    await service.client.post(f"/v1/incidents/{incident['id']}/acknowledge", headers=auth())
    record = await service.client.get("/v1/operations/trips/it-1/record", headers=auth())
    assert record.status_code == 200, record.text
    steps = [(entry["subject"], entry["step"]) for entry in record.json()["items"]]
    assert steps[0] == ("survey", "sent") and steps[-2:] == [("incident", "reported"), ("incident", "acknowledged")]
    assert steps.count(("survey", "answered")) == 2 and ("complaint", "received") in steps, \
        "the low answer and the complaint it opened"
    moments = [entry["at"] for entry in record.json()["items"]]
    assert moments == sorted(moments)
    assert (await service.client.get("/v1/operations/trips/it-1/record", headers=auth("tenant-b"))).status_code \
        == 404
