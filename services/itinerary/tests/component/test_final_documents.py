"""The final itinerary: once every booking is confirmed the trip's PDF and calendar are rendered and announced for
the clients, once; the planner can send them again, as the trip is then."""
import asyncio

import icalendar

from itinerary.entrypoints.deliverables import final_documents
from itinerary.service_layer.services import issue_due_documents
from trip_shared.contracts.booking import BookingConfirmed, BookingDetails
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.contracts.itinerary import FinalDocumentsIssued
from trip_shared.testing.documents import pdf_fonts, pdf_text
from trip_shared.testing.service import auth

FLIGHT = {"kind": "flight", "title": "BA7 London to Tokyo", "start": "2027-05-01T19:00", "end": "2027-05-02T15:30",
          "timezone": "Europe/London", "end_timezone": "Asia/Tokyo", "location": {"address": "Heathrow"},
          "end_location": {"address": "Haneda"}, "requires_booking": True, "notes": "INTERNAL: net rate 870",
          "client_note": "Check in online 24 hours before."}


async def issued_events(service) -> list[FinalDocumentsIssued]:
    rows = service.runtime.outbox.rows.find({"event_type": FinalDocumentsIssued.TOPIC}).sort("_id", 1)
    return [FinalDocumentsIssued.model_validate_json(row["payload"]) async for row in rows]


async def until_issued(service, count: int) -> list[FinalDocumentsIssued]:
    """The issuer runs in the background every two seconds; a round run here as well must not issue twice."""
    render = final_documents(service.runtime.agencies)
    for _ in range(50):
        await issue_due_documents(service.runtime.transaction, render)
        if len(events := await issued_events(service)) >= count:
            return events
        await asyncio.sleep(0.2)
    raise AssertionError(f"{count} final-documents events expected, {len(await issued_events(service))} found")


async def booked_trip(service) -> tuple[str, str]:
    await service.publish(CustomerCreated(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=1,
                                          producer="customers",
                                          data=CustomerSnapshot(customer_id="c1", first_name="Wei", last_name="Chen")))
    created = await service.client.post("/v1/itineraries", json={"title": "Japan / spring", "start_date": "2027-05-01",
                                                                 "end_date": "2027-05-10"}, headers=auth())
    itinerary_id = created.json()["id"]
    base = f"/v1/itineraries/{itinerary_id}"
    await service.client.post(f"{base}/customers", json={"customer_id": "c1"}, headers=auth())
    flight = (await service.client.post(f"{base}/items", json=FLIGHT, headers=auth())).json()
    for stage in ("planning", "proposed", "approved"):
        assert (await service.client.post(f"{base}/stage", json={"stage": stage}, headers=auth())).status_code == 200
    early = await service.client.post(f"{base}/final-documents", json={}, headers=auth())
    assert early.status_code == 409 and early.json()["code"] == "not-booked-yet"
    assert (await service.client.get(f"{base}/final-documents", headers=auth())).json()["issued"] == []
    await service.publish(BookingConfirmed(
        tenant_id="tenant-a", aggregate_id="b1", aggregate_version=2, producer="booking", trip_id=itinerary_id,
        data=BookingDetails(booking_id="b1", itinerary_id=itinerary_id, item_id=flight["id"], vendor_name="BA",
                            status="confirmed", confirmation_code="XY12")))
    return itinerary_id, base


async def test_a_trip_whose_bookings_are_all_confirmed_issues_its_pdf_and_calendar_once_in_both_languages(service):
    itinerary_id, base = await booked_trip(service)
    [event] = await until_issued(service, 1)
    await issue_due_documents(service.runtime.transaction, final_documents(service.runtime.agencies))
    assert len(await issued_events(service)) == 1  # issued once, however many rounds run

    data = event.data
    assert event.trip_id == itinerary_id and data.reason == "booked" and data.issued_by == "system"
    assert data.itinerary.stage == "booked" and data.left_out == []
    documents = {(d.language, d.kind): d for d in data.documents}
    assert set(documents) == {("en", "pdf"), ("en", "calendar"), ("zh-Hans", "pdf"), ("zh-Hans", "calendar")}
    assert documents["en", "pdf"].filename == "Japan spring.pdf"  # no path separator in a file name
    assert documents["zh-Hans", "pdf"].filename == "Japan spring (中文).pdf"
    english = pdf_text(documents["en", "pdf"].content)
    assert "departs 19:00 (Europe/London)" in english and "Check in online" in english
    assert "Travellers: Wei Chen" in english and "net rate" not in english
    chinese = documents["zh-Hans", "pdf"].content
    assert "抵达 15:30 (Asia/Tokyo)" in pdf_text(chinese) and all(font.embedded for font in pdf_fonts(chinese))
    calendar = icalendar.Calendar.from_ical(documents["en", "calendar"].content)
    [flight] = calendar.walk("VEVENT")
    assert str(flight["SUMMARY"]) == "BA7 London to Tokyo" and str(flight["STATUS"]) == "CONFIRMED"
    assert str(flight["DTSTART"].dt.tzinfo) == "Europe/London" and flight["DTSTART"].dt.hour == 19

    state = (await service.client.get(f"{base}/final-documents", headers=auth())).json()
    assert state["due"] is False and len(state["issued"]) == 1
    assert state["issued"][0]["event_id"] == str(event.event_id) and state["issued"][0]["reason"] == "booked"
    assert state["issued"][0]["version"] == event.aggregate_version


async def test_the_planner_sends_them_again_with_a_note_as_the_trip_is_now(service):
    itinerary_id, base = await booked_trip(service)
    await until_issued(service, 1)
    renamed = await service.client.patch(base, json={"title": "Japan in spring"}, headers=auth())
    assert renamed.status_code == 200, renamed.text
    sent = await service.client.post(f"{base}/final-documents", json={"note": "Your updated itinerary."},
                                     headers=auth())
    assert sent.status_code == 202, sent.text
    assert [record["reason"] for record in sent.json()["issued"]] == ["booked", "reissued"]
    assert sent.json()["due"] is False
    first, again = await issued_events(service)
    assert again.data.reason == "reissued" and again.data.note == "Your updated itinerary."
    assert again.data.issued_by == "a" and again.aggregate_version > first.aggregate_version
    assert {d.filename for d in again.data.documents} >= {"Japan in spring.pdf", "Japan in spring.ics"}

    bad = await service.client.post(f"{base}/final-documents", json={"note": "x", "urgent": True}, headers=auth())
    assert bad.status_code == 422
    missing = await service.client.post("/v1/itineraries/nope/final-documents", json={}, headers=auth())
    assert missing.status_code == 404
    other_agency = await service.client.get(f"{base}/final-documents", headers=auth("tenant-b"))
    assert other_agency.status_code == 404
    assert len(await issued_events(service)) == 2
