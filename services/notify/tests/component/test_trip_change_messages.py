"""What clients hear of an approved trip: its changes and its confirmations as a digest once the trip is quiet, at
once what cannot wait."""
import asyncio
from datetime import UTC, datetime, timedelta

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
from trip_shared.testing.maildir import text_of
from trip_shared.testing.service import auth, component_settings, running_service

QUIET_S = 1.5
ACK_S = 2.0


@pytest.fixture
async def service(mongodb_url, mongo_database_name, smtp_port):
    settings = component_settings("notify", mongodb_url, mongo_database_name, smtp_port=smtp_port,
                                  change_digest_quiet_s=QUIET_S, change_digest_max_wait_s=30,
                                  urgent_ack_timeout_s=ACK_S)
    async with running_service(create_app(settings, tracer_provider=TracerProvider(), sweep_interval_s=0.1)) as s:
        yield s


def local(days: float, hour: int, minute: int = 0) -> str:
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def flight(start: str) -> ItemSnapshot:
    return ItemSnapshot(item_id="i1", kind="flight", title="BA5", timezone="Europe/London", start=start,
                        end_timezone="Asia/Tokyo")


def dinner(start: str, end: str, place: str = "Gion, Kyoto") -> ItemSnapshot:
    return ItemSnapshot(item_id="i2", kind="dining", title="Kaiseki dinner", timezone="Asia/Tokyo", start=start,
                        end=end, place={"address": place})


TRAVELLERS = [TravellerSnapshot(customer_id="c1", is_poc=True), TravellerSnapshot(customer_id="c2", is_poc=True),
              TravellerSnapshot(customer_id="c3")]


def summary(items, stage="booked") -> ItinerarySummary:
    return ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn", stage=stage, items=items,
                            travellers=TRAVELLERS)


def changed(version, items, changes, stage="booked", action="item_changed") -> ItineraryChanged:
    return ItineraryChanged(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=version, trip_id="it-1",
                            producer="itinerary", data=summary(items, stage), action=action,
                            changes=[FieldChange(**change) for change in changes])


async def trip_with_two_pocs(service):
    for customer_id, name, email, language in (("c1", "Mei", "mei@example.com", "zh-Hans"),
                                               ("c2", "Bo", "bo@example.com", "en"),
                                               ("c3", "Cy", "cy@example.com", "en")):
        await service.publish(CustomerCreated(
            tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=1, producer="customers",
            data=CustomerSnapshot(customer_id=customer_id, first_name=name, emails=[email],
                                  preferred_language=language)))
    await service.publish(CustomerLinked(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=2, trip_id="it-1", producer="itinerary",
        data=MembershipChange(itinerary=summary([]), customer_id="c2", is_poc=True,
                              customers=[ItineraryMember(customer_id=c, is_poc=c != "c3")
                                         for c in ("c1", "c2", "c3")])))


def trip_mails(smtp):
    """What the trip's clients got about it (not their POC notices, nor the planner's escalations)."""
    return [m for m in smtp.messages if "Kyoto in autumn" in smtp.subject(m) and "POC" not in smtp.subject(m)
            and m["To"] != "care@lotusmaple.example"
            and "point of contact" not in smtp.subject(m) and "联系人" not in smtp.subject(m)]


async def test_three_changes_in_a_minute_make_one_digest_per_poc_in_their_language(service, smtp):
    await trip_with_two_pocs(service)
    far = 20  # days away: nothing here is urgent
    await service.publish(changed(3, [flight(local(far, 19, 50)), dinner(local(far + 2, 19), local(far + 2, 21))],
                                  [{"field": "items.i1.start", "before": local(far, 20, 20) + ":00",
                                    "after": local(far, 19, 50) + ":00", "description": "internal: BA moved us"}]))
    await service.publish(changed(4, [flight(local(far, 19, 50)), dinner(local(far + 2, 20), local(far + 2, 22))],
                                  [{"field": "items.i2.start", "before": local(far + 2, 19) + ":00", "after": "x"},
                                   {"field": "items.i2.end", "before": local(far + 2, 21) + ":00", "after": "x"},
                                   {"field": "items.i2.notes", "before": None, "after": "chef owes us one"}]))
    await service.publish(changed(5, [flight(local(far, 19, 50)), dinner(local(far + 2, 20), local(far + 2, 22),
                                                                         "Pontocho")],
                                  [{"field": "items.i2.location", "before": {"address": "Gion, Kyoto"},
                                    "after": {"address": "Pontocho"}}]))
    await asyncio.sleep(QUIET_S * 0.5)
    assert trip_mails(smtp) == []  # still inside the quiet period
    async with asyncio.timeout(10):
        while len(trip_mails(smtp)) < 2:
            await asyncio.sleep(0.05)
    await asyncio.sleep(QUIET_S + 0.5)  # and nothing more follows
    mails = trip_mails(smtp)
    assert sorted(m["To"] for m in mails) == ["bo@example.com", "mei@example.com"]  # the POCs, not c3
    english = text_of(next(m for m in mails if m["To"] == "bo@example.com"))
    assert "Your flight BA5 now leaves at 19:50 London time instead of 20:20." in english
    assert "Kaiseki dinner now starts at 20:00 Tokyo time instead of 19:00." in english
    assert "Kaiseki dinner is now at Pontocho (was Gion, Kyoto)." in english
    assert "chef" not in english and "internal" not in english
    chinese = text_of(next(m for m in mails if m["To"] == "mei@example.com"))
    assert smtp.subject(next(m for m in mails if m["To"] == "mei@example.com")) == "您的行程「Kyoto in autumn」有变动"
    assert "改为当地时间（Europe/London） 19:50出发，原为20:20" in chinese and "地点改为 Pontocho" in chinese
    records = [r for r in (await service.client.get("/v1/notifications", params={"itinerary_id": "it-1"},
                                                    headers=auth())).json()["items"]
               if r["kind"] == "trip_changes"]
    assert len(records) == 2 and {r["status"] for r in records} == {"sent"}


