"""What notify tells about what feedback handles: a complaint (to the client that it arrived and what the agency
offers, in the language they wrote in, with their link; to the planners' desk what the client sent or turned down),
and a survey (each traveller their own link, in their language, and one reminder)."""
import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider

from notify.bootstrap import create_app
from trip_shared.client_links import COMPLAINT_VIEW
from trip_shared.contracts.customers import CustomerCreated, CustomerErased, CustomerSnapshot, ErasedCustomer
from trip_shared.contracts.feedback import ComplaintRecorded, ComplaintState, ComplaintUpdated, OfferDetails
from trip_shared.contracts.itinerary import ItemSnapshot, ItineraryCreated, ItinerarySummary
from trip_shared.testing.maildir import text_of
from trip_shared.testing.polling import arrives
from trip_shared.testing.service import auth, component_settings, running_service
from trip_shared.web.signed_links import LinkSigner

RECEIVED = datetime(2026, 10, 3, 3, 0, tzinfo=UTC)
TRIP = ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn", items=[
    ItemSnapshot(item_id="class", kind="activity", title="Cooking class", timezone="Asia/Tokyo",
                 start="2026-10-03T10:00")])
DESK = "care@lotusmaple.example"


@pytest.fixture
async def service(mongodb_url, mongo_database_name, smtp_port):
    settings = component_settings("notify", mongodb_url, mongo_database_name, smtp_port=smtp_port) \
        .with_overrides(feedback_public_url="https://feedback.agency.example")
    async with running_service(create_app(settings, tracer_provider=TracerProvider(), sweep_interval_s=0.1)) as up:
        yield up


def state(**overrides) -> ComplaintState:
    fields = {"complaint_id": "cp-1", "itinerary_id": "it-1", "source": "client", "status": "received",
              "complainant": "c1", "language": "zh-Hans", "received_at": RECEIVED,
              "due_at": RECEIVED + timedelta(days=3), "item_id": "class"}
    return ComplaintState(**{**fields, **overrides})


def envelope(version: int, **overrides) -> dict:
    return {"tenant_id": "tenant-a", "aggregate_id": "cp-1", "aggregate_version": version, "trip_id": "it-1",
            "producer": "feedback", "data": state(**overrides)}


async def a_traveller_on_a_trip(service):
    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=1,
                                          producer="customers", data=CustomerSnapshot(
                                              customer_id="c1", first_name="Mei", emails=["mei@example.com"],
                                              preferred_language="en")))
    await service.publish(ItineraryCreated(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=1,
                                           trip_id="it-1", producer="itinerary", data=TRIP))


def link_in(text: str) -> str:
    return next(word for word in text.split() if word.startswith("https://feedback.agency.example/complaints/"))


async def test_the_client_hears_their_complaint_arrived_in_their_language_and_the_desk_hears_of_it(service, smtp):
    await a_traveller_on_a_trip(service)
    recorded = ComplaintRecorded(**envelope(1))
    await service.publish(recorded)
    await service.publish(recorded)  # redelivered: told once
    await arrives(lambda: len(smtp.to("mei@example.com")) == 1 and len(smtp.to(DESK)) == 1)
    await asyncio.sleep(0.3)
    [told] = smtp.to("mei@example.com")
    assert smtp.subject(told) == "我们已收到您关于行程「Kyoto in autumn」的意见", "the language they wrote in"
    text = text_of(told)
    assert "2026年10月6日 周二, 12:00 (Asia/Tokyo)" in text, "the deadline where the trip is, the zone named"
    claims = LinkSigner(service.runtime.settings.link_signing_secret).verify(
        link_in(text).rsplit("/", 1)[1], COMPLAINT_VIEW)
    assert (claims.tenant_id, claims.subject_id) == ("tenant-a", "cp-1")
    assert "Lotus" in text or "+86" in text, "the agency's identity and on-trip contacts"
    [desk] = smtp.to(DESK)
    assert smtp.subject(desk) == "New complaint from a client (client): Kyoto in autumn"
    assert "GET /v1/complaints/cp-1" in text_of(desk) and "their trip page" in text_of(desk)


async def test_a_complaint_staff_took_down_is_acknowledged_to_the_client_only(service, smtp):
    await a_traveller_on_a_trip(service)
    await service.publish(ComplaintRecorded(**envelope(1, source="staff", language="en")))
    await arrives(lambda: smtp.to("mei@example.com"))
    await asyncio.sleep(0.3)
    assert smtp.subject(smtp.to("mei@example.com")[0]) == "We have received your message about Kyoto in autumn"
    assert smtp.to(DESK) == []


