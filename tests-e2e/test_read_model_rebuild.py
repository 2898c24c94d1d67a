"""A service whose copy of the customers is lost (its collection rebuilt from nothing, its consumer group long past
the customers' change events, which Kafka keeps only 7 days) gets it back from the compacted customer.state topic
when it starts, and goes on sending to the right addresses; an erased customer is not brought back."""
from __future__ import annotations

import pymongo
import pytest

from trip_shared.testing.maildir import mails_to, unique
from trip_shared.testing.polling import eventually

pytestmark = pytest.mark.e2e


def test_notify_rebuilds_its_contacts_from_customer_state_and_the_poc_still_hears(stack, api):
    email = f"{unique('rebuilt')}@example.com"
    customer = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Ren", "last_name": unique("Ito"), "email": email})
    api.ok("PATCH", "customers", f"/v1/customers/{customer['id']}", 200, json={"first_name": "Renji"},
                headers={"If-Match": f'"{customer["version"]}"'})
    erased = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Eri", "last_name": unique("Sato"), "email": f"{unique('erased')}@example.com"})
    api.ok("POST", "customers", f"/v1/customers/{erased['id']}/erasure", 202)
    notify_db = pymongo.MongoClient(stack.mongodb_url)["notify"]
    eventually(lambda: (notify_db["contacts"].find_one({"_id": customer["id"]}) or {}).get("first_name") == "Renji"
               and notify_db["contacts"].find_one({"_id": erased["id"]}) is None, timeout=30)

    stack.stop_service("notify")
    # The copy is gone, as after a restore without it; notify's group has long read past customer.created.
    notify_db["contacts"].drop()
    notify_db["read_model_rebuilds"].drop()
    stack.start_service("notify")
    contact = notify_db["contacts"].find_one({"_id": customer["id"]})
    assert contact and contact["first_name"] == "Renji" and email in contact["emails"], \
        "back before notify took its first event: the customer's latest state"
    assert notify_db["contacts"].find_one({"_id": erased["id"]}) is None, "a tombstone: the erased stay erased"

    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Rebuilt contacts "), "start_date": "2027-05-01", "end_date": "2027-05-03"})
    api.ok("POST", "itinerary", f"/v1/itineraries/{trip['id']}/customers", 201,
           json={"customer_id": customer["id"], "is_poc": True})
    [message] = eventually(lambda: mails_to(stack.maildir, email), timeout=30)
    assert "point of contact" in str(message["Subject"]).lower()


def test_booking_feedback_and_notify_rebuild_their_trips_from_itinerary_state(stack, api):
    customer = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Aiko", "last_name": unique("Mori"), "email": f"{unique('aiko')}@example.com"})
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Hakone weekend "), "start_date": "2027-06-04", "end_date": "2027-06-06"})
    api.ok("POST", "itinerary", f"/v1/itineraries/{trip['id']}/customers", 201,
           json={"customer_id": customer["id"], "is_poc": True})
    api.ok("PATCH", "itinerary", f"/v1/itineraries/{trip['id']}", 200, json={"title": trip["title"] + " (revised)"})
    databases = pymongo.MongoClient(stack.mongodb_url)
    copies = {"booking": "known_itineraries", "feedback": "known_trips", "notify": "trips"}

    def copy(service: str) -> dict:
        return databases[service][copies[service]].find_one({"_id": trip["id"]}) or {}

    eventually(lambda: all(copy(service).get("title", "").endswith("(revised)") for service in copies), timeout=30)
    before = {service: copy(service) for service in copies}
    for service, collection in copies.items():
        stack.stop_service(service)
        databases[service][collection].drop()
        databases[service]["read_model_rebuilds"].drop()
        stack.start_service(service)
    for service in copies:
        rebuilt = copy(service)
        assert rebuilt.get("title") == before[service]["title"] and rebuilt.get("version") == before[service]["version"], \
            f"{service}: the trip as it is now, at its version"
    for service in ("feedback", "notify"):
        assert [(m["customer_id"], m["is_poc"]) for m in copy(service)["members"]] == [(customer["id"], True)], service
    readiness = api.ok("GET", "booking", f"/v1/itineraries/{trip['id']}/readiness")
    assert readiness["title"].endswith("(revised)"), "booking answers about the trip as before the loss"


def test_booking_and_itinerary_get_the_agency_profile_back_from_its_compacted_topic(stack, console_agency):
    console_agency.ok("PUT", "notify", "/v1/agency", 200, json={
        "name": "Compacted Travel", "support_phone": "+44 20 7946 0456", "support_email": "help@compacted.example"})
    renamed = console_agency.ok("PUT", "notify", "/v1/agency", 200, json={
        "name": "Compacted Travel Ltd", "support_phone": "+44 20 7946 0456", "support_email": "help@compacted.example"})
    databases = pymongo.MongoClient(stack.mongodb_url)

    def profile(service: str) -> dict:
        return databases[service]["known_agencies"].find_one({"_id": "console-agency"}) or {}

    eventually(lambda: all(profile(service).get("name") == "Compacted Travel Ltd"
                           for service in ("booking", "itinerary")), timeout=30)
    for service in ("booking", "itinerary"):
        stack.stop_service(service)
        databases[service]["known_agencies"].drop()
        databases[service]["read_model_rebuilds"].drop()
        stack.start_service(service)
        assert profile(service).get("name") == "Compacted Travel Ltd" and \
            profile(service).get("version") == renamed["version"], f"{service}: the agency's latest profile"