async def test_a_change_within_48_hours_goes_at_once_to_every_traveller_with_what_the_digest_held(service, smtp):
    await trip_with_two_pocs(service)
    await service.publish(changed(3, [flight(local(1, 19, 50)), dinner(local(20, 19), local(20, 21), "Pontocho")],
                                  [{"field": "items.i2.location", "before": {"address": "Gion, Kyoto"},
                                    "after": {"address": "Pontocho"}}], stage="in_progress"))
    event = changed(4, [flight(local(1, 19, 50)), dinner(local(20, 19), local(20, 21), "Pontocho")],
                    [{"field": "items.i1.start", "before": local(1, 20, 20) + ":00", "after": "x"}],
                    stage="in_progress")
    await service.publish(event)
    await service.publish(event)  # redelivered: one effect
    async with asyncio.timeout(QUIET_S * 0.8):  # well before the quiet period ends
        while len(trip_mails(smtp)) < 3:
            await asyncio.sleep(0.02)
    await asyncio.sleep(QUIET_S + 0.5)
    mails = trip_mails(smtp)
    assert sorted(m["To"] for m in mails) == ["bo@example.com", "cy@example.com", "mei@example.com"]
    english = text_of(next(m for m in mails if m["To"] == "cy@example.com"))
    assert smtp.subject(next(m for m in mails if m["To"] == "cy@example.com")).startswith("Important: ")
    assert "BA5 now leaves at 19:50 London time instead of 20:20" in english and "Pontocho" in english


async def test_changes_while_planning_tell_nobody(service, smtp):
    await trip_with_two_pocs(service)
    await service.publish(changed(3, [flight(local(1, 19, 50))],
                                  [{"field": "items.i1.start", "before": local(1, 20, 20) + ":00", "after": "x"}],
                                  stage="planning"))
    await asyncio.sleep(QUIET_S + 1)
    assert trip_mails(smtp) == []
    assert await service.runtime.store.db["change_digests"].count_documents({}) == 0


def booking(event_type, booking_id, item_id, version, status, **fields):
    from trip_shared.contracts import booking as contracts

    data_class = contracts.BookingDetails if event_type is contracts.BookingConfirmed else contracts.BookingState
    return event_type(tenant_id="tenant-a", aggregate_id=booking_id, aggregate_version=version, trip_id="it-1",
                      producer="booking", data=data_class(
                          booking_id=booking_id, itinerary_id="it-1", item_id=item_id, vendor_name=f"Vendor {item_id}",
                          status=status, service={"kind": "activity", "title": f"Service {item_id}",
                                                  "timezone": "Asia/Tokyo", "start": "2027-10-02T10:00"}, **fields))


REQUIRED = [ItemSnapshot(item_id=f"i{n}", kind="activity", title=f"Service i{n}", timezone="Asia/Tokyo",
                         start="2027-10-02T10:00", requires_booking=True) for n in (1, 2, 3)]


