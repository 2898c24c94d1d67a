"""Planners see what a client would get before it goes, and send a message again when a client says it never came."""
import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from opentelemetry.sdk.trace import TracerProvider

from notify.bootstrap import create_app
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot, CustomerUpdated
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
from trip_shared.testing.maildir import text_of
from trip_shared.testing.service import auth, component_settings, running_service


@pytest.fixture
async def service(mongodb_url, mongo_database_name, smtp_port):
    settings = component_settings("notify", mongodb_url, mongo_database_name, smtp_port=smtp_port,
                                  change_digest_quiet_s=60, change_digest_max_wait_s=120)
    async with running_service(create_app(settings, tracer_provider=TracerProvider(), sweep_interval_s=0.1)) as s:
        yield s


def local(days: float, hour: int, minute: int = 0) -> str:
    return f"{(datetime.now(UTC) + timedelta(days=days)).date().isoformat()}T{hour:02d}:{minute:02d}"


FAR = 20
ITEMS = [ItemSnapshot(item_id="i1", kind="flight", title="BA5", timezone="Europe/London", start=local(FAR, 19, 50),
                      end_timezone="Asia/Tokyo"),
         ItemSnapshot(item_id="i2", kind="dining", title="Kaiseki dinner", timezone="Asia/Tokyo",
                      start=local(FAR + 2, 19), end=local(FAR + 2, 21))]
SUMMARY = ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn", stage="booked", items=ITEMS,
                           travellers=[TravellerSnapshot(customer_id="c1", is_poc=True),
                                       TravellerSnapshot(customer_id="c2")])


def person(customer_id, name, email, language="en", version=1, home=None):
    contract = CustomerCreated if version == 1 else CustomerUpdated
    return contract(tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=version, producer="customers",
                    data=CustomerSnapshot(customer_id=customer_id, first_name=name, emails=[email],
                                          preferred_language=language, home_timezone=home))


async def booked_trip(service):
    await service.publish(person("c1", "Mei", "mei@example.com", "zh-Hans"))
    await service.publish(person("c2", "Bo", "bo@example.com"))
    await service.publish(CustomerLinked(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=2, trip_id="it-1", producer="itinerary",
        data=MembershipChange(itinerary=SUMMARY, customer_id="c1", is_poc=True,
                              customers=[ItineraryMember(customer_id="c1", is_poc=True),
                                         ItineraryMember(customer_id="c2", is_poc=False)])))


async def preview(service, **params):
    return await service.client.get("/v1/itineraries/it-1/message-preview", params=params, headers=auth())


async def records(service):
    return (await service.client.get("/v1/notifications", params={"itinerary_id": "it-1"},
                                     headers=auth())).json()["items"]


async def test_the_digest_a_client_would_get_is_previewed_in_their_language_and_nothing_is_sent(service, smtp):
    await booked_trip(service)
    nothing = await preview(service, kind="trip_changes")
    assert nothing.status_code == 404 and nothing.json()["code"] == "nothing-to-tell"
    await service.publish(ItineraryChanged(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=3, trip_id="it-1", producer="itinerary",
        data=SUMMARY, action="item_changed",
        changes=[FieldChange(field="items.i1.start", before=local(FAR, 20, 20) + ":00", after="x",
                             description="internal: BA moved us")]))
    before = await records(service)
    for_bo = await preview(service, kind="trip_changes", customer_id="c2")
    assert for_bo.status_code == 200, for_bo.text
    shown = for_bo.json()
    assert shown["recipient"] == "bo@example.com" and shown["status"] == "pending" and shown["channel"] == "email"
    assert "Your flight BA5 now leaves at 19:50 London time instead of 20:20." in shown["text"]
    assert "BA5 now leaves at 19:50 London time" in shown["html"] and shown["html"].lower().startswith("<!doctype html>")
    assert "internal" not in shown["text"] and "+86 21 5555 0199" in shown["text"]
    assert datetime.fromisoformat(shown["due_at"]) > datetime.now(UTC) + timedelta(seconds=30)
    for_mei = (await preview(service, kind="trip_changes")).json()  # the first POC by default
    assert for_mei["customer_id"] == "c1" and for_mei["subject"] == "您的行程「Kyoto in autumn」有变动"
    await asyncio.sleep(0.3)
    assert await records(service) == before and not [m for m in smtp.messages if "有变动" in smtp.subject(m)
                                                     or "Changes" in smtp.subject(m)], "a preview sends nothing"


