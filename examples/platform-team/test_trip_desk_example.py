"""What another team's suite writes to test against Trip Desk: install ``trip-shared`` (its pytest plugin brings the
``trip_desk`` fixture), then talk to the platform over HTTP only, as their system will.

    pip install ./shared          # or the wheel of the version you test against
    pytest                        # containers when Docker answers (image trip-desk:<version>), else embedded

This file runs in Trip Desk's own `make test` too, so the fixture and this example cannot drift apart.
"""
from trip_shared.testing.polling import eventually


def test_a_customer_made_point_of_contact_of_a_trip_is_told_by_email_in_the_agencys_name(trip_desk):
    customers, itinerary, notify = (trip_desk.client(name) for name in ("customers", "itinerary", "notify"))
    created = customers.post("/v1/customers", json={"first_name": "Ada", "last_name": "Byron",
                                                    "email": "ada.byron@example.com"})
    assert created.status_code == 201, created.text
    trip = itinerary.post("/v1/itineraries", json={"title": "Lisbon long weekend", "start_date": "2027-03-05",
                                                  "end_date": "2027-03-08"})
    assert trip.status_code == 201, trip.text
    # The itinerary service learns of new customers from Kafka: a link may have to wait a moment for that.
    linked = eventually(lambda: (response := itinerary.post(
        f"/v1/itineraries/{trip.json()['id']}/customers",
        json={"customer_id": created.json()["id"], "is_poc": True})).status_code == 201 and response, timeout=30)
    assert linked.json()["customers"][0]["is_poc"] is True

    [email] = eventually(lambda: trip_desk.emails_to("ada.byron@example.com"), timeout=30)
    assert "Lisbon long weekend" in email["subject"] + email["text"]
    assert "Platform Test Travel" in email["text"], "every client message carries the agency's identity"
    logged = notify.get("/v1/notifications", params={"itinerary_id": trip.json()["id"]}).json()["items"]
    assert [(entry["kind"], entry["status"]) for entry in logged] == [("poc_assigned", "sent")]