async def test_confirmations_arrive_as_one_digest_with_the_trips_progress(service, smtp):
    from trip_shared.contracts.booking import BookingConfirmed

    await trip_with_two_pocs(service)
    await service.publish(changed(3, REQUIRED, [], stage="approved", action="details_changed"))
    for n in (1, 2):
        confirmed = booking(BookingConfirmed, f"b{n}", f"i{n}", 2, "confirmed", confirmation_code=f"C-{n}")
        await service.publish(confirmed)
        await service.publish(confirmed)  # redelivered: one effect
    async with asyncio.timeout(10):
        while len(trip_mails(smtp)) < 2:
            await asyncio.sleep(0.05)
    await asyncio.sleep(QUIET_S + 0.5)
    mails = trip_mails(smtp)
    assert sorted(m["To"] for m in mails) == ["bo@example.com", "mei@example.com"]
    english = next(m for m in mails if m["To"] == "bo@example.com")
    assert smtp.subject(english) == "Kyoto in autumn: 2 of 3 services are confirmed."
    text = text_of(english)
    assert "Service i1 (Vendor i1), Sat 02 Oct 2027, 10:00 (Asia/Tokyo), confirmation C-1" in text
    assert "confirmation C-2" in text
    assert smtp.subject(next(m for m in mails if m["To"] == "mei@example.com")).endswith("已确认 2/3 项服务。")


async def test_a_confirmation_before_notify_knows_the_pocs_waits_for_them(service, smtp):
    from trip_shared.contracts.booking import BookingConfirmed

    await service.publish(booking(BookingConfirmed, "b1", "i1", 2, "confirmed", confirmation_code="C-1"))
    await asyncio.sleep(QUIET_S + 0.5)
    assert trip_mails(smtp) == []
    await trip_with_two_pocs(service)
    await service.publish(changed(3, REQUIRED, [], stage="approved", action="details_changed"))
    async with asyncio.timeout(QUIET_S * 2 + 5):
        while len(trip_mails(smtp)) < 2:
            await asyncio.sleep(0.05)
    assert "1 of 3 services are confirmed." in text_of(next(m for m in trip_mails(smtp) if m["To"] == "bo@example.com"))


async def test_a_confirmed_service_that_falls_through_is_told_at_once_to_everyone_on_the_trip(service, smtp):
    from trip_shared.contracts.booking import BookingAmendmentRequested, BookingConfirmed, BookingDeclined

    await trip_with_two_pocs(service)
    await service.publish(changed(3, REQUIRED, [], stage="booked", action="details_changed"))
    await service.publish(booking(BookingConfirmed, "b1", "i1", 2, "confirmed", confirmation_code="C-1"))
    await service.publish(booking(BookingAmendmentRequested, "b1", "i1", 3, "amendment_requested"))
    await service.publish(booking(BookingDeclined, "b1", "i1", 4, "declined", decline_reason="closed that day"))
    async with asyncio.timeout(QUIET_S * 0.9):  # before the confirmations' digest is due
        while len([m for m in trip_mails(smtp) if "Important" in smtp.subject(m) or "重要" in smtp.subject(m)]) < 3:
            await asyncio.sleep(0.02)
    lost = next(m for m in trip_mails(smtp) if m["To"] == "cy@example.com")
    assert smtp.subject(lost) == "Important: a booking for Kyoto in autumn has changed"
    assert "Service i1 (Vendor i1)" in text_of(lost) and "closed that day" not in text_of(lost)
    await asyncio.sleep(QUIET_S + 0.5)
    digests = [m for m in trip_mails(smtp) if "services are confirmed" in smtp.subject(m)]
    assert digests == [], "a confirmation that fell through before its digest went is not announced"


async def test_urgent_news_not_confirmed_as_read_in_time_goes_to_the_planner(service, smtp):
    import re

    await trip_with_two_pocs(service)
    await service.publish(changed(3, [flight(local(1, 19, 50))],
                                  [{"field": "items.i1.start", "before": local(1, 20, 20) + ":00", "after": "x"}],
                                  stage="in_progress"))
    async with asyncio.timeout(5):
        while len(trip_mails(smtp)) < 3:
            await asyncio.sleep(0.02)
    links = {m["To"]: re.search(r"Please confirm you have read this: (\S+)|请点击确认您已阅读：(\S+)", text_of(m))
             for m in trip_mails(smtp)}
    mei = next(g for g in links["mei@example.com"].groups() if g)
    path = "/" + mei.split("://", 1)[1].split("/", 1)[1]
    page = await service.client.get(path)
    assert page.status_code == 200 and "我已阅读" in page.text  # opening it confirms nothing yet
    assert (await service.client.post(path)).status_code == 200
    assert (await service.client.post(path)).status_code == 200  # again: harmless
    async with asyncio.timeout(ACK_S + 5):
        while len(smtp.to("care@lotusmaple.example")) < 2:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    told = smtp.to("care@lotusmaple.example")
    assert sorted(smtp.subject(m).rsplit(" to ", 1)[1] for m in told) == ["Bo", "Cy"], "Mei read hers"
    assert "was sent but not confirmed as read" in text_of(told[0]) and "BA5 now leaves" in text_of(told[0])
    records = (await service.client.get("/v1/notifications", params={"itinerary_id": "it-1"},
                                        headers=auth())).json()["items"]
    urgent = {r["recipient"]: r for r in records if r["kind"] == "trip_changes"}
    assert urgent["mei@example.com"]["acknowledged_at"] and not urgent["mei@example.com"]["escalated_at"]
    assert urgent["bo@example.com"]["escalated_at"] and not urgent["bo@example.com"]["acknowledged_at"]
    assert (await service.client.get(path[:-4] + "abcd")).status_code == 403
    from trip_shared.contracts.notify import UrgentMessageAcknowledged, UrgentMessageSent

    sent = {event.data.notification_id: event for event in await service.emitted(UrgentMessageSent)}
    assert {sent[r["id"]].data.customer_id for r in urgent.values()} == {r["customer_id"] for r in urgent.values()}
    assert all(event.trip_id == "it-1" and event.data.escalate_at for event in sent.values())
    [read] = await service.emitted(UrgentMessageAcknowledged)  # Mei, once for her two clicks
    assert read.data.notification_id == urgent["mei@example.com"]["id"] and read.data.acknowledged_at


