"""What clients hear after approving a trip, across every service: the planner changes the trip three times within a
minute, and each point of contact gets one digest, in their own language, with the three changes in local times;
during the trip, every traveller gets each evening's summary of tomorrow."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from trip_shared.testing.maildir import mails_to, subject, text_of, unique
from trip_shared.testing.polling import eventually
from trip_shared.testing.proposals import approve_from_the_email

pytestmark = pytest.mark.e2e
INTERNAL = "INTERNAL: upgrade owed by the hotel"


def test_three_changes_within_a_minute_reach_each_poc_as_one_digest_in_their_language(api, stack, approved_trip):
    trip_id, items, addresses = approved_trip()
    base = f"/v1/itineraries/{trip_id}"
    started = time.monotonic()
    api.ok("PATCH", "itinerary", f"{base}/items/{items['flight']['id']}",
           json={"start": "2027-10-01T19:50", "notes": INTERNAL + " (retimed by BA)"})
    api.ok("PATCH", "itinerary", f"{base}/items/{items['dinner']['id']}",
           json={"start": "2027-10-03T20:00", "end": "2027-10-03T22:00"})
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "activity", "title": "Tea ceremony", "timezone": "Asia/Tokyo", "start": "2027-10-02T10:00",
        "end": "2027-10-02T11:30", "notes": INTERNAL})
    assert time.monotonic() - started < 60

    def digests(address):
        return [m for m in mails_to(stack.maildir, address) if "Changes to your trip" in subject(m)
                or "有变动" in subject(m)]

    eventually(lambda: all(digests(a) for a in addresses.values()), timeout=60,
               message="a POC never got the digest of the changes")
    time.sleep(stack_quiet_s(stack) + 3)  # nothing more follows: one digest each
    english, chinese = digests(addresses["en"]), digests(addresses["zh-Hans"])
    assert len(english) == 1 and len(chinese) == 1
    text = text_of(english[0])
    assert "Your flight BA5 now leaves at 19:50 London time instead of 20:20." in text
    assert "Kaiseki dinner now starts at 20:00 Tokyo time instead of 19:00." in text
    assert "Added: Tea ceremony, Sat 02 Oct 2027, 10:00 (Asia/Tokyo) – 11:30 (Asia/Tokyo)." in text
    assert "INTERNAL" not in text
    live = re.search(r"Your itinerary, always up to date: (\S+)", text)
    assert live, "every client message links to the live itinerary"
    page = httpx.get(live[1])
    assert page.status_code == 200 and "19:50" in page.text and "Tea ceremony" in page.text
    text = text_of(chinese[0])
    assert subject(chinese[0]).startswith("您的行程「Kyoto in autumn")
    assert "您的航班 BA5 改为当地时间（Europe/London） 19:50出发，原为20:20。" in text
    assert "Kaiseki dinner 改为当地时间（Asia/Tokyo） 20:00开始，原为19:00。" in text
    assert "新增：Tea ceremony" in text and "INTERNAL" not in text
    # The delivery log has them, one per POC, sent.
    sent = [n for n in api.ok("GET", "notify", "/v1/notifications", params={"itinerary_id": trip_id})["items"]
            if n["kind"] == "trip_changes"]
    assert sorted(n["recipient"] for n in sent) == sorted(addresses.values())
    assert {n["status"] for n in sent} == {"sent"}


def stack_quiet_s(stack) -> float:
    return float(stack.extra_env.get("CHANGE_DIGEST_QUIET_S", "600"))


def evening_zone(now: datetime) -> tuple[str, datetime]:
    """A zone where it is now between 19:00 and 20:00 (an Etc/GMT zone: every hour of the day is somewhere)."""
    for offset in range(-12, 15):
        local = now + timedelta(hours=offset)
        if local.hour == 19:
            # Etc/GMT signs are inverted: Etc/GMT-9 is UTC+9.
            return (f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"), local.replace(tzinfo=None)
    raise AssertionError("no zone at 19:00")


def test_during_a_trip_each_traveller_gets_the_evening_summary_of_tomorrow(api, stack):
    zone, local_now = evening_zone(datetime.now(UTC))
    today, tomorrow = local_now.date(), local_now.date() + timedelta(days=1)
    poc_email, friend_email = f"{unique('ana')}@example.com", f"{unique('tom')}@example.com"
    poc = api.ok("POST", "customers", "/v1/customers", 201, json={"first_name": "Ana", "email": poc_email})
    friend = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Tom", "email": friend_email, "preferred_language": "zh-Hans"})
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Lisbon long weekend "), "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=3)).isoformat()})
    base = f"/v1/itineraries/{trip['id']}"
    for customer in (poc, friend):
        api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": customer["id"]})
    started = (local_now - timedelta(hours=3)).replace(second=0, microsecond=0)
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "activity", "title": "Tram 28", "timezone": zone, "start": started.isoformat(timespec="minutes"),
        "end": (started + timedelta(hours=1)).isoformat(timespec="minutes")})
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "activity", "title": "Sintra palaces", "timezone": zone, "start": f"{tomorrow}T09:30",
        "end": f"{tomorrow}T16:00", "location": {"address": "Sintra"}, "notes": INTERNAL})
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "dining", "title": "Fado dinner", "timezone": zone, "start": f"{tomorrow}T20:00",
        "end": f"{tomorrow}T22:30"})
    for stage in ("planning", "proposed", "approved", "booked", "in_progress"):
        if stage == "proposed":
            api.ok("POST", "itinerary", f"{base}/proposals", 201, json={"options": [{"title": "As discussed"}]})
            continue
        if stage == "approved":
            [mail] = eventually(lambda: [m for m in mails_to(stack.maildir, poc_email) if "proposal" in subject(m)])
            link = re.search(r"(http://\S+/proposals/\S+)", text_of(mail)).group(1)
            option = api.ok("GET", "itinerary", f"{base}/proposals")["items"][0]["options"][0]["id"]
            assert httpx.post(link, data={"action": "approve", "option": option}).status_code == 200
            continue
        api.ok("POST", "itinerary", f"{base}/stage", json={"stage": stage})

    def summaries(address):
        return [m for m in mails_to(stack.maildir, address) if "Tomorrow" in subject(m) or "明日行程" in subject(m)]

    eventually(lambda: summaries(poc_email) and summaries(friend_email), timeout=60,
               message="the evening summary never came")
    time.sleep(5)  # the clock keeps ticking: still one each
    [english], [chinese] = summaries(poc_email), summaries(friend_email)
    text = text_of(english)
    assert "Sintra palaces" in text and "09:30 (" + zone + ")" in text and "Fado dinner" in text
    assert "Tram 28" not in text and "INTERNAL" not in text and "Demo Travel Co." in text
    assert subject(chinese).startswith("明日行程（") and "Sintra palaces" in text_of(chinese)


def test_an_urgent_change_its_client_does_not_confirm_reading_reaches_the_planner(api, stack):
    email, last_name = f"{unique('lin')}@example.com", unique("Lin")
    lin = api.ok("POST", "customers", "/v1/customers", 201, json={"first_name": "Lin", "last_name": last_name,
                                                                  "email": email})
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Edinburgh weekend "), "start_date": tomorrow.isoformat(),
        "end_date": (tomorrow + timedelta(days=2)).isoformat()})
    base = f"/v1/itineraries/{trip['id']}"
    api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": lin["id"]})
    train = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "transfer", "mode": "train", "title": "LNER 1S07", "timezone": "Europe/London",
        "start": f"{tomorrow}T10:00", "end": f"{tomorrow}T14:20"})
    approve_from_the_email(api, stack.maildir, base, email)

    api.ok("PATCH", "itinerary", f"{base}/items/{train['id']}", json={"start": f"{tomorrow}T11:00",
                                                                     "end": f"{tomorrow}T15:20"})
    [urgent] = eventually(lambda: [m for m in mails_to(stack.maildir, email) if subject(m).startswith("Important")],
                          message="the urgent change never reached the client")
    assert "Your transfer LNER 1S07 now leaves at 11:00 London time instead of 10:00." in text_of(urgent)
    assert "Please confirm you have read this: http" in text_of(urgent)
    # Lin does not open it: the planner's desk (the agency's support address) is told, with what was said.
    [told] = eventually(lambda: [m for m in mails_to(stack.maildir, "help@agency.example")
                                 if subject(m).endswith(f"to Lin {last_name}")], timeout=60,
                        message="the planner never heard the urgent message went unread")
    assert "was sent but not confirmed as read" in text_of(told) and "LNER 1S07" in text_of(told)
    record = next(n for n in api.ok("GET", "notify", "/v1/notifications", params={"itinerary_id": trip["id"]})["items"]
                  if n["kind"] == "trip_changes")
    assert record["escalated_at"] and not record["acknowledged_at"]


def test_a_change_needing_agreement_is_answered_from_the_email_and_lands_on_the_trip(api, stack, approved_trip):
    trip_id, items, addresses = approved_trip()
    base = f"/v1/itineraries/{trip_id}"
    api.ok("PATCH", "itinerary", f"{base}/items/{items['dinner']['id']}", json={
        "start": "2027-10-03T18:00", "end": "2027-10-03T20:00",
        "ask_client": {"reason": "The restaurant can only seat six of us at 18:00."}})
    [ask] = eventually(lambda: [m for m in mails_to(stack.maildir, addresses["en"]) if "Please confirm" in subject(m)],
                       message="the POC was never asked")
    text = text_of(ask)
    assert "Kaiseki dinner now starts at 18:00 Tokyo time instead of 19:00." in text
    assert "Why: The restaurant can only seat six of us at 18:00." in text and "INTERNAL" not in text
    link = re.search(r"(http://\S+/agreements/\S+)", text).group(1)
    assert "Please call me first" in httpx.get(link).text
    assert httpx.post(link, data={"answer": "call_me"}).status_code == 200
    agreement = eventually(lambda: [a for a in api.ok("GET", "itinerary", base)["agreements"]
                                    if a["status"] == "call_requested"], message="the answer never reached the trip")
    assert agreement[0]["answers"][0]["answer"] == "call_me"
    eventually(lambda: [m for m in mails_to(stack.maildir, "help@agency.example") if "Please call" in subject(m)],
               message="the planners' desk was never asked to call")
