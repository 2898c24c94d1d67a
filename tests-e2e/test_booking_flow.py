"""An approved trip booked with real suppliers, across every service: requests e-mailed by notify, answered on the
supplier's page (one confirms and acknowledges a dietary need, another declines), the trip retimed, the amendment
confirmed, and the trip booked."""
from __future__ import annotations

import re

import httpx
import icalendar
import pytest

from trip_shared.testing.documents import pdf_text
from trip_shared.testing.maildir import mails_to, subject, text_of, unique
from trip_shared.testing.polling import eventually
from trip_shared.testing.proposals import approve_from_the_email

pytestmark = pytest.mark.e2e
INTERNAL = "INTERNAL: net rate 18000"


def answer_link(stack, address: str, marker: str) -> tuple[str, str]:
    """The answer link of the newest message to ``address`` whose subject has ``marker``, and its text."""
    def found():
        mails = [m for m in mails_to(stack.maildir, address) if marker in subject(m)]
        return mails and mails[-1]

    mail = eventually(found, message=f"{address} never got a {marker!r} message")
    text = text_of(mail)
    return re.search(r"(http://\S+/supplier/bookings/\S+)", text).group(1), text


def approved_trip(api, stack) -> tuple[dict, dict, dict]:
    email = f"{unique('mei')}@example.com"
    mei = api.ok("POST", "customers", "/v1/customers", 201, json={"first_name": "Mei", "last_name": unique("Chen"),
                                                                  "email": email})
    api.ok("POST", "customers", f"/v1/customers/{mei['id']}/consultations", 201,
           json={"dietary": ["vegetarian"], "party_adults": 2})
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Kyoto in autumn "), "start_date": "2027-10-01", "end_date": "2027-10-04"})
    base = f"/v1/itineraries/{trip['id']}"
    api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": mei["id"]})
    ryokan_name, restaurant_name = unique("Hiiragiya "), unique("Gion Karyo ")
    hotel = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "accommodation", "title": "Hiiragiya Ryokan, garden room", "timezone": "Asia/Tokyo",
        "start": "2027-10-01T15:00", "end": "2027-10-04T11:00", "vendor": ryokan_name, "requires_booking": True,
        "location": {"address": "Nakagyo-ku, Kyoto"}, "notes": INTERNAL})
    dinner = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo", "start": "2027-10-02T19:00",
        "end": "2027-10-02T21:00", "vendor": restaurant_name, "requires_booking": True,
        "location": {"address": "Gion, Kyoto"}, "notes": INTERNAL})
    approve_from_the_email(api, stack.maildir, base, email)
    assert api.ok("GET", "itinerary", base)["stage"] == "approved"
    return trip, {"hotel": hotel, "dinner": dinner}, {"ryokan": ryokan_name, "restaurant": restaurant_name,
                                                      "traveller": f"Mei {mei['last_name']}", "email": email}