async def test_a_change_needing_agreement_asks_each_poc_with_their_own_link_and_records_the_answer(service, smtp):
    import re

    from trip_shared.contracts.itinerary import AgreementAsked
    from trip_shared.contracts.notify import ChangeAgreementAnswered

    await trip_with_two_pocs(service)
    event = changed(3, [flight(local(20, 19, 50))],
                    [{"field": "items.i1.start", "before": local(20, 20, 20) + ":00", "after": "x",
                      "description": "internal: BA moved us"}])
    event = event.model_copy(update={"agreement": AgreementAsked(agreement_id="ag-1",
                                                                 reason="The 20:20 flight was withdrawn.")})
    await service.publish(event)
    async with asyncio.timeout(5):
        while len(trip_mails(smtp)) < 2:
            await asyncio.sleep(0.05)
    asks = {m["To"]: m for m in trip_mails(smtp)}
    assert sorted(asks) == ["bo@example.com", "mei@example.com"], "the POCs, at once, not the other traveller"
    english = text_of(asks["bo@example.com"])
    assert smtp.subject(asks["bo@example.com"]) == "Please confirm a change to your trip Kyoto in autumn"
    assert "Your flight BA5 now leaves at 19:50 London time instead of 20:20." in english
    assert "Why: The 20:20 flight was withdrawn." in english and "internal" not in english
    links = {to: re.search(r"(http://\S+/agreements/\S+)", text_of(m))[1] for to, m in asks.items()}
    assert links["bo@example.com"] != links["mei@example.com"], "each answers as themselves"
    bo = "/agreements/" + links["bo@example.com"].rsplit("/agreements/", 1)[1]
    page = await service.client.get(bo)
    assert page.status_code == 200 and "I agree" in page.text and "BA5 now leaves at 19:50" in page.text
    mei_page = await service.client.get("/agreements/" + links["mei@example.com"].rsplit("/agreements/", 1)[1])
    assert "我同意" in mei_page.text and "请先致电我" in mei_page.text
    assert (await service.client.post(bo, data={"answer": "maybe"})).status_code == 422
    assert (await service.client.post(bo, data={"answer": "agreed"})).status_code == 200
    assert (await service.client.post(bo, data={"answer": "call_me"})).status_code == 200  # changed their mind
    answers = [ChangeAgreementAnswered.model_validate_json(row["payload"]) async for row in
               service.runtime.outbox.rows.find({"event_type": ChangeAgreementAnswered.TOPIC}).sort("_id", 1)]
    assert [(a.data.customer_id, a.data.answer, a.aggregate_version) for a in answers] == [
        ("c2", "agreed", 1), ("c2", "call_me", 2)]
    assert answers[0].trip_id == "it-1" and answers[0].data.agreement_id == "ag-1"
    async with asyncio.timeout(5):
        while not smtp.to("care@lotusmaple.example"):
            await asyncio.sleep(0.05)
    [call] = smtp.to("care@lotusmaple.example")
    assert smtp.subject(call) == "Please call Bo" and "BA5 now leaves at 19:50" in text_of(call)
    await asyncio.sleep(QUIET_S + 0.5)
    assert len(trip_mails(smtp)) == 2, "the change is not told again in a digest"
    forged = await service.client.get(bo[:-4] + "abcd")
    assert forged.status_code == 403 and "此链接无法使用" in forged.text
    forged_answer = await service.client.post(bo[:-4] + "abcd", data={"answer": "agreed"})
    assert forged_answer.status_code == 403 and "text/html" in forged_answer.headers["content-type"]
