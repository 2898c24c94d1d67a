"""Text messages through the SMS provider's API (a local server speaking it, which reports back as the real one
does): for travellers without e-mail, for clients who prefer it, and for urgent news not read in time."""
import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from notify.bootstrap import create_app
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    FieldChange,
    ItemSnapshot,
    ItineraryChanged,
    ItineraryMember,
    ItinerarySummary,
    MembershipChange,
    TravellerSnapshot,
)
from trip_shared.embedded import free_port
from trip_shared.sms_provider import SIGNATURE_HEADER, LocalSmsProvider, request_signature
from trip_shared.testing.maildir import text_of
from trip_shared.testing.polling import arrives
from trip_shared.testing.service import auth, component_settings, listening, running_service

ACCOUNT, TOKEN, FROM = "AC" + "1" * 32, "provider-auth-token", "+447700900000"
ACK_S = 1.5


@pytest.fixture
def provider():
    with LocalSmsProvider(ACCOUNT, TOKEN) as local:
        yield local


@pytest.fixture
async def service(mongodb_url, mongo_database_name, smtp_port, provider):
    """The notify service listening on a real port, so the provider's delivery reports reach it over HTTP."""
    port = free_port()
    settings = component_settings("notify", mongodb_url, mongo_database_name, smtp_port=smtp_port,
                                  public_base_url=f"http://127.0.0.1:{port}", sms_api_url=provider.url,
                                  sms_account_sid=ACCOUNT, sms_auth_token=TOKEN, sms_from=FROM,
                                  urgent_ack_timeout_s=ACK_S)
    app = create_app(settings, tracer_provider=TracerProvider(), sweep_interval_s=0.1)
    async with running_service(app) as running, listening(app, port):
        yield running


def customer(customer_id, name, emails=(), phones=(), language="en", version=1):
    return CustomerCreated(tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=version,
                           producer="customers",
                           data=CustomerSnapshot(customer_id=customer_id, first_name=name, emails=list(emails),
                                                 phones=list(phones), preferred_language=language))


def summary(items=(), stage="booked"):
    return ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn", stage=stage, items=list(items),
                            travellers=[TravellerSnapshot(customer_id="c1", is_poc=True),
                                        TravellerSnapshot(customer_id="c2")])


def linked(customers, version=2):
    """The last of ``customers`` joined the trip."""
    return CustomerLinked(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=version, trip_id="it-1",
                          producer="itinerary",
                          data=MembershipChange(itinerary=summary(), customer_id=customers[-1][0], is_poc=customers[-1][1],
                                                customers=[ItineraryMember(customer_id=c, is_poc=p)
                                                           for c, p in customers]))


async def records(service, **params):
    response = await service.client.get("/v1/notifications", params=params, headers=auth())
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_poc_without_email_gets_a_text_the_provider_reports_delivered(service, provider, smtp):
    await service.publish(customer("c1", "Mei", phones=["+447700900123"]))
    link = linked([("c1", True)])
    await service.publish(link)
    [record] = await arrives(lambda: records(service, status="delivered"))
    assert record["channel"] == "sms" and record["recipient"] == "+447700900123" and record["kind"] == "poc_assigned"
    [text] = provider.to("+447700900123")
    assert text["from"] == FROM and smtp.messages == []
    assert text["body"].startswith("Lotus & Maple Travel: You are the point of contact for Kyoto in autumn")
    assert "+86 21 5555 0199" in text["body"], "a text says whom to call, the agency's 24/7 line"
    assert "Stop getting" not in text["body"], "a text is stopped by replying STOP, not by a link"
    assert text["status_callback"].endswith("/callbacks/sms/" + record["id"].replace(":", "%3A"))
    assert [report["status"] for report in provider.reports] == ["sent", "delivered"]
    assert all(report["answer"] == 204 for report in provider.reports)
    await service.publish(link)  # redelivered: no second text
    await asyncio.sleep(0.3)
    assert len(provider.to("+447700900123")) == 1


async def test_an_unreachable_number_is_a_bounce_and_a_forged_report_changes_nothing(service, provider):
    await service.publish(customer("c1", "Mei", phones=["+99123456789"]))
    await service.publish(linked([("c1", True)]))
    [record] = await arrives(lambda: records(service, status="bounced"))
    assert "undelivered (error 30003)" in record["last_error"]
    [text] = provider.to("+99123456789")
    url = text["status_callback"]
    forged = {"MessageSid": text["sid"], "MessageStatus": "delivered"}
    async with httpx.AsyncClient() as client:
        for signature in (None, "bm90IGl0", request_signature("someone-elses-token", url, forged)):
            answer = await client.post(url, data=forged, headers={SIGNATURE_HEADER: signature} if signature else {})
            assert answer.status_code == 403 and answer.headers["content-type"] == "application/problem+json"
        assert (await records(service))[0]["status"] == "bounced"
        late = await client.post(url, data=forged, headers={SIGNATURE_HEADER: request_signature(TOKEN, url, forged)})
        assert late.status_code == 204
    assert (await records(service))[0]["status"] == "bounced", "a report after the fate is known changes nothing"


async def test_a_chinese_speakers_text_is_in_chinese_and_short(service, provider):
    await service.publish(customer("c1", "美", phones=["+8613800138000"], language="zh-Hans"))
    await service.publish(linked([("c1", True)]))
    await arrives(lambda: records(service, status="delivered"))
    [text] = provider.messages
    assert text["body"].startswith("Lotus & Maple Travel: 您是行程「Kyoto in autumn」的联系人")
    assert "24小时紧急电话：+86 21 5555 0199" in text["body"]
    assert int(text["num_segments"]) <= 2, text["body"]


