"""The first trip flow across services: customer → itinerary → POC link → e-mail, as one trace."""
from __future__ import annotations

import pytest

from trip_shared.testing.maildir import mails_to as mails_in
from trip_shared.testing.maildir import subject, text_of, unique
from trip_shared.testing.polling import eventually

pytestmark = pytest.mark.e2e


def mails_to(stack, address: str) -> list:
    return mails_in(stack.maildir, address)


def create_customer(api, first_name: str, **extra) -> dict:
    return api.ok("POST", "customers", "/v1/customers", 201, json={"first_name": first_name, **extra})


def notifications(api, **params) -> list[dict]:
    return api.ok("GET", "notify", "/v1/notifications", params=params)["items"]


def test_customer_is_created_and_found_by_name_email_and_phone(api):
    last_name = unique("Lima")
    created = create_customer(api, "Ana", last_name=last_name, email=f"{last_name}@example.com",
                              phone="+44 7911 123456")
    assert created["phone"] == "+447911123456"
    for query in (last_name.upper(), last_name.lower()[:6], f"{last_name.lower()}@ex"):
        found = api.ok("GET", "customers", "/v1/customers", params={"q": query})["items"]
        assert created["id"] in [c["id"] for c in found], query
    by_phone = api.ok("GET", "customers", "/v1/customers", params={"q": "+44 7911 123"})["items"]
    assert created["id"] in [c["id"] for c in by_phone]


def test_linking_a_poc_emails_them_once_and_the_whole_flow_is_one_trace(api, stack, traces):
    email = f"{unique('poc')}@example.com"
    customer = create_customer(api, "Mei", last_name="Chen", email=email)
    title = unique("Kyoto in autumn ")
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201,
                       json={"title": title, "start_date": "2027-10-01", "end_date": "2027-10-09"})
    linked = api.request("POST", "itinerary", f"/v1/itineraries/{itinerary['id']}/customers",
                         json={"customer_id": customer["id"]})
    assert linked.status_code == 201, linked.text
    assert [(c["customer_id"], c["is_poc"]) for c in linked.json()["customers"]] == [(customer["id"], True)]

    sent = eventually(lambda: [n for n in notifications(api, itinerary_id=itinerary["id"]) if n["status"] == "sent"],
                      message="the POC notification was not sent")
    assert [(n["customer_id"], n["kind"]) for n in sent] == [(customer["id"], "poc_assigned")]
    messages = eventually(lambda: mails_to(stack, email), message="no e-mail in the Maildir")
    assert len(messages) == 1 and title in subject(messages[0])

    # One trace: the itinerary's HTTP request is the root, and the SMTP send in notify hangs under it. Services
    # export in batches, so wait until every hop of the flow has arrived.
    def complete(spans) -> bool:
        names = {s.name for s in spans}
        return ({"itinerary", "notify"} <= {s.service for s in spans}
                and "outbox relay customer.linked" in names and "smtp send" in names
                and any(n.startswith("customer.linked") and "publish" in n for n in names)
                # notify's own consumer span: feedback consumes customer.linked too, and may export first
                and any(s.service == "notify" and s.name.startswith("customer.linked") and "process" in s.name
                        for s in spans))

    def flow_trace():
        roots = [s for s in traces.snapshot() if s.service == "itinerary" and s.kind == 2
                 and s.name.startswith("POST /v1/itineraries/{itinerary_id}/customers")]
        for root in roots:
            spans = traces.trace(root.trace_id)
            if complete(spans) and any(s.attributes.get("notification.kind") == "poc_assigned" for s in spans):
                return spans
        return None

    spans = eventually(flow_trace, message="no complete trace from the HTTP request to the SMTP send")
    orphans = traces.orphans(spans[0].trace_id)
    assert orphans == [], f"spans whose parent is outside the trace: {orphans}"


