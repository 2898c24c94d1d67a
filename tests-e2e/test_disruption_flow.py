"""A disruption through the whole platform: a flight delayed 3 hours on a trip in progress is reported as an
incident; the itinerary flags the transfer and the check-in that no longer work; the planner shifts them in one
call; booking sends the transfer's amendment, which the vendor confirms on its page; the POC is told at once."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from trip_shared.testing.maildir import mails_to, subject, text_of, unique
from trip_shared.testing.polling import eventually
from trip_shared.testing.proposals import approve_from_the_email

pytestmark = pytest.mark.e2e
ROME, LONDON = ZoneInfo("Europe/Rome"), ZoneInfo("Europe/London")
AIRPORT = {"address": "Fiumicino", "lat": 41.8003, "lon": 12.2389}
HOTEL = {"address": "Hotel Artemide, Via Nazionale", "lat": 41.9009, "lon": 12.4946}


def local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat(timespec="minutes")[:16]


def supplier_link(stack, address: str, marker: str) -> str:
    mail = eventually(lambda: [m for m in mails_to(stack.maildir, address) if marker in subject(m)],
                      message=f"{address} never got a {marker!r} message")[-1]
    return re.search(r"(http://\S+/supplier/bookings/\S+)", text_of(mail)).group(1)


def trip_in_progress(api, stack):
    """Ana's trip, under way: after a morning in London she flies to Rome, where a car takes her to the hotel."""
    email = f"{unique('ana')}@example.com"
    ana = api.ok("POST", "customers", "/v1/customers", 201, json={"first_name": "Ana", "email": email})
    today = datetime.now(ROME).date()
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Rome in autumn "), "start_date": (today - timedelta(days=1)).isoformat(),
        "end_date": (today + timedelta(days=5)).isoformat()})
    base = f"/v1/itineraries/{trip['id']}"
    api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": ana["id"]})
    started = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "activity", "title": "Borough Market food walk", "timezone": "Europe/London",
        "start": local(started, LONDON), "end": local(started + timedelta(hours=1), LONDON)})
    departs = (datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0)
    lands = departs + timedelta(hours=2, minutes=30)
    flight = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "flight", "title": "BA548", "timezone": "Europe/London", "end_timezone": "Europe/Rome",
        "start": local(departs, LONDON), "end": local(lands, ROME), "location": {"address": "Heathrow"},
        "end_location": AIRPORT})
    car_vendor = unique("Roma Cars ")
    transfer = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "transfer", "title": "Private car to the hotel", "timezone": "Europe/Rome", "mode": "car",
        "start": local(lands + timedelta(minutes=30), ROME), "end": local(lands + timedelta(hours=2), ROME),
        "location": AIRPORT, "end_location": HOTEL, "vendor": car_vendor, "requires_booking": True,
        "notes": "INTERNAL: net rate 60"})
    hotel = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "accommodation", "title": "Hotel Artemide", "timezone": "Europe/Rome", "location": HOTEL,
        "start": local(lands + timedelta(hours=2, minutes=30), ROME),
        "end": f"{today + timedelta(days=4)}T11:00"})
    return trip, {"flight": flight, "transfer": transfer, "hotel": hotel}, car_vendor, email


