"""The operations view: the agency's trips under way or leaving soon, each where it is now, what needs a person
first, from the trips, incidents and bookings the service learnt from their events."""
import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from trip_shared.contracts.booking import BookingDetails, BookingRequested, RequestedService
from trip_shared.contracts.itinerary import ItemSnapshot, ItineraryCreated, ItinerarySummary
from trip_shared.testing.service import auth

ROME = ZoneInfo("Europe/Rome")


def item(item_id, kind, title, starts: datetime, hours: float) -> ItemSnapshot:
    ends = starts + timedelta(hours=hours)
    return ItemSnapshot(item_id=item_id, kind=kind, title=title, timezone="Europe/Rome",
                        start=starts.astimezone(ROME).strftime("%Y-%m-%dT%H:%M"),
                        end=ends.astimezone(ROME).strftime("%Y-%m-%dT%H:%M"), starts_at=starts, ends_at=ends)


def trip(itinerary_id, stage, starts_in_days, items=(), tenant="tenant-a") -> ItineraryCreated:
    first = datetime.now(UTC).date() + timedelta(days=starts_in_days)
    return ItineraryCreated(tenant_id=tenant, aggregate_id=itinerary_id, aggregate_version=1,
                            trip_id=itinerary_id, producer="itinerary", data=ItinerarySummary(
                                itinerary_id=itinerary_id, title=f"Trip {itinerary_id}", stage=stage,
                                start_date=first, end_date=first + timedelta(days=4), items=list(items)))


async def watched(service, tenant="tenant-a", **params):
    answer = await service.client.get("/v1/operations/trips", params=params, headers=auth(tenant))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_trips_under_way_and_leaving_soon_with_what_needs_a_person_first(service):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    walk = item("walk", "activity", "Trastevere walk", now - timedelta(hours=1), 2)
    dinner = item("dinner", "dining", "Dinner at Roscioli", now + timedelta(hours=3), 2)
    for event in (trip("rome", "in_progress", -1, [walk, dinner]), trip("quiet", "in_progress", -2),
                  trip("soon", "booked", 2), trip("later", "booked", 10), trip("draft", "draft", 1),
                  trip("other-agency", "in_progress", -1, tenant="tenant-b")):
        await service.publish(event)
    await service.publish(BookingRequested(
        tenant_id="tenant-a", aggregate_id="b-1", aggregate_version=1, trip_id="soon", producer="booking",
        data=BookingDetails(booking_id="b-1", itinerary_id="soon", vendor_name="Roma Cars", status="requested",
                            item_id="car", respond_by=now - timedelta(hours=2),
                            service=RequestedService(kind="transfer", title="Car", timezone="Europe/Rome",
                                                     start="2027-01-01T10:00"))))
    reported = await service.client.post("/v1/incidents", headers=auth(), json={
        "itinerary_id": "rome", "item_id": "walk", "kind": "illness_or_injury", "severity": "critical",
        "summary": "Twisted ankle", "occurred_at": (now - timedelta(minutes=20)).astimezone(ROME)
        .strftime("%Y-%m-%dT%H:%M")})
    assert reported.status_code == 201, reported.text

    async with asyncio.timeout(10):
        while len(shown := await watched(service)) < 3 or not shown[1]["late_bookings"]:
            await asyncio.sleep(0.05)
    assert [trip["itinerary_id"] for trip in shown] == ["rome", "soon", "quiet"], \
        "the critical incident first, then the late supplier, then the trip with nothing to do"
    rome, soon, quiet = shown
    assert rome["current"]["title"] == "Trastevere walk" and rome["current"]["starts"].endswith("(Europe/Rome)")
    assert rome["next"]["title"] == "Dinner at Roscioli"
    assert rome["next"]["starts"] == dinner.start.replace("T", " ") + " (Europe/Rome)"
    assert rome["open_incidents"] == {"critical": 1} and rome["overdue_incidents"] == [], "not yet 15 min late"
    assert soon["late_bookings"][0]["vendor_name"] == "Roma Cars" and soon["needs_a_person"]
    assert quiet["needs_a_person"] is False and quiet["current"] is None
    assert [trip["itinerary_id"] for trip in await watched(service, days_ahead=10)][-1] == "later"
    assert [trip["itinerary_id"] for trip in await watched(service, "tenant-b")] == ["other-agency"]
    refused = await service.client.get("/v1/operations/trips", params={"days_ahead": 99}, headers=auth())
    assert refused.status_code == 422


async def test_urgent_news_a_client_has_not_read_and_complaints_owed_an_answer_need_a_person(service):
    from trip_shared.contracts.itinerary import CustomerLinked, ItineraryMember, MembershipChange
    from trip_shared.contracts.notify import UrgentMessage, UrgentMessageAcknowledged, UrgentMessageSent

    now = datetime.now(UTC)
    for event in (trip("unread", "in_progress", -1), trip("late-read", "in_progress", -1),
                  trip("complained", "in_progress", -1), trip("calm", "in_progress", -3)):
        await service.publish(event)

    def urgent(contract, itinerary_id, version, escalate_at, acknowledged_at=None):
        return contract(tenant_id="tenant-a", aggregate_id=f"n-{itinerary_id}", aggregate_version=version,
                        trip_id=itinerary_id, producer="notify", data=UrgentMessage(
                            notification_id=f"n-{itinerary_id}", itinerary_id=itinerary_id, customer_id="c1",
                            kind="trip_changes", subject="Important: Changes to your trip", status="sent",
                            escalate_at=escalate_at, acknowledged_at=acknowledged_at))

    await service.publish(urgent(UrgentMessageSent, "unread", 1, now + timedelta(hours=2)))
    await service.publish(urgent(UrgentMessageSent, "late-read", 1, now - timedelta(minutes=5)))
    await service.publish(urgent(UrgentMessageSent, "calm", 1, now + timedelta(hours=2)))
    await service.publish(urgent(UrgentMessageAcknowledged, "calm", 2, None, now))
    summary = ItinerarySummary(itinerary_id="complained", title="Trip complained", stage="in_progress")
    await service.publish(CustomerLinked(
        tenant_id="tenant-a", aggregate_id="complained", aggregate_version=2, trip_id="complained",
        producer="itinerary", data=MembershipChange(itinerary=summary, customer_id="c1", is_poc=True,
                                                    customers=[ItineraryMember(customer_id="c1", is_poc=True)])))
    made = await service.client.post("/v1/complaints", headers=auth(), json={
        "itinerary_id": "complained", "complainant": "c1", "account": "The room was cold."})
    assert made.status_code == 201, made.text
    shown = await watched(service)
    assert [t["itinerary_id"] for t in shown] == ["late-read", "unread", "complained", "calm"], \
        "news unread past its time first, then unread news, then a complaint to answer, then the trip that is fine"
    late, unread, complained, calm = shown
    assert late["unread_urgent_messages"][0]["overdue"] and not unread["unread_urgent_messages"][0]["overdue"]
    assert unread["needs_a_person"] and unread["unread_urgent_messages"][0]["subject"].startswith("Important")
    assert complained["complaints_to_answer"][0]["complaint_id"] == made.json()["id"]
    assert calm["unread_urgent_messages"] == [] and calm["needs_a_person"] is False, "read: nothing to do"