def test_poc_rules_over_http(api):
    first, second = create_customer(api, "Ana"), create_customer(api, "Bo")
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": unique("Rules ")})
    base = f"/v1/itineraries/{itinerary['id']}/customers"
    assert api.ok("GET", "itinerary", base)["items"] == []
    api.ok("POST", "itinerary", base, 201, json={"customer_id": first["id"]})
    after_second = api.ok("POST", "itinerary", base, 201, json={"customer_id": second["id"]})
    assert [c["is_poc"] for c in after_second["customers"]] == [True, False]

    refused = api.request("DELETE", "itinerary", f"{base}/{first['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "last-poc"
    refused = api.request("PATCH", "itinerary", f"{base}/{first['id']}", json={"is_poc": False})
    assert refused.status_code == 409 and refused.json()["code"] == "last-poc"

    api.ok("PATCH", "itinerary", f"{base}/{second['id']}", json={"is_poc": True})
    api.ok("DELETE", "itinerary", f"{base}/{first['id']}")
    remaining = api.ok("DELETE", "itinerary", f"{base}/{second['id']}")
    assert remaining["customers"] == [], "the last customer, even a POC, can be removed"


def test_bad_input_gets_problem_details_and_changes_nothing(api, other_agency, stack):
    import httpx

    customer = create_customer(api, "Ana")
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": unique("Bad input ")})
    path = f"/v1/itineraries/{itinerary['id']}"
    theirs = create_customer(other_agency, "Eve")
    cases = {
        "malformed JSON": (api.request("POST", "itinerary", f"{path}/customers", content=b"{oops",
                                       headers={"content-type": "application/json"}), 400),
        "unknown itinerary": (api.request("POST", "itinerary", "/v1/itineraries/nope/customers",
                                          json={"customer_id": customer["id"]}), 404),
        "unknown customer": (api.request("POST", "itinerary", f"{path}/customers",
                                         json={"customer_id": "no-such-customer"}), 404),
        "another agency's customer": (api.request("POST", "itinerary", f"{path}/customers",
                                                  json={"customer_id": theirs["id"]}), 404),
        "another agency's itinerary": (other_agency.request("GET", "itinerary", path), 404),
        "missing key": (httpx.post(api.url("itinerary", f"{path}/customers"), json={"customer_id": customer["id"]}),
                        401),
        "missing title": (api.request("POST", "itinerary", "/v1/itineraries", json={}), 422),
    }
    for case, (response, status) in cases.items():
        assert response.status_code == status, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        assert response.json()["status"] == status and response.json()["detail"], case
    unchanged = api.ok("GET", "itinerary", path)
    assert unchanged["version"] == itinerary["version"] and unchanged["customers"] == []


def test_notify_killed_mid_flow_delivers_each_pending_notification_exactly_once(api, stack):
    email = f"{unique('restart')}@example.com"
    customer = create_customer(api, "Kai", email=email)
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": unique("Restart ")})
    stack.stop_service("notify", kill=True)
    try:
        api.ok("POST", "itinerary", f"/v1/itineraries/{itinerary['id']}/customers", 201,
               json={"customer_id": customer["id"]})
    finally:
        stack.start_service("notify")
    eventually(lambda: mails_to(stack, email), timeout=60, message="the pending notification was never sent")
    sent = eventually(lambda: [n for n in notifications(api, customer_id=customer["id"]) if n["status"] == "sent"])
    assert len(sent) == 1
    # A second restart must not send it again: offsets, the inbox and the notification record all remember it.
    stack.stop_service("notify")
    stack.start_service("notify")
    api.ok("GET", "notify", "/v1/notifications", params={"customer_id": customer["id"]})
    assert len(mails_to(stack, email)) == 1
    assert len(notifications(api, customer_id=customer["id"])) == 1


def test_every_service_is_live_ready_and_exposes_metrics(stack):
    import httpx

    collections = {"customers": "/v1/customers", "itinerary": "/v1/itineraries", "booking": "/v1/bookings",
                   "notify": "/v1/notifications", "feedback": "/v1/feedback"}
    for name, collection in collections.items():
        base = stack.service_url(name)
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200 and ready.json()["kafka"] == "ok", (name, ready.text)
        assert "outbox_pending_events" in httpx.get(f"{base}/metrics").text
        assert httpx.get(f"{base}{collection}").status_code == 401


def test_a_booking_confirmation_reaches_the_poc_and_travellers_leave_feedback(api, stack):
    email = f"{unique('booker')}@example.com"
    customer = create_customer(api, "Sam", email=email)
    title = unique("Lisbon ")
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": title})
    api.ok("POST", "itinerary", f"/v1/itineraries/{itinerary['id']}/customers", 201,
           json={"customer_id": customer["id"]})
    stay = api.ok("POST", "itinerary", f"/v1/itineraries/{itinerary['id']}/items", 201, json={
        "kind": "accommodation", "title": "Casa do Rio, 3 nights", "start": "2027-06-01T15:00",
        "end": "2027-06-04T11:00", "timezone": "Europe/Lisbon", "requires_booking": True})
    hotel = api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": "Casa do Rio", "kind": "hotel", "contacts": [{"email": "reservas@casadorio.example"}]})
    booking = eventually(lambda: (r := api.request("POST", "booking", "/v1/bookings", json={
        "itinerary_id": itinerary["id"], "item_id": stay["id"], "supplier_id": hotel["id"]})).status_code == 201
        and r.json(), message="booking never learnt of the item")
    confirmed = api.ok("POST", "booking", f"/v1/bookings/{booking['id']}/confirmation",
                       json={"confirmation_code": "CR-2027"})
    assert confirmed["status"] == "confirmed"

    def confirmation_mail():
        return [m for m in mails_to(stack, email) if subject(m) == f"{title}: All services are confirmed (1 of 1)."]

    [mail] = eventually(confirmation_mail, message="the POC never heard of the confirmed booking")
    assert "Casa do Rio, 3 nights (Casa do Rio), Tue 01 Jun 2027, 15:00 (Europe/Lisbon)" in text_of(mail) and "confirmation CR-2027" in text_of(mail)

    feedback = eventually(lambda: (r := api.request("POST", "feedback", "/v1/feedback", json={
        "itinerary_id": itinerary["id"], "customer_id": customer["id"], "rating": 5,
        "comment": "Perfect pacing"})).status_code == 201 and r.json(),
        message="feedback service never learnt the customer is on the trip")
    listed = api.ok("GET", "feedback", "/v1/feedback", params={"itinerary_id": itinerary["id"]})
    assert [f["id"] for f in listed["items"]] == [feedback["id"]] and listed["average_rating"] == 5


def test_deleting_the_only_poc_hands_the_trip_to_the_next_customer_who_is_told(api, stack):
    first = create_customer(api, "Ida", email=f"{unique('ida')}@example.com")
    second_email = f"{unique('jon')}@example.com"
    second = create_customer(api, "Jon", email=second_email)
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": unique("Handover ")})
    path = f"/v1/itineraries/{itinerary['id']}"
    api.ok("POST", "itinerary", f"{path}/customers", 201, json={"customer_id": first["id"]})
    api.ok("POST", "itinerary", f"{path}/customers", 201, json={"customer_id": second["id"]})
    assert api.request("DELETE", "itinerary", f"{path}/customers/{first['id']}").status_code == 409

    assert api.request("DELETE", "customers", f"/v1/customers/{first['id']}").status_code == 204

    def handed_over():
        current = api.ok("GET", "itinerary", path)
        return current if [(c["customer_id"], c["is_poc"]) for c in current["customers"]] == [
            (second["id"], True)] else None

    current = eventually(handed_over, message="the itinerary never dropped the deleted customer")
    assert current["notices"][0]["kind"] == "poc_reassigned"
    [mail] = eventually(lambda: mails_to(stack, second_email), message="the new POC was never told")
    assert subject(mail).startswith("You are the point of contact")


def test_an_erasure_request_reaches_every_service_and_each_confirms(api, stack):
    email = f"{unique('forget')}@example.com"
    customer = create_customer(api, "Noor", last_name=unique("Haddad"), email=email)
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={"title": unique("Forgotten ")})
    api.ok("POST", "itinerary", f"/v1/itineraries/{itinerary['id']}/customers", 201,
           json={"customer_id": customer["id"]})
    eventually(lambda: [n for n in notifications(api, customer_id=customer["id"]) if n["status"] == "sent"])
    eventually(lambda: api.request("POST", "feedback", "/v1/feedback", json={
        "itinerary_id": itinerary["id"], "customer_id": customer["id"], "rating": 4,
        "comment": f"Write to me at {email}"}).status_code == 201)
    tour = api.ok("POST", "itinerary", f"/v1/itineraries/{itinerary['id']}/items", 201, json={
        "kind": "activity", "title": "Old town tour", "start": "2027-05-02T10:00", "timezone": "Europe/Lisbon",
        "requires_booking": True})
    guide = api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": "Lisbon Walks", "kind": "guide", "contacts": [{"email": "hello@lisbonwalks.example"}]})
    booking = eventually(lambda: (r := api.request("POST", "booking", "/v1/bookings", json={
        "itinerary_id": itinerary["id"], "item_id": tour["id"], "supplier_id": guide["id"]})).status_code == 201
        and r.json(), message="booking never learnt of the item")
    assert booking["traveller_names"] == [f"Noor {customer['last_name']}"]

    started = api.ok("POST", "customers", f"/v1/customers/{customer['id']}/erasure", 202)
    assert sorted(started["pending"]) == ["booking", "feedback", "itinerary", "notify"]
    done = eventually(lambda: (s := api.ok("GET", "customers", f"/v1/customers/{customer['id']}/erasure"))["complete"]
                      and s, message="not every service confirmed the erasure")
    assert set(done["confirmations"]) == {"itinerary", "booking", "notify", "feedback"}
    kept = api.ok("GET", "booking", f"/v1/bookings/{booking['id']}")
    assert kept["traveller_names"] == [] and kept["status"] == "requested", "the booking stays, the name goes"
    linked = api.ok("GET", "itinerary", f"/v1/itineraries/{itinerary['id']}")["customers"]
    assert [(c["customer_id"], c["first_name"]) for c in linked] == [(customer["id"], "[erased]")]
    [sent] = notifications(api, customer_id=customer["id"])
    assert sent["recipient"] is None and sent["subject"] == "[erased]"
    comments = api.ok("GET", "feedback", "/v1/feedback", params={"itinerary_id": itinerary["id"]})["items"]
    assert [f["comment"] for f in comments] == ["[erased]"]