def test_an_approved_trip_is_booked_with_its_suppliers_through_their_pages(api, stack):
    trip, items, names = approved_trip(api, stack)
    base = f"/v1/itineraries/{trip['id']}"
    ryokan_mail, restaurant_mail = f"{unique('ryokan')}@example.com", f"{unique('karyo')}@example.com"
    ryokan = api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": names["ryokan"], "kind": "hotel", "language": "zh-Hans", "notes": "Pays 10% commission",
        "contacts": [{"name": "予約係", "email": ryokan_mail}]})
    api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": names["restaurant"], "kind": "restaurant", "contacts": [{"email": restaurant_mail}]})

    # Both items in one call, once booking knows the trip as approved (with its items and traveller).
    made = eventually(lambda: (r := api.ok("POST", "booking", f"{base}/booking-requests", 201, json={
        "respond_by": "2027-08-20T09:00:00Z"}))["requested"] and r, message="booking never learnt of the items")
    assert sorted(b["item_id"] for b in made["requested"]) == sorted([items["hotel"]["id"], items["dinner"]["id"]])
    assert made["skipped"] == []
    by_item = {b["item_id"]: b for b in made["requested"]}
    assert by_item[items["hotel"]["id"]]["supplier_id"] == ryokan["id"], "found by the item's vendor name"

    # The ryokan reads its request in Chinese, confirms and acknowledges Mei's vegetarian diet.
    link, text = answer_link(stack, ryokan_mail, "预订请求")
    assert "2027年10月1日 周五, 15:00 (Asia/Tokyo)" in text and f"饮食 — {names['traveller']}: vegetarian" in text
    assert "INTERNAL" not in text and "commission" not in text
    page = httpx.get(link)
    assert page.status_code == 200 and "预订请求" in page.text and "INTERNAL" not in page.text
    [vegetarian] = by_item[items["hotel"]["id"]]["requirements"]
    assert vegetarian["text"] == "vegetarian"
    confirmed = httpx.post(link, data={"action": "confirm", "confirmation_code": "HRG-1001",
                                       "acknowledge": vegetarian["id"]})
    assert confirmed.status_code == 200 and "HRG-1001" in confirmed.text

    # The restaurant declines, offering another night (the planner books another place later).
    link, text = answer_link(stack, restaurant_mail, "Booking request")
    assert "Sat 02 Oct 2027, 19:00 (Asia/Tokyo)" in text and f"Dietary — {names['traveller']}: vegetarian" in text
    declined = httpx.post(link, data={"action": "decline", "reason": "Fully booked that night",
                                      "alternative": "Sunday 3 October at 19:00"})
    assert declined.status_code == 200
    dinner_booking = api.ok("GET", "booking", f"/v1/bookings/{by_item[items['dinner']['id']]['id']}")
    assert (dinner_booking["status"], dinner_booking["alternative"]) == ("declined", "Sunday 3 October at 19:00")

    # The planner moves the ryokan's check-in: the booking says so, and one call sends the amendment.
    api.ok("PATCH", "itinerary", f"{base}/items/{items['hotel']['id']}", json={"start": "2027-10-01T17:00"})
    hotel_id = by_item[items["hotel"]["id"]]["id"]
    marked = eventually(lambda: (b := api.ok("GET", "booking", f"/v1/bookings/{hotel_id}"))["attention"] and b,
                        message="the retimed item never marked its booking")
    assert marked["attention_changes"] == ["start: 2027-10-01T15:00 → 2027-10-01T17:00"]
    shown = eventually(lambda: (i := api.ok("GET", "itinerary", base)) and [
        item for item in i["items"] if item["id"] == items["hotel"]["id"] and item["booking"]["attention"]],
        message="the trip never showed the booking needs an amendment")
    assert shown[0]["booking"]["status"] == "confirmed"
    api.ok("POST", "booking", f"/v1/bookings/{hotel_id}/amendment", json={"reason": "The flight lands later"})
    link, text = answer_link(stack, ryokan_mail, "预订变更请求")
    assert "17:00 (Asia/Tokyo)" in text and "The flight lands later" in text
    assert httpx.post(link, data={"action": "confirm", "confirmation_code": "HRG-1001"}).status_code == 200
    eventually(lambda: api.ok("GET", "booking", f"/v1/bookings/{hotel_id}")["status"] == "confirmed")
    assert api.ok("GET", "itinerary", base)["stage"] == "approved", "the declined dinner is not booked yet"

    # Another restaurant confirms by phone: every required booking is confirmed, so the trip is booked.
    other = api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": unique("Kikunoi "), "kind": "restaurant", "contacts": [{"email": f"{unique('kikunoi')}@example.com"}]})
    second = api.ok("POST", "booking", "/v1/bookings", 201, json={
        "itinerary_id": trip["id"], "item_id": items["dinner"]["id"], "supplier_id": other["id"]})
    api.ok("POST", "booking", f"/v1/bookings/{second['id']}/confirmation", json={"confirmation_code": "KK-77"})

    booked = eventually(lambda: (d := api.ok("GET", "itinerary", base))["stage"] == "booked" and d,
                        message="the trip never became booked")
    statuses = {item["id"]: item["booking"] for item in booked["items"]}
    assert statuses[items["hotel"]["id"]]["status"] == "confirmed"
    assert statuses[items["hotel"]["id"]]["requirements_pending"] == 0
    assert statuses[items["dinner"]["id"]]["confirmation_code"] == "KK-77"
    history = api.ok("GET", "booking", f"/v1/bookings/{hotel_id}")["history"]
    assert [(h["to_status"], h["channel"]) for h in history] == [
        ("requested", "api"), ("confirmed", "email"), ("confirmed", "email"), ("amendment_requested", "api"),
        ("confirmed", "email")]

    # The client's trip page links each confirmed service's voucher.
    share = api.ok("POST", "itinerary", f"{base}/share-link", 201)
    def voucher_links():
        links = re.findall(r'href="(http://[^"]+/vouchers/[^"]+)"', httpx.get(share["url"]).text)
        return links if len(links) == 2 else None

    hotel_voucher, _ = eventually(voucher_links, message="the trip page never showed both vouchers")
    pdf = httpx.get(hotel_voucher.replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = pdf_text(pdf.content)
    assert "HRG-1001" in text and "17:00 (Asia/Tokyo)" in text and "INTERNAL" not in text

    # The POC gets the final itinerary: the PDF and the calendar attached, the trip as it was booked.
    [final] = eventually(lambda: [m for m in mails_to(stack.maildir, names["email"])
                                  if "Your final itinerary" in subject(m)],
                         message="the POC never got the final itinerary")
    files = {part.get_filename(): part.get_payload(decode=True) for part in final.walk() if part.get_filename()}
    title = trip["title"]
    assert set(files) == {f"{title}.pdf", f"{title}.ics"}, files.keys()
    itinerary_text = pdf_text(files[f"{title}.pdf"])
    assert "check-in 17:00 (Asia/Tokyo)" in itinerary_text and "INTERNAL" not in itinerary_text
    events = {str(e["SUMMARY"]): e for e in icalendar.Calendar.from_ical(files[f"{title}.ics"]).walk("VEVENT")}
    stay = events["Hiiragiya Ryokan, garden room"]
    assert str(stay["STATUS"]) == "CONFIRMED" and stay["DTSTART"].dt.hour == 17
    assert str(stay["DTSTART"].dt.tzinfo) == "Asia/Tokyo"
    assert "Everything for your trip" in text_of(final) and "/trips/" in text_of(final)
    state = api.ok("GET", "itinerary", f"{base}/final-documents")
    assert [(i["reason"], i["actor"]) for i in state["issued"]] == [("booked", "system")]


def test_a_webhook_supplier_gets_a_signed_request_and_confirms_by_signed_callback(api, stack):
    import json
    import time

    from trip_shared.testing.http_recorder import HttpRecorder
    from trip_shared.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, verify

    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": unique("Osaka day trip ")})
    base = f"/v1/itineraries/{trip['id']}"
    car = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "transfer", "title": "Private car Kyoto → Osaka", "timezone": "Asia/Tokyo", "mode": "car",
        "start": "2027-10-05T09:00", "end": "2027-10-05T10:15", "requires_booking": True, "notes": INTERNAL})
    with HttpRecorder() as endpoint:
        cars = api.ok("POST", "booking", "/v1/suppliers", 201, json={
            "name": unique("Kansai Cars "), "kind": "transfer", "channel": "webhook",
            "webhook_url": f"{endpoint.url}/trip-desk"})
        booking = eventually(lambda: (r := api.request("POST", "booking", "/v1/bookings", json={
            "itinerary_id": trip["id"], "item_id": car["id"], "supplier_id": cars["id"]})).status_code == 201
            and r.json(), message="booking never learnt of the item")
        [delivered] = eventually(lambda: endpoint.requests, message="the supplier's endpoint never got the request")
    verify(cars["signing_secret"], delivered.headers[TIMESTAMP_HEADER], delivered.headers[SIGNATURE_HEADER],
           delivered.body, time.time())
    request = json.loads(delivered.body)
    assert (request["type"], request["booking_id"], request["service"]["start"]) == (
        "booking.request", booking["id"], "2027-10-05T09:00")
    assert "INTERNAL" not in delivered.body.decode()

    answer = json.dumps({"booking_id": booking["id"], "round": request["round"], "action": "confirm",
                         "confirmation_code": "KC-881"}).encode()
    headers = signed_headers(cars["signing_secret"], int(time.time()), answer)
    confirmed = httpx.post(request["callback_url"], content=answer, headers=headers)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
    replayed = httpx.post(request["callback_url"], content=answer, headers=headers)
    assert replayed.status_code == 409 and replayed.json()["code"] == "webhook-replayed"
    shown = eventually(lambda: (i := api.ok("GET", "itinerary", base))["items"][0]["booking"]
                       and i["items"][0]["booking"]["status"] == "confirmed" and i,
                       message="the trip never showed the confirmation")
    assert shown["items"][0]["booking"]["confirmation_code"] == "KC-881"