def test_a_three_hour_delay_is_flagged_shifted_amended_with_the_vendor_and_told_to_the_poc(api, stack, traces):
    trip, items, car_vendor, poc_email = trip_in_progress(api, stack)
    base = f"/v1/itineraries/{trip['id']}"
    car_email = f"{unique('cars')}@example.com"
    api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": car_vendor, "kind": "transfer", "contacts": [{"name": "Dispatch", "email": car_email}]})
    eventually(lambda: api.request("POST", "booking", f"{base}/booking-requests", json={}).status_code == 201
               and api.ok("GET", "booking", f"/v1/bookings?itinerary_id={trip['id']}")["items"],
               message="booking never learnt of the transfer")
    assert httpx.post(supplier_link(stack, car_email, "Booking request"),
                      data={"action": "confirm", "confirmation_code": "RC-1"}).status_code == 200
    approve_from_the_email(api, stack.maildir, base, poc_email)
    # Confirmed before the approval: the planner moves the trip to booked, then it starts.
    api.ok("POST", "itinerary", f"{base}/stage", json={"stage": "booked"})
    api.ok("POST", "itinerary", f"{base}/stage", json={"stage": "in_progress"})

    # The agency hears BA548 is 3 hours late and records it.
    lands = datetime.fromisoformat(items["flight"]["end"]).replace(tzinfo=ROME)
    incident = eventually(lambda: (r := api.request("POST", "feedback", "/v1/incidents", json={
        "itinerary_id": trip["id"], "item_id": items["flight"]["id"], "kind": "delay", "severity": "high",
        "summary": "BA548 delayed 3 hours", "description": "INTERNAL: the airline blames crew rostering",
        "occurred_at": local(datetime.now(UTC), LONDON), "delay_minutes": 180, "supplier": "British Airways"}))
        .status_code == 201 and r.json(), message="feedback never learnt of the trip")

    # The itinerary re-checks the trip: the car and the check-in no longer work; the museum tomorrow is fine.
    [disruption] = eventually(lambda: api.ok("GET", "itinerary", f"{base}/disruptions")["items"],
                              message="the itinerary never heard of the delay")
    assert disruption["incident_id"] == incident["id"]
    flagged = {entry["item_id"]: entry for entry in disruption["affected"]}
    assert set(flagged) == {items["transfer"]["id"], items["hotel"]["id"]}
    assert all(entry["action"] == "shift" and entry["minutes"] == 180 for entry in flagged.values())
    new_landing = (lands + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    assert disruption["disrupted_item_when"].endswith(f"{new_landing} Europe/Rome")

    shifted = api.ok("POST", "itinerary", f"{base}/disruptions/{incident['id']}/shift", json={})
    assert shifted["status"] == "shifted" and len(shifted["moves"]) == 3

    # Booking sends the car's amendment at once; the vendor confirms it on its page.
    amendment_link = supplier_link(stack, car_email, "Amendment request")
    amendment = [m for m in mails_to(stack.maildir, car_email) if "Amendment request" in subject(m)][-1]
    text = text_of(amendment)
    car_start = (lands + timedelta(hours=3, minutes=30)).strftime("%H:%M")
    assert f"{car_start} (Europe/Rome)" in text and "BA548 is delayed by 3 h" in text
    assert "INTERNAL" not in text and "crew rostering" not in text
    assert httpx.post(amendment_link, data={"action": "confirm", "confirmation_code": "RC-1"}).status_code == 200
    [car_booking] = api.ok("GET", "booking", f"/v1/bookings?itinerary_id={trip['id']}")["items"]
    eventually(lambda: api.ok("GET", "booking", f"/v1/bookings/{car_booking['id']}")["status"] == "confirmed",
               message="the amendment was never confirmed")

    # The POC hears at once, in local times, why and what moved.
    told = eventually(lambda: [m for m in mails_to(stack.maildir, poc_email) if "Important" in subject(m)],
                      message="the POC was never told")[-1]
    text = text_of(told)
    assert "Your flight BA548 is delayed by 3 h. We have moved what follows:" in text
    assert f"{car_start} Rome time" in text or f"{car_start} (Europe/Rome)" in text, text
    assert "INTERNAL" not in text and "crew rostering" not in text

    # One trace: the planner's shift is the root, the vendor's e-mail and the POC's hang under it.
    def flow_trace():
        for root in [s for s in traces.snapshot() if s.service == "itinerary" and s.kind == 2
                     and "/disruptions/" in s.name and s.name.startswith("POST")]:
            spans = traces.trace(root.trace_id)
            kinds = {s.attributes.get("notification.kind") for s in spans}
            if {"supplier_amendment", "trip_changes"} <= kinds and {"booking", "notify"} <= {s.service
                                                                                            for s in spans}:
                return spans
        return None

    spans = eventually(flow_trace, message="no one trace from the shift to both e-mails")

    assert traces.orphans(spans[0].trace_id) == [], "spans whose parent never arrived"
