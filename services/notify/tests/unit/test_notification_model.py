from datetime import date

import pytest

from notify.domain.model import MAX_ATTEMPTS, Contact, Notification, Trip, notification_id, render
from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError

TRIP = Trip("it-1", "Kyoto in autumn", date(2027, 10, 1), date(2027, 10, 9))


def new_notification() -> Notification:
    return Notification(id=notification_id("e-1", "c-1", "poc_assigned"), tenant_id="t", kind="poc_assigned",
                        itinerary_id="it-1", customer_id="c-1", source_event_id="e-1", trace_context={})


def test_the_id_is_deterministic_per_event_and_customer():
    assert notification_id("e-1", "c-1", "poc_assigned") == notification_id("e-1", "c-1", "poc_assigned")
    assert notification_id("e-1", "c-1", "poc_assigned") != notification_id("e-2", "c-1", "poc_assigned")


def test_it_waits_for_the_contact_then_goes_to_their_first_email():
    notification = new_notification()
    notification.address(None, TRIP)
    assert notification.status == "waiting_for_contact" and notification.recipient is None
    notification.address(Contact("c-1", "Mei", emails=["mei@example.com", "mei@work.example"]), TRIP)
    assert notification.status == "pending" and notification.recipient == "mei@example.com"
    assert "Kyoto in autumn" in notification.subject and "2027-10-01 to 2027-10-09" in notification.body


def test_a_customer_without_email_is_recorded_as_no_address():
    notification = new_notification()
    notification.address(Contact("c-1", "Mei"), TRIP)
    assert notification.status == "no_address" and notification.subject


def test_messages_are_in_the_customers_language():
    subject, body = render("poc_assigned", "zh-Hans", Contact("c-1", "美", preferred_language="zh-Hans"), TRIP)
    assert subject == "您是行程「Kyoto in autumn」的联系人"
    assert "联系人" in body and "2027-10-01 至 2027-10-09" in body
    subject, _ = render("poc_assigned", "en", Contact("c-1", "Mei"), TRIP)
    assert subject == "You are the point of contact for Kyoto in autumn"


def test_failures_back_off_and_give_up_visibly():
    notification = new_notification()
    notification.address(Contact("c-1", "Mei", emails=["m@example.com"]), TRIP)
    first_due = notification.next_attempt_at
    notification.failed_attempt("ConnectionRefusedError: smtp down")
    assert notification.status == "pending" and notification.attempts == 1
    assert notification.next_attempt_at > first_due and "smtp down" in notification.last_error
    for _ in range(MAX_ATTEMPTS - 1):
        notification.failed_attempt("still down")
    assert notification.status == "failed" and notification.attempts == MAX_ATTEMPTS


def test_an_unreachable_mail_server_costs_no_attempt_and_a_permanent_refusal_fails_at_once():
    notification = new_notification()
    notification.address(Contact("c-1", "Mei", emails=["m@example.com"]), TRIP)
    for _ in range(MAX_ATTEMPTS * 3):
        notification.channel_unavailable("ConnectionRefusedError: smtp down")
    assert notification.status == "pending" and notification.attempts == 0
    assert notification.next_attempt_at <= utc_now(), "it goes as soon as the server is back"
    notification.refused("550 no such mailbox")
    assert notification.status == "failed" and notification.attempts == 1 and "550" in notification.last_error


def test_only_failed_notifications_can_be_retried():
    notification = new_notification()
    with pytest.raises(ConflictError):
        notification.retry()
    notification.status, notification.attempts = "failed", MAX_ATTEMPTS
    notification.retry()
    assert notification.status == "pending" and notification.attempts == 0


def test_booking_confirmations_come_as_one_digest_with_the_trips_progress():
    stay = {"title": "Garden room", "vendor_name": "Hoshinoya", "confirmation_code": "HX-42", "kind": "accommodation",
            "start": "2027-10-01T15:00", "end": "2027-10-04T11:00", "timezone": "Asia/Tokyo"}
    details = {"confirmed": [stay, {**stay, "title": "Kaiseki dinner", "confirmation_code": "K-7"}],
               "confirmed_count": 9, "required_count": 12}
    subject, body = render("bookings_confirmed", "en", Contact("c-1", "Mei"), TRIP, details)
    assert subject == "Kyoto in autumn: 9 of 12 services are confirmed."
    assert ("  - Garden room (Hoshinoya), Fri 01 Oct 2027, 15:00 (Asia/Tokyo) – Mon 04 Oct 2027, 11:00 (Asia/Tokyo)"
            ", confirmation HX-42") in body and "confirmation K-7" in body
    subject, body = render("bookings_confirmed", "zh-Hans", Contact("c-1", "美"), TRIP,
                           {**details, "confirmed_count": 12})
    assert subject == "行程「Kyoto in autumn」：全部服务均已确认（12/12）。" and "确认号 HX-42" in body


def test_a_confirmed_service_that_falls_through_says_so_and_who_is_on_it():
    service = {"title": "Kaiseki dinner", "vendor_name": "Gion Karyo", "start": "2027-10-02T19:00",
               "timezone": "Asia/Tokyo", "confirmation_code": "K-7"}
    subject, body = render("booking_lost", "en", Contact("c-1", "Mei"), TRIP, {"service": service})
    assert subject == "Important: a booking for Kyoto in autumn has changed"
    assert "Kaiseki dinner (Gion Karyo), Sat 02 Oct 2027, 19:00 (Asia/Tokyo)" in body and "K-7" not in body
    assert "alternative" in body


def test_a_profile_form_invitation_carries_the_link_in_the_customers_language():
    details = {"url": "https://desk.example/forms/profile/abc", "expires_at": "2027-01-08T10:00:00+00:00"}
    subject, body = render("profile_form", "en", Contact("c-1", "Mei"), None, details)
    assert subject == "Please complete your travel profile"
    assert "https://desk.example/forms/profile/abc" in body and "2027-01-08" in body
    subject, body = render("profile_form", "zh-Hans", Contact("c-1", "美"), None, details)
    assert subject == "请完善您的旅行资料" and "https://desk.example/forms/profile/abc" in body