async def test_a_client_who_prefers_texts_gets_them_and_refused_numbers_fail_without_retrying(service, provider,
                                                                                            smtp):
    await service.publish(customer("c1", "Mei", emails=["mei@example.com"], phones=["+447700900123"]))
    answer = await service.client.put("/v1/customers/c1/message-preferences", headers=auth(),
                                      json={"opted_out": [], "channels": ["sms", "email"]})
    assert answer.status_code == 200 and answer.json()["channels"] == ["sms", "email"]
    for bad in ({"opted_out": [], "channels": []}, {"opted_out": [], "channels": ["pigeon"]}):
        refused = await service.client.put("/v1/customers/c1/message-preferences", headers=auth(), json=bad)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert (await service.client.get("/v1/customers/c1/message-preferences",
                                     headers=auth())).json()["channels"] == ["sms", "email"]
    await service.publish(linked([("c1", True)]))
    await arrives(lambda: records(service, status="delivered"))
    assert len(provider.to("+447700900123")) == 1 and smtp.to("mei@example.com") == []
    # A number the provider refuses as invalid can never go: failed at once, not retried eight times.
    await service.publish(customer("c2", "Bo", phones=["+4412"]))
    await service.publish(linked([("c1", True), ("c2", True)], version=3))
    [failed] = await arrives(lambda: records(service, status="failed"))
    assert failed["attempts"] == 1 and "21211" in failed["last_error"]


async def test_urgent_news_unread_in_time_goes_again_by_text_and_its_link_confirms_the_email(service, provider,
                                                                                           smtp):
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT19:50")
    before = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT20:20:00")
    await service.publish(customer("c1", "Mei", emails=["mei@example.com"], phones=["+447700900123"]))
    await service.publish(customer("c2", "Bo", phones=["+447700900456"]))  # a traveller with no e-mail
    await service.publish(linked([("c1", True), ("c2", False)]))
    flight = ItemSnapshot(item_id="i1", kind="flight", title="BA5", timezone="Europe/London", start=start)
    await service.publish(ItineraryChanged(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=3, trip_id="it-1", producer="itinerary",
        data=summary([flight], "in_progress"), action="item_changed",
        changes=[FieldChange(field="items.i1.start", before=before, after=start + ":00")]))
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com") and provider.to("+447700900456")))
    [bo] = provider.to("+447700900456")
    assert "Your flight BA5 now leaves at 19:50 London time instead of 20:20." in bo["body"], bo["body"]
    assert "Please confirm you have read this: http" in bo["body"]
    assert provider.to("+447700900123") == [], "e-mail first; the text only if it goes unread"
    [again] = await arrives(lambda: asyncio.sleep(0, provider.to("+447700900123")), timeout=ACK_S + 6)
    assert "BA5 now leaves at 19:50 London time" in again["body"]
    email_link = re.search(r"Please confirm you have read this: (\S+)", text_of(smtp.to("mei@example.com")[0]))[1]
    assert email_link in again["body"], "the text carries the same link: reading either confirms the news"
    await arrives(lambda: asyncio.sleep(0, [m for m in smtp.messages if "Not read" in smtp.subject(m)]))
    path = "/" + email_link.split("://", 1)[1].split("/", 1)[1]
    assert (await service.client.post(path)).status_code == 200
    urgent = {r["id"]: r for r in await records(service, kind="trip_changes")}
    email = next(r for r in urgent.values() if r["recipient"] == "mei@example.com")
    assert email["acknowledged_at"] and email["escalated_at"]
    assert urgent[email["id"] + ":sms"]["channel"] == "sms"
    await asyncio.sleep(ACK_S + 0.5)
    assert len(provider.to("+447700900123")) == 1, "the fallback text itself never escalates again"


def test_the_provider_signature_matches_the_providers_published_example():
    """Twilio's documented example request, signed with its example token."""
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}
    assert request_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) == \
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


async def test_the_planner_hears_of_each_message_a_client_did_not_get_and_when_it_reached_them(service, provider,
                                                                                              smtp):
    from trip_shared.contracts.notify import NotificationRecovered, NotificationUndeliverable

    await service.publish(customer("c1", "Mei"))  # no address at all
    await service.publish(customer("c2", "Bo", phones=["+99123456789"]))  # a number nobody can reach
    await service.publish(linked([("c1", True)]))
    await service.publish(linked([("c1", True), ("c2", True)], version=3))
    await arrives(lambda: _two(service, NotificationUndeliverable))
    problems = {p.data.customer_id: p for p in await service.emitted(NotificationUndeliverable)}
    assert problems["c1"].data.reason == "no_address" and problems["c1"].data.channel == "email"
    assert problems["c2"].data.reason == "bounced" and "30003" in problems["c2"].data.error
    assert problems["c1"].trip_id == "it-1" and problems["c1"].data.subject.startswith("You are the point")
    assert problems["c1"].aggregate_id == problems["c1"].data.notification_id and problems["c1"].aggregate_version == 1
    # Mei adds an address: the message goes, and the trip hears it reached her; nothing is announced twice.
    await service.publish(customer("c1", "Mei", emails=["mei@example.com"], version=2))
    [recovered] = await arrives(lambda: service.emitted(NotificationRecovered))
    assert recovered.data.customer_id == "c1" and recovered.data.reason == "no_address"
    assert recovered.aggregate_version == 2
    await asyncio.sleep(0.5)
    assert len(await service.emitted(NotificationUndeliverable)) == 2
    assert len(await service.emitted(NotificationRecovered)) == 1


async def _two(service, contract):
    return len(await service.emitted(contract)) >= 2
