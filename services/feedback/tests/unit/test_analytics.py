"""The agency's figures, each checked against records counted by hand."""
from collections import Counter
from datetime import UTC, datetime, timedelta

from feedback.domain.analytics import (
    complaint_resolution,
    destination,
    incident_rates,
    nps,
    response_rates,
    satisfaction,
    scorecard,
)
from feedback.domain.complaints import Complaint, Proposal
from feedback.domain.incidents import Incident
from feedback.domain.surveys import Scores, Survey, SurveyAnswer, SurveySettings

NOW = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)
KYOTO = {"_id": "kyoto", "planner": "Ana", "members": [{"customer_id": c} for c in ("c1", "c2", "c3")],
         "items": [{"item_id": "f", "kind": "flight", "timezone": "Europe/London", "end_timezone": "Asia/Tokyo"},
                   {"item_id": "h", "kind": "accommodation", "timezone": "Asia/Tokyo"},
                   {"item_id": "d", "kind": "dining", "timezone": "Asia/Tokyo"}]}
ROME = {"_id": "rome", "planner": "Bo", "members": [{"customer_id": "c4"}],
        "items": [{"item_id": "x", "kind": "activity", "timezone": "Europe/Rome"}]}


def answer(trip: str, customer: str, overall: int, score: int, when: datetime, suppliers=None) -> SurveyAnswer:
    return SurveyAnswer(id=f"{trip}:{customer}", tenant_id="t", survey_id=f"{trip}:post_trip", itinerary_id=trip,
                        kind="post_trip", customer_id=customer, language="en",
                        scores=Scores(overall, score, supplier_ratings=suppliers or {}), answered_at=when)


ANSWERS = [answer("kyoto", "c1", 5, 10, datetime(2027, 1, 10, tzinfo=UTC), {"Gion Kaiseki": 5}),
           answer("kyoto", "c2", 4, 8, datetime(2027, 1, 20, tzinfo=UTC), {"Gion Kaiseki": 2}),
           answer("kyoto", "c3", 2, 3, datetime(2027, 2, 2, tzinfo=UTC)),
           answer("rome", "c4", 5, 9, datetime(2027, 2, 3, tzinfo=UTC))]


def test_nps_is_promoters_minus_detractors_in_points():
    assert nps([10, 9, 8, 3]) == 25.0
    assert nps([0, 6]) == -100.0 and nps([]) is None


def test_satisfaction_by_month_destination_planner_and_supplier():
    trips = {"kyoto": KYOTO, "rome": ROME}
    by_month = satisfaction(ANSWERS, trips, "month")
    assert by_month == [
        {"month": "2027-01", "responses": 2, "average_overall": 4.5, "nps": 50.0, "promoters": 1, "passives": 1,
         "detractors": 0},
        {"month": "2027-02", "responses": 2, "average_overall": 3.5, "nps": 0.0, "promoters": 1, "passives": 0,
         "detractors": 1}]
    by_destination = {row["destination"]: row for row in satisfaction(ANSWERS, trips, "destination")}
    assert by_destination["Asia/Tokyo"]["responses"] == 3, "the flight counts where it lands"
    assert by_destination["Europe/Rome"]["nps"] == 100.0
    assert [row["planner"] for row in satisfaction(ANSWERS, trips, "planner")] == ["Ana", "Bo"]
    assert satisfaction(ANSWERS, trips, "supplier") == [
        {"supplier": "Gion Kaiseki", "ratings": 2, "average_rating": 3.5}]
    assert satisfaction(ANSWERS, trips, "week")[0]["week"] == "2027-W01", "Sunday 10 January ends week 1"
    assert destination(None) == "(unknown)"


def incident(supplier, kind="delay") -> Incident:
    return Incident(id="i", tenant_id="t", itinerary_id="kyoto", kind=kind, severity="high", summary="s",
                    description=None, occurred_local="2027-01-01T10:00", timezone="Asia/Tokyo", occurred_at=NOW,
                    reported_at=NOW, response_due_at=NOW, supplier=supplier)


def test_incident_rates_per_supplier_booking_and_per_kind_per_trip():
    incidents = [incident("JAL"), incident("JAL", "lost_item"), incident(None, "illness_or_injury")]
    bookings = [{"vendor_name": "JAL"}] * 4 + [{"vendor_name": "Gion Kaiseki"}]
    rates = incident_rates(incidents, bookings, trips=10)
    assert rates["suppliers"] == [
        {"supplier": "Gion Kaiseki", "incidents": 0, "bookings": 1, "per_100_bookings": 0.0},
        {"supplier": "JAL", "incidents": 2, "bookings": 4, "per_100_bookings": 50.0}]
    assert {row["kind"]: row["per_100_trips"] for row in rates["kinds"]} == \
        {"delay": 10.0, "illness_or_injury": 10.0, "lost_item": 10.0}


def complaint(received: datetime, offered_after_h: float | None, accepted_after_h: float | None,
              cause="supplier") -> Complaint:
    made = Complaint.record("t", "kyoto", source="client", complainant="c1", account="x", actor="a", now=received,
                            on_trip=["c1"], items=[], supplier="JAL")
    if offered_after_h is not None:
        made.analyse(cause, "f", "ana", received)
        made.propose(Proposal.of("apology", None, None, "Sorry", "ana", received + timedelta(hours=offered_after_h)))
    if accepted_after_h is not None:
        made.accept("client:c1", received + timedelta(hours=accepted_after_h))
    return made


def test_complaint_resolution_times_by_cause():
    start = NOW - timedelta(days=10)
    rows = {row["cause"]: row for row in complaint_resolution(
        [complaint(start, 10, 30), complaint(start, 20, None), complaint(start, 30, 40, "agency"),
         complaint(NOW - timedelta(days=4), None, None)], NOW)}
    assert rows["all"]["complaints"] == 4 and rows["all"]["open"] == 4
    assert rows["all"]["median_hours_to_offer"] == 20.0 and rows["all"]["median_hours_to_acceptance"] == 35.0
    assert rows["supplier"]["complaints"] == 2 and rows["not analysed"]["overdue"] == 1
    assert list(rows)[0] == "all"


def test_response_rates_per_kind_and_a_supplier_scorecard():
    trip = {"_id": "kyoto", "members": KYOTO["members"], "items": []}
    surveys = [Survey.issue("t", trip, "post_trip", [], SurveySettings(), NOW),
               Survey.issue("t", {**trip, "_id": "rome", "members": ROME["members"]}, "post_trip", [],
                            SurveySettings(), NOW)]
    assert response_rates(surveys, Counter({"kyoto:post_trip": 3})) == [
        {"kind": "post_trip", "surveys": 2, "asked": 4, "answered": 3, "rate": 0.75}]
    card = scorecard("JAL", ANSWERS + [answer("rome", "c4", 3, 5, NOW, {"JAL": 1})],
                     [incident("JAL"), incident("Other")], [complaint(NOW, 1, None), complaint(NOW, 1, None,
                                                                                                "agency")], 4)
    assert (card.ratings, card.average_rating, card.incidents, card.complaints, card.incidents_per_100_bookings) == \
        (1, 1.0, 1, 1, 25.0)