def test_a_customer_completes_their_profile_from_the_emailed_link(api, stack):
    import re

    import httpx

    email = f"{unique('profile')}@example.com"
    customer = create_customer(api, "Lin", email=email)
    api.ok("POST", "customers", f"/v1/customers/{customer['id']}/profile-link", 201)
    [mail] = eventually(lambda: mails_to(stack, email), message="the profile link never arrived")
    assert subject(mail) == "Please complete your travel profile"
    url = re.search(r"(http://\S+/forms/profile/\S+)", text_of(mail)).group(1)
    page = httpx.get(url)
    assert page.status_code == 200 and 'value="Lin"' in page.text
    saved = httpx.post(url, data={"first_name": "Lin", "last_name": "Wang", "email": email, "pace": "relaxed",
                                  "dietary": "halal", "preferred_language": "en"})
    assert saved.status_code == 200 and "Thank you" in saved.text
    assert api.ok("GET", "customers", f"/v1/customers/{customer['id']}")["last_name"] == "Wang"
    [consultation] = api.ok("GET", "customers", f"/v1/customers/{customer['id']}/consultations")["items"]
    assert consultation["source"] == "profile_form" and consultation["preferences"]["dietary"] == ["halal"]


def test_a_trip_is_designed_from_the_consultation_approved_by_its_poc_and_booked(api, stack):
    import re

    import httpx

    email = f"{unique('designer')}@example.com"
    customer = create_customer(api, "Aiko", last_name="Sato", email=email)
    api.ok("POST", "customers", f"/v1/customers/{customer['id']}/consultations", 201,
           json={"pace": "relaxed", "dietary": ["vegetarian"], "budget": {"maximum": 5000, "currency": "EUR"}})
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201,
                       json={"title": unique("Hokkaido "), "start_date": "2027-06-01", "end_date": "2027-06-08"})
    base = f"/v1/itineraries/{itinerary['id']}"
    api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": customer["id"]})
    flight = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "flight", "title": "Tokyo to Sapporo", "start": "2027-06-01T09:00", "end": "2027-06-01T10:35",
        "timezone": "Asia/Tokyo", "requires_booking": True, "cost": {"amount": 180, "currency": "EUR"}})
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "activity", "title": "Otaru canal walk", "start": "2027-06-02", "timezone": "Asia/Tokyo"})
    designed = eventually(lambda: (d := api.ok("GET", "itinerary", base))["customers"][0]["requirements"] and d,
                          message="the consultation never reached the itinerary")
    assert designed["feasibility"]["pace"] == "relaxed" and designed["budget"]["status"] == "within"
    assert designed["customers"][0]["requirements"]["dietary"] == ["vegetarian"]

    api.ok("POST", "itinerary", f"{base}/stage", json={"stage": "planning"})
    proposal = api.ok("POST", "itinerary", f"{base}/proposals", 201,
                      json={"options": [{"title": "Summer in Hokkaido"}], "message": "As we discussed"})

    def proposal_mail():
        return [m for m in mails_to(stack, email) if "proposal" in subject(m)]

    [mail] = eventually(proposal_mail, message="the POC never received the proposal")
    url = re.search(r"(http://\S+/proposals/\S+)", text_of(mail)).group(1)
    page = httpx.get(url)
    assert page.status_code == 200 and "Otaru canal walk" in page.text and "As we discussed" in page.text
    answered = httpx.post(url, data={"action": "approve", "option": proposal["options"][0]["id"]})
    assert answered.status_code == 200, answered.text
    assert api.ok("GET", "itinerary", base)["stage"] == "approved"

    airline = api.ok("POST", "booking", "/v1/suppliers", 201, json={
        "name": "ANA", "kind": "airline", "contacts": [{"email": "groups@ana.example"}]})
    booking = api.ok("POST", "booking", "/v1/bookings", 201, json={
        "itinerary_id": itinerary["id"], "item_id": flight["id"], "supplier_id": airline["id"]})
    api.ok("POST", "booking", f"/v1/bookings/{booking['id']}/confirmation", json={"confirmation_code": "NH-55"})
    booked = eventually(lambda: (d := api.ok("GET", "itinerary", base))["stage"] == "booked" and d,
                        message="the confirmed booking never made the trip booked")
    assert booked["readiness"]["label"] == "1 of 1 confirmed"
    assert booked["items"][0]["booking"]["confirmation_code"] == "NH-55"
    history = api.ok("GET", "itinerary", f"{base}/history")["items"]
    assert [e["action"] for e in history][-3:] == ["proposal_sent", "proposal_answered", "stage_moved"]

    shared = api.ok("POST", "itinerary", f"{base}/share-link", 201)
    trip_page = httpx.get(shared["url"])
    assert trip_page.status_code == 200 and "Tokyo to Sapporo" in trip_page.text and "Day 2" in trip_page.text
    calendar = httpx.get(shared["calendar_url"])
    assert "DTSTART;TZID=Asia/Tokyo:20270601T090000" in calendar.text
    pdf = httpx.get(shared["url"] + "/itinerary.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_every_log_line_of_every_service_is_json_and_those_in_a_flow_carry_its_trace(stack):
    import json

    import httpx

    # A refused key is logged while its request is handled: that line must carry the request's trace.
    assert httpx.get(stack.service_url("customers") + "/v1/customers", headers={
        "Authorization": "Bearer not-a-key"}).status_code == 401
    traced = 0
    for name in stack.services:
        lines = [line for line in stack.log_path(name).read_text().splitlines()
                 if line.strip() and not line.startswith("=== ")]  # the stack's own start banner
        assert lines, name
        loggers = set()
        for line in lines:
            entry = json.loads(line)  # fails on any line that is not JSON
            assert {"ts", "level", "service", "logger", "message"} <= set(entry), line
            loggers.add(entry["logger"])
            traced += "trace_id" in entry
        assert "trip_shared.messaging.faststream" in loggers, (name, loggers)  # the consumers' own lines
        assert "uvicorn.error" in loggers, (name, loggers)
    assert traced > 0, "log lines written while handling a request or an event carry its trace id"
