"""Surveys through the whole platform, as the traveller meets them: the check-in arrives by e-mail on its day, is
answered on a phone in Chromium, and a low answer becomes a complaint the traveller hears about; once the trip is
completed the survey after it arrives too."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import sync_playwright

from trip_shared.testing.browser import CHROMIUM, CHROMIUM_ARGS, WIDTHS, assert_fits, screenshot_dir
from trip_shared.testing.maildir import mails_to, subject, text_of, unique
from trip_shared.testing.polling import eventually
from trip_shared.testing.proposals import approve_from_the_email

pytestmark = pytest.mark.e2e
TOKYO = ZoneInfo("Asia/Tokyo")
DEFAULTS = {"mid_trip_day": 2, "post_trip_delay_hours": 24, "reminder_after_hours": 72}


@pytest.fixture
def surveys_at_once(api):
    """The check-in on the first evening and the survey as soon as the trip is completed, for this test only."""
    api.ok("PUT", "feedback", "/v1/survey-settings", json={**DEFAULTS, "mid_trip_day": 1,
                                                           "post_trip_delay_hours": 0})
    yield
    api.ok("PUT", "feedback", "/v1/survey-settings", json=DEFAULTS)


def survey_mail(stack, address: str, marker: str):
    return eventually(lambda: [m for m in mails_to(stack.maildir, address) if marker in subject(m)],
                      timeout=60, message=f"{address} never got {marker!r}")[-1]


def test_the_check_in_is_answered_on_a_phone_a_low_answer_is_followed_up_and_the_survey_follows_the_trip(
        api, stack, surveys_at_once, tmp_path_factory):
    email = f"{unique('lin')}@example.com"
    lin = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Lin", "last_name": unique("Wang"), "email": email, "preferred_language": "zh-Hans"})
    yesterday = datetime.now(TOKYO).date() - timedelta(days=1)
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Tokyo food week "), "start_date": yesterday.isoformat(),
        "end_date": (yesterday + timedelta(days=5)).isoformat()})
    base = f"/v1/itineraries/{trip['id']}"
    api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": lin["id"]})
    # Under way until tomorrow (the itinerary completes a trip by itself once its last item is over).
    started = (datetime.now(UTC) - timedelta(hours=3)).astimezone(TOKYO)
    api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "activity", "title": "Tsukiji breakfast tour", "timezone": "Asia/Tokyo",
        "start": started.strftime("%Y-%m-%dT%H:%M"), "end": (started + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "notes": "INTERNAL: guide paid cash"})
    tomorrow = started + timedelta(days=1)
    dinner = api.ok("POST", "itinerary", f"{base}/items", 201, json={
        "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo",
        "start": tomorrow.strftime("%Y-%m-%dT%H:%M"), "end": (tomorrow + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
    approve_from_the_email(api, stack.maildir, base, email)
    for stage in ("booked", "in_progress"):
        api.ok("POST", "itinerary", f"{base}/stage", json={"stage": stage})

    check_in = survey_mail(stack, email, "旅途还顺利吗")
    text = text_of(check_in)
    assert "INTERNAL" not in text and "(Asia/Tokyo)" in text, "closing time where the trip is, the zone named"
    link = re.search(r"(http://\S+/surveys/\S+)", text).group(1)
    assert link.endswith("?lang=zh-Hans"), "the page opens in the traveller's language"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": WIDTHS["phone"], "height": 900}, device_scale_factor=2)
        assert page.goto(link).status == 200
        assert "旅途还顺利吗？" in page.inner_text("h1") and "Tsukiji breakfast tour" in page.inner_text("body")
        page.check("input[name=overall][value='2']")
        page.check("input[name=nps][value='3']")
        page.fill("#comment", "导游迟到了四十分钟，也没有道歉。")
        assert_fits(page, screenshot_dir(tmp_path_factory), "survey")
        page.click("button[type=submit]")
        assert "谢谢！" in page.inner_text("h1") and "会与您联系" in page.inner_text("body")
        browser.close()

    [survey] = api.ok("GET", "feedback", f"/v1/surveys?itinerary_id={trip['id']}")["items"]
    [answer] = survey["answers"]
    assert (survey["kind"], survey["response_rate"], answer["overall"], answer["nps"]) == ("mid_trip", 1.0, 2, 3)
    complaint = api.ok("GET", "feedback", f"/v1/complaints/{answer['complaint_id']}")
    assert (complaint["source"], complaint["account"]) == ("survey", "导游迟到了四十分钟，也没有道歉。")
    survey_mail(stack, email, "我们已收到您关于行程")  # the follow-up's acknowledgement, in their language

    # The last evening is called off: with nothing left, the trip is over (the itinerary's clock completes it, or
    # the planner does).
    api.ok("DELETE", "itinerary", f"{base}/items/{dinner['id']}", 204)
    api.request("POST", "itinerary", f"{base}/stage", json={"stage": "completed"})
    eventually(lambda: api.ok("GET", "itinerary", base)["stage"] == "completed", message="the trip never ended")
    after = text_of(survey_mail(stack, email, "这次旅行怎么样"))
    assert re.search(r"http://\S+/surveys/\S+", after) and "INTERNAL" not in after