async def test_an_offer_reaches_the_client_with_their_link_and_an_escalation_reaches_the_desk(service, smtp):
    await a_traveller_on_a_trip(service)
    offer = OfferDetails(remedy="refund", amount="120.00", currency="EUR",
                         message="We are sorry the class started late; we refund it.")
    answer_by = RECEIVED + timedelta(days=14)
    for change, version in (("note", 2), ("analysed", 3)):  # nothing for the client in these
        await service.publish(ComplaintUpdated(change=change, **envelope(version, source="staff", language="en")))
    await service.publish(ComplaintUpdated(change="proposed", **envelope(
        4, source="staff", language="en", status="proposed", due_at=None, answer_by=answer_by, offer=offer)))
    await arrives(lambda: smtp.to("mei@example.com"))
    [offered] = smtp.to("mei@example.com")
    assert smtp.subject(offered) == "Our proposal about your complaint: Kyoto in autumn"
    text = text_of(offered)
    assert "A refund of 120.00 EUR" in text and "we refund it." in text
    assert "Sat 17 Oct 2026, 12:00 (Asia/Tokyo)" in text and link_in(text)
    await service.publish(ComplaintUpdated(change="escalated", **envelope(
        5, source="staff", language="en", status="escalated", due_at=RECEIVED + timedelta(days=5), offer=offer,
        escalation_reason="We lost the whole morning.", owner="Ana")))
    await arrives(lambda: smtp.to(DESK))
    [desk] = smtp.to(DESK)
    assert smtp.subject(desk) == "Complaint escalated by the client: Kyoto in autumn"
    assert "We lost the whole morning." in text_of(desk) and "Owner: Ana" in text_of(desk)
    assert len(smtp.to("mei@example.com")) == 1, "the client is not told of their own escalation"
    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2,
                                         producer="customers", data=ErasedCustomer(customer_id="c1")))
    logged = (await service.client.get("/v1/notifications", headers=auth())).json()["items"]
    escalation = next(n for n in logged if n["kind"] == "complaint_escalated")
    assert escalation["customer_id"] == "agency"
    stored = await service.runtime.store.db["notifications"].find_one({"_id": escalation["id"]})
    assert "morning" not in stored["body"], "the desk's copy of the client's words goes with the erasure"


async def test_each_traveller_gets_their_own_survey_link_in_their_language_and_the_reminder_only_the_silent(
        service, smtp):
    from trip_shared.client_links import SURVEY_ANSWER
    from trip_shared.contracts.feedback import SurveyDetails, SurveyIssued, SurveyReminderDue

    await a_traveller_on_a_trip(service)
    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c2", aggregate_version=1,
                                          producer="customers", data=CustomerSnapshot(
                                              customer_id="c2", first_name="Tom", emails=["tom@example.com"],
                                              preferred_language="zh-Hans")))
    closes = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    details = {"survey_id": "it-1:mid_trip", "itinerary_id": "it-1", "kind": "mid_trip", "closes_at": closes}
    envelope_ = {"tenant_id": "tenant-a", "aggregate_id": "it-1:mid_trip", "trip_id": "it-1", "producer": "feedback"}
    await service.publish(SurveyIssued(aggregate_version=1, data=SurveyDetails(respondents=["c1", "c2"], **details),
                                       **envelope_))
    await arrives(lambda: smtp.to("mei@example.com") and smtp.to("tom@example.com"))
    [mei], [tom] = smtp.to("mei@example.com"), smtp.to("tom@example.com")
    assert smtp.subject(mei) == "How is your trip going? Kyoto in autumn"
    assert smtp.subject(tom) == "旅途还顺利吗？Kyoto in autumn"
    assert "2026年11月2日 周一, 18:00 (Asia/Tokyo)" in text_of(tom)
    signer = LinkSigner(service.runtime.settings.link_signing_secret)
    for message, customer, language in ((mei, "c1", "en"), (tom, "c2", "zh-Hans")):
        url = next(w for w in text_of(message).split() if w.startswith("https://feedback.agency.example/surveys/"))
        token, _, query = url.rsplit("/", 1)[1].partition("?")
        claims = signer.verify(token, SURVEY_ANSWER)
        assert (claims.subject_id, claims.link_id, query) == ("it-1:mid_trip", customer, f"lang={language}")
    await service.publish(SurveyReminderDue(aggregate_version=2, data=SurveyDetails(respondents=["c2"], **details),
                                            **envelope_))
    await arrives(lambda: len(smtp.to("tom@example.com")) == 2)
    assert smtp.subject(smtp.to("tom@example.com")[1]) == "提醒：旅途还顺利吗？Kyoto in autumn"
    assert len(smtp.to("mei@example.com")) == 1
