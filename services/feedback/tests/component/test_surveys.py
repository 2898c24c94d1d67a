"""Surveys end to end within feedback: sent when due, answered on each traveller's page, reminded once, a low
answer followed up as a complaint, comments scrubbed with an erasure."""
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feedback.adapters.repository import KNOWN_TRIPS, SURVEYS, SurveyWork
from feedback.service_layer import services
from trip_shared.client_links import survey_token
from trip_shared.contracts.booking import BookingConfirmed
from trip_shared.contracts.customers import CustomerErased, ErasedCustomer
from trip_shared.contracts.feedback import ComplaintRecorded, SurveyAnswered, SurveyIssued, SurveyReminderDue
from trip_shared.contracts.itinerary import (
    ItemSnapshot,
    ItineraryChanged,
    ItinerarySummary,
    TravellerSnapshot,
)
from trip_shared.testing.service import auth

# A trip that began in Tokyo yesterday (surveys stay open for 30 days from now, as a traveller would answer them).
TOKYO = ZoneInfo("Asia/Tokyo")
FIRST_DAY = datetime.now(TOKYO).date() - timedelta(days=1)
STARTED = datetime.combine(FIRST_DAY, time(10, 0), TOKYO)
CHECK_IN = datetime.combine(FIRST_DAY + timedelta(days=1), time(18, 0), TOKYO)  # 18:00 on the second day
ITEMS = [ItemSnapshot(item_id="flight", kind="flight", title="JL 44", timezone="Asia/Tokyo",
                      start=STARTED.strftime("%Y-%m-%dT%H:%M"), starts_at=STARTED),
         ItemSnapshot(item_id="class", kind="activity", title="Cooking class", timezone="Asia/Tokyo",
                      start=(STARTED + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                      starts_at=STARTED + timedelta(days=3))]
TRIP = ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn", stage="in_progress", start_date=FIRST_DAY,
                        end_date=FIRST_DAY + timedelta(days=4), items=ITEMS,
                        travellers=[TravellerSnapshot(customer_id="c1", name="Mei Lin", is_poc=True),
                                    TravellerSnapshot(customer_id="c2", name="Tom Lin")])
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def trip_under_way(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    await service.publish(BookingConfirmed.model_validate({
        "tenant_id": "tenant-a", "aggregate_id": "bk-1", "aggregate_version": 2, "trip_id": "it-1",
        "producer": "booking", "data": {"booking_id": "bk-1", "itinerary_id": "it-1", "item_id": "flight",
                                        "status": "confirmed", "vendor_name": "Japan Airlines"}}))


def work(service) -> SurveyWork:
    db = service.runtime.store.db
    return SurveyWork(db[KNOWN_TRIPS], db[SURVEYS])


def page(service, customer="c1", survey_id="it-1:mid_trip") -> str:
    return f"/surveys/{survey_token(service.app.state.link_signer, 'tenant-a', survey_id, customer)}"


async def send(service, path, lang="en", **fields):
    return await service.client.post(f"{path}?lang={lang}", data=fields, headers=FORM)


async def test_the_check_in_goes_once_at_its_hour_and_is_answered_and_revised_on_the_travellers_page(service):
    await trip_under_way(service)
    transaction = service.runtime.transaction
    assert await services.issue_due_surveys(transaction, work(service), CHECK_IN - timedelta(minutes=1)) == 0
    assert await services.issue_due_surveys(transaction, work(service), CHECK_IN) == 1
    assert await services.issue_due_surveys(transaction, work(service), CHECK_IN + timedelta(hours=1)) == 0
    [issued] = await service.emitted(SurveyIssued)
    assert (issued.data.survey_id, issued.data.kind, issued.data.respondents) == ("it-1:mid_trip", "mid_trip",
                                                                                 ["c1", "c2"])
    shown = await service.client.get(page(service), params={"lang": "zh-Hans"})
    assert shown.status_code == 200 and "旅途还顺利吗？" in shown.text and "Mei Lin" in shown.text
    assert "JL 44" in shown.text and "Japan Airlines" in shown.text, "what has happened, and the supplier"
    assert "Cooking class" not in shown.text, "not what is still to come"
    half = await send(service, page(service), "zh-Hans", overall="4", comment="晚餐很好", version="")
    assert half.status_code == 422 and "请回答前两个问题" in half.text and "晚餐很好" in half.text
    answered = await send(service, page(service), overall="4", nps="9", item_flight="5", supplier_0="4",
                          comment="Lovely so far", consent="1", version="")
    assert answered.status_code == 201 and "Thank you!" in answered.text and "Someone from" not in answered.text
    listed = (await service.client.get("/v1/surveys", params={"itinerary_id": "it-1"}, headers=auth())).json()
    [survey] = listed["items"]
    assert survey["response_rate"] == 0.5 and survey["suppliers"] == ["Japan Airlines"]
    [answer] = survey["answers"]
    assert (answer["overall"], answer["nps"], answer["item_ratings"], answer["supplier_ratings"],
            answer["consent_to_contact"]) == (4, 9, {"flight": 5}, {"Japan Airlines": 4}, True)
    again = await service.client.get(page(service))
    assert 'value="9" checked' in again.text and "You answered on" in again.text, "their answer, to change"
    stale = await send(service, page(service), overall="5", nps="10", version="")
    assert stale.status_code == 409 and "changed in another window" in stale.text
    revised = await send(service, page(service), overall="5", nps="10", version="1")
    assert revised.status_code == 200
    [survey] = (await service.client.get("/v1/surveys", params={"itinerary_id": "it-1"}, headers=auth())).json()[
        "items"]
    assert survey["answers"][0]["version"] == 2 and survey["answers"][0]["earlier"][0]["overall"] == 4
    assert [(e.data.overall, e.data.revision) for e in await service.emitted(SurveyAnswered)] == [(4, 1), (5, 2)]
    assert "Lovely" not in str([e.model_dump() for e in await service.emitted(SurveyAnswered)]), \
        "the comment stays in feedback"


async def test_a_low_answer_opens_one_complaint_and_the_reminder_goes_once_to_who_has_not_answered(service):
    await trip_under_way(service)
    transaction = service.runtime.transaction
    await services.issue_due_surveys(transaction, work(service), CHECK_IN)
    low = await send(service, page(service, "c2"), overall="2", nps="3", comment="The guide never came.",
                     version="")
    assert low.status_code == 201 and "Someone from" in low.text
    await send(service, page(service, "c2"), overall="1", nps="2", comment="Still no guide.", version="1")
    [complaint] = await service.emitted(ComplaintRecorded)
    assert (complaint.data.source, complaint.data.complainant) == ("survey", "c2"), "one follow-up, not two"
    stored = (await service.client.get(f"/v1/complaints/{complaint.data.complaint_id}", headers=auth())).json()
    assert stored["account"] == "The guide never came." and stored["survey_response_id"] == "it-1:mid_trip:c2"
    assert await services.remind_due_surveys(transaction, work(service), CHECK_IN + timedelta(hours=71)) == 0
    assert await services.remind_due_surveys(transaction, work(service), CHECK_IN + timedelta(hours=72)) == 1
    assert await services.remind_due_surveys(transaction, work(service), CHECK_IN + timedelta(hours=96)) == 0
    [reminder] = await service.emitted(SurveyReminderDue)
    assert reminder.data.respondents == ["c1"]


async def test_only_the_trips_travellers_answer_and_the_survey_after_the_trip_goes_once_it_is_completed(service):
    await trip_under_way(service)
    transaction = service.runtime.transaction
    await services.issue_due_surveys(transaction, work(service), CHECK_IN)
    stranger = await send(service, page(service, "c9"), overall="5", nps="10", version="")
    assert stranger.status_code == 422 and "Only the trip&#x27;s travellers answer" in stranger.text
    forged = await service.client.get(page(service)[:-3] + "xyz")
    assert forged.status_code == 403
    put = await service.client.put("/v1/survey-settings", json={"mid_trip_day": 2, "post_trip_delay_hours": 0,
                                                                "reminder_after_hours": 48}, headers=auth())
    assert put.status_code == 200 and put.json()["post_trip_delay_hours"] == 0
    bad = await service.client.put("/v1/survey-settings", json={"mid_trip_day": -1}, headers=auth())
    assert bad.status_code == 422
    assert (await service.client.put("/v1/survey-settings", json={}, headers=auth("read-only"))).status_code == 403
    other = (await service.client.get("/v1/survey-settings", headers=auth("tenant-b"))).json()
    assert other["post_trip_delay_hours"] == 24, "each agency its own"
    theirs = await service.client.put("/v1/survey-settings", json={"mid_trip_day": 0}, headers=auth("tenant-b"))
    assert theirs.status_code == 200 and theirs.json()["mid_trip_day"] == 0
    assert (await service.client.get("/v1/survey-settings", headers=auth())).json()["mid_trip_day"] == 2
    completed = TRIP.model_copy(update={"stage": "completed"})
    await service.publish(ItineraryChanged(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=3,
                                           trip_id="it-1", producer="itinerary", data=completed,
                                           action="stage_moved"))
    assert await services.issue_due_surveys(transaction, work(service), datetime.now(UTC) + timedelta(seconds=1)) == 1
    kinds = [e.data.kind for e in await service.emitted(SurveyIssued)]
    assert kinds == ["mid_trip", "post_trip"]
    after = await service.client.get(page(service, survey_id="it-1:post_trip"))
    assert "How was your trip?" in after.text and "Cooking class" in after.text, "the whole trip is rated"


async def test_an_erasure_scrubs_the_travellers_comments_and_keeps_their_scores(service):
    await trip_under_way(service)
    await services.issue_due_surveys(service.runtime.transaction, work(service), CHECK_IN)
    await send(service, page(service), overall="4", nps="8", comment="Mei here: lovely guide.", version="")
    await send(service, page(service), overall="5", nps="9", comment="Mei again.", version="1")
    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=3,
                                         producer="customers", data=ErasedCustomer(customer_id="c1")))
    [survey] = (await service.client.get("/v1/surveys", params={"itinerary_id": "it-1"}, headers=auth())).json()[
        "items"]
    assert "Mei" not in str(survey["answers"]) and survey["answers"][0]["overall"] == 5
    stored = await service.runtime.store.db["survey_answers"].find_one({})
    assert not re.search("Mei", str(stored))


async def test_metrics_count_travellers_asked_and_answering_the_surveys_of_the_last_30_days(service):
    from prometheus_client.parser import text_string_to_metric_families

    await trip_under_way(service)
    await services.issue_due_surveys(service.runtime.transaction, work(service), CHECK_IN)
    answered = await send(service, page(service), overall="4", nps="9", version="")
    assert answered.status_code == 201, answered.text
    text = (await service.client.get("/metrics")).text
    samples = {(sample.name, sample.labels["kind"]): sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name.startswith("survey_travellers_")}
    assert samples == {("survey_travellers_asked", "mid_trip"): 2, ("survey_travellers_answered", "mid_trip"): 1,
                       ("survey_travellers_asked", "post_trip"): 0, ("survey_travellers_answered", "post_trip"): 0}