async def test_a_reminder_is_previewed_as_scheduled_and_bad_requests_are_problems(service, smtp):
    await booked_trip(service)
    shown = await preview(service, kind="reminder_24h", customer_id="c2")
    assert shown.status_code == 200, shown.text
    departure = datetime.fromisoformat(local(FAR, 19, 50)).replace(tzinfo=__import__("zoneinfo").ZoneInfo(
        "Europe/London"))
    assert datetime.fromisoformat(shown.json()["due_at"]) == departure - timedelta(hours=24)
    assert "BA5" in shown.json()["text"] and "19:50" in shown.json()["text"]
    summary = await preview(service, kind="day_summary", customer_id="c2", day=local(FAR + 2, 0)[:10])
    assert summary.status_code == 200 and "Kaiseki dinner" in summary.json()["text"]
    for params, status, code in (({"kind": "day_summary", "day": local(FAR + 9, 0)[:10]}, 404, "nothing-to-tell"),
                                 ({"kind": "reminder_24h", "customer_id": "c9"}, 404, "not-on-trip"),
                                 ({"kind": "profile_form"}, 422, None), ({"kind": "day_summary", "day": "soon"}, 422,
                                                                         None)):
        answer = await preview(service, **params)
        assert answer.status_code == status and answer.headers["content-type"] == "application/problem+json"
        assert code is None or answer.json()["code"] == code
    unknown = await service.client.get("/v1/itineraries/it-9/message-preview", params={"kind": "poc_assigned"},
                                       headers=auth())
    assert unknown.status_code == 404 and unknown.json()["code"] == "trip-not-found"


async def test_a_message_is_sent_again_to_the_address_the_client_has_now_once_per_request(service, smtp):
    await booked_trip(service)
    async with asyncio.timeout(5):
        while not smtp.to("mei@example.com"):
            await asyncio.sleep(0.05)
    [original] = [r for r in await records(service) if r["kind"] == "poc_assigned"]
    await service.publish(person("c1", "Mei", "mei.tan@example.com", "zh-Hans", version=2))
    path = f"/v1/notifications/{original['id']}/resend"
    first = await service.client.post(path, headers={**auth(), "Idempotency-Key": "resend-1"})
    assert first.status_code == 201, first.text
    again = await service.client.post(path, headers={**auth(), "Idempotency-Key": "resend-1"})  # a retried request
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    resent = first.json()
    assert resent["resend_of"] == original["id"] and resent["recipient"] == "mei.tan@example.com"
    async with asyncio.timeout(5):
        while not smtp.to("mei.tan@example.com"):
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert len(smtp.to("mei.tan@example.com")) == 1 and len(smtp.to("mei@example.com")) == 1
    assert "联系人" in text_of(smtp.to("mei.tan@example.com")[0])
    kept = (await service.client.get(f"/v1/notifications/{original['id']}", headers=auth())).json()
    assert kept["status"] == "sent" and kept["recipient"] == "mei@example.com", "the original stays as it was"
    second = await service.client.post(path, headers=auth())
    assert second.status_code == 201 and second.json()["id"].endswith(":resend:2")
    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c3", aggregate_version=1,
                                          producer="customers", data=CustomerSnapshot(customer_id="c3",
                                                                                      first_name="Cy")))
    await service.publish(CustomerLinked(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=3, trip_id="it-1", producer="itinerary",
        data=MembershipChange(itinerary=SUMMARY, customer_id="c3", is_poc=True,
                              customers=[ItineraryMember(customer_id=c, is_poc=c != "c2") for c in ("c1", "c2", "c3")])))
    [unsent] = [r for r in await records(service) if r["customer_id"] == "c3"]
    refused = await service.client.post(f"/v1/notifications/{unsent['id']}/resend", headers=auth())
    assert unsent["status"] == "no_address" and refused.status_code == 409
    assert refused.json()["code"] == "not-resendable"
    missing = await service.client.post("/v1/notifications/nope/resend", headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "notification-not-found"


async def test_each_traveller_gets_a_reminder_at_its_time_where_they_live_never_in_their_night(service, smtp):
    profile = {"name": "Lotus & Maple Travel", "support_phone": "+86 21 5555 0100", "quiet_hours_start": "22:00",
               "quiet_hours_end": "07:30"}
    assert (await service.client.put("/v1/agency", json=profile, headers=auth())).status_code == 200
    await booked_trip(service)
    await service.publish(person("c1", "Mei", "mei@example.com", "zh-Hans", version=2, home="Asia/Shanghai"))
    handlers = service.app.state.handlers

    async def remind(at: datetime) -> int:
        return await service.runtime.transaction(lambda uow: handlers.remind(uow, "tenant-a", "it-1", at))

    departure = datetime.fromisoformat(ITEMS[0].start).replace(tzinfo=ZoneInfo("Europe/London"))
    week_before = departure - timedelta(days=7)  # 19:50 in London: 02:50 the next morning in Shanghai
    assert await remind(week_before + timedelta(minutes=1)) == 1
    assert [n["customer_id"] for n in await records(service) if n["kind"] == "reminder_7d"] == ["c2"]
    assert await remind(week_before + timedelta(hours=2)) == 0, "Mei is asleep in Shanghai; Bo has his already"
    morning = datetime.combine(week_before.astimezone(ZoneInfo("Asia/Shanghai")).date(), time(7, 31),
                               ZoneInfo("Asia/Shanghai"))
    assert await remind(morning) == 1 and await remind(morning + timedelta(minutes=5)) == 0
    sent = sorted(n["customer_id"] for n in await records(service) if n["kind"] == "reminder_7d")
    assert sent == ["c1", "c2"]
    preview_for_mei = (await preview(service, kind="reminder_7d", customer_id="c1")).json()
    assert datetime.fromisoformat(preview_for_mei["due_at"]) == datetime.combine(
        morning.date(), time(7, 30), ZoneInfo("Asia/Shanghai"))
