"""The client's pages as a client sees them: Debian's Chromium, headless, at a phone's width and a desktop's
(trip_shared.testing.browser): nothing wider than the screen, screenshots kept for a person to look at."""
from __future__ import annotations

import re

import pytest

from trip_shared.testing.browser import (
    OVERFLOW_CHECK,
    WIDTHS,
    assert_fits,
    screenshot_dir,
)
from trip_shared.testing.maildir import mails_to, subject, text_of, unique
from trip_shared.testing.polling import eventually

pytestmark = pytest.mark.e2e

INTERNAL = "INTERNAL: agent rate 620 EUR"


@pytest.fixture(scope="module")
def family_trip(api, stack):
    """A family of three to Tokyo and Kyoto, with client notes, internal notes and a two-option proposal."""
    email = f"{unique('family')}@example.com"
    parent = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Wei", "last_name": "Chen", "email": email, "preferred_language": "zh-Hans"})
    child = api.ok("POST", "customers", "/v1/customers", 201, json={"first_name": "Lin", "last_name": "Chen"})
    api.ok("POST", "customers", f"/v1/customers/{parent['id']}/consultations", 201,
           json={"dietary": ["no pork"], "accessibility": ["a stroller for a 3-year-old"]})
    itinerary = api.ok("POST", "itinerary", "/v1/itineraries", 201,
                       json={"title": unique("Tokyo and Kyoto with the kids "), "start_date": "2027-04-01",
                             "end_date": "2027-04-06"})
    base = f"/v1/itineraries/{itinerary['id']}"
    for customer in (parent, child):
        api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": customer["id"]})
    items = [
        {"kind": "flight", "title": "NH 212 London Heathrow to Tokyo Haneda", "start": "2027-04-01T19:00",
         "end": "2027-04-02T15:30", "timezone": "Europe/London", "end_timezone": "Asia/Tokyo",
         "location": {"address": "Heathrow Terminal 2"}, "end_location": {"address": "Haneda Terminal 3"}},
        {"kind": "accommodation", "title": "Park Hotel Tokyo, family room with an extra bed", "timezone": "Asia/Tokyo",
         "start": "2027-04-02T17:00", "end": "2027-04-04T10:00", "location": {"address": "1-7-1 Higashi-Shimbashi, "
                                                                                        "Minato-ku, Tokyo 105-7227"}},
        {"kind": "transfer", "title": "Private car to Tokyo Station", "start": "2027-04-04T08:30",
         "end": "2027-04-04T09:10", "timezone": "Asia/Tokyo", "mode": "car"},
        {"kind": "activity", "title": "teamLab Planets", "start": "2027-04-03T10:00", "end": "2027-04-03T12:00",
         "timezone": "Asia/Tokyo", "client_note": "Wear shorts or trousers you can roll up: you wade through water."},
    ]
    ids = []
    for item in items:
        ids.append(api.ok("POST", "itinerary", f"{base}/items", 201, json={**item, "notes": INTERNAL})["id"])
    api.ok("POST", "itinerary", f"{base}/stage", json={"stage": "planning"})
    api.ok("POST", "itinerary", f"{base}/proposals", 201, json={
        "message": "Two ways to see Tokyo", "options": [{"title": "Everything", "item_ids": ids},
                                                         {"title": "Without teamLab", "item_ids": ids[:3]}]})
    [mail] = eventually(lambda: [m for m in mails_to(stack.maildir, email) if "方案" in subject(m) or "proposal" in
                                 subject(m)], message="the POC never received the proposal")
    text = text_of(mail)
    proposal_url = re.search(r"(http://\S+/proposals/\S+)", text).group(1)
    share = api.ok("POST", "itinerary", f"{base}/share-link", 201)
    pages = {"proposal": proposal_url, "trip": share["url"], "trip_zh": share["url"] + "?lang=zh-Hans", "mail": text}
    # The suppliers' pages: the hotel answers in Chinese, the car company in English.
    for page_name, item_id, language in (("supplier_zh", ids[1], "zh-Hans"), ("supplier", ids[2], "en")):
        address = f"{unique('supplier')}@example.com"
        supplier = api.ok("POST", "booking", "/v1/suppliers", 201, json={
            "name": unique("Supplier "), "kind": "other", "language": language, "notes": INTERNAL,
            "contacts": [{"email": address}]})
        eventually(lambda: api.request("POST", "booking", "/v1/bookings", json={  # noqa: B023
            "itinerary_id": itinerary["id"], "item_id": item_id, "supplier_id": supplier["id"],  # noqa: B023
            "price": {"amount": "84000", "currency": "JPY"}, "vendor_note": "A family of three, one child",
            "respond_by": "2027-03-01T09:00:00Z"}).status_code == 201, message="booking never knew the trip")
        [request] = eventually(lambda: mails_to(stack.maildir, address), message="no request e-mail")  # noqa: B023
        pages[page_name] = re.search(r"(http://\S+/supplier/bookings/\S+)",
                                     text_of(request)).group(1)
    return pages


@pytest.mark.parametrize("page_name", ["trip", "trip_zh", "proposal", "supplier", "supplier_zh"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_client_pages_fit_a_phone_and_a_desktop(browser, family_trip, page_name, device, tmp_path_factory):
    context = browser.new_context(viewport={"width": WIDTHS[device], "height": 900},
                                  device_scale_factor=2 if device == "phone" else 1)
    page = context.new_page()
    response = page.goto(family_trip[page_name])
    assert response.status == 200
    page.screenshot(path=str(screenshot_dir(tmp_path_factory) / f"{page_name}-{device}.png"), full_page=True)
    layout = page.evaluate(OVERFLOW_CHECK)
    assert layout["scrollWidth"] <= layout["width"], layout
    assert layout["wide"] == [], layout
    body = page.inner_text("body")
    assert "INTERNAL" not in body
    assert "Demo Travel Co." in body and "+44 20 7946 0999" in body  # the agency and its 24/7 line
    assert "Wei Chen" in body and "Lin Chen" in body
    context.close()


def test_the_proposal_email_carries_no_internal_note(family_trip):
    assert "INTERNAL" not in family_trip["mail"]


@pytest.mark.parametrize("service", ["customers", "itinerary", "booking", "notify", "feedback"])
def test_each_services_api_documents_work_with_no_internet(browser, stack, service, tmp_path_factory):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    home, elsewhere, blocked = stack.service_url(service), [], []

    def only_this_service(route, request):
        if request.url.startswith(home):
            return route.continue_()
        elsewhere.append(request.url)
        return route.abort()

    page.route("**/*", only_this_service)
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    assert page.goto(f"{home}/docs").status == 200
    page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI lists each operation as an .opblock
    assert page.locator(".opblock").count() >= 5
    assert page.locator(".authorize").count() == 1, "the Bearer API key can be entered"
    page.screenshot(path=str(screenshot_dir(tmp_path_factory) / f"docs-{service}.png"))
    assert elsewhere == [] and blocked == [], (elsewhere, blocked)
    context.close()


def test_the_trip_page_leads_to_its_updates_which_arrive_live(browser, api, approved_trip, tmp_path_factory):
    trip_id, items, _ = approved_trip()
    share = api.ok("POST", "itinerary", f"/v1/itineraries/{trip_id}/share-link", 201)
    context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 900}, device_scale_factor=2)
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    assert page.goto(share["url"]).status == 200
    page.click("text=Updates from your agency")
    page.wait_for_selector("#updates")
    assert "Updates from Demo Travel Co." in page.inner_text("h1")
    assert "approved" in page.inner_text("article.entry"), "the approval is the trip's news so far"
    api.ok("PATCH", "itinerary", f"/v1/itineraries/{trip_id}/items/{items['flight']['id']}",
           json={"start": "2027-10-01T19:50", "notes": INTERNAL})
    # No reload: the page's event stream brings the digest once it goes (CHANGE_DIGEST_QUIET_S after the change).
    page.wait_for_selector("article.entry:has-text('BA5')", timeout=60_000)
    entry = page.inner_text("article.entry:has-text('BA5')")
    assert page.locator("article.entry").first.inner_text() == entry, "the newest comes first"
    assert "Your flight BA5 now leaves at 19:50 London time instead of 20:20." in entry
    assert "(Europe/London)" in entry and "INTERNAL" not in page.inner_text("body")
    assert "+44 20 7946 0999" in page.inner_text("body")
    assert_fits(page, screenshot_dir(tmp_path_factory), "updates")
    assert blocked == [], blocked
    context.close()


def test_a_traveller_complains_from_the_trip_page_and_accepts_the_offer_from_the_email(
        browser, api, stack, approved_trip, tmp_path_factory):
    trip_id, items, addresses = approved_trip()
    share = api.ok("POST", "itinerary", f"/v1/itineraries/{trip_id}/share-link", 201)
    folder = screenshot_dir(tmp_path_factory)
    context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 900}, device_scale_factor=2)
    page = context.new_page()
    assert page.goto(share["url"]).status == 200
    page.click("text=Something wrong? Tell us")
    page.click("text=中文")
    assert page.inner_text("h1") == "告诉我们哪里出了问题"
    mei = page.locator("#complainant option", has_text="Mei").get_attribute("value")
    page.select_option("#complainant", mei)
    page.select_option("#item_id", label=page.locator("#item_id option", has_text="Kaiseki").inner_text())
    written = "晚餐没有按我们说的准备素食，服务员也不知道。"
    page.fill("#account", written)
    assert_fits(page, folder, "complaint-form")
    page.click("button[type=submit]")
    assert "谢谢，我们已收到" in page.inner_text("h1")
    assert "(Asia/Tokyo)" in page.inner_text("body"), "the answer's deadline where the dinner is"
    assert_fits(page, folder, "complaint-sent")
    [received] = eventually(lambda: [m for m in mails_to(stack.maildir, addresses["zh-Hans"])
                                     if "我们已收到您关于行程" in subject(m)], message="no acknowledgement")
    assert "(Asia/Tokyo)" in text_of(received) and "+44 20 7946 0999" in text_of(received)
    [complaint] = api.ok("GET", "feedback", f"/v1/complaints?itinerary_id={trip_id}")["items"]
    assert (complaint["source"], complaint["complainant"], complaint["account"], complaint["item_id"]) == \
        ("client", mei, written, items["dinner"]["id"])
    path = f"/v1/complaints/{complaint['id']}"
    api.ok("POST", "feedback", f"{path}/analysis", json={
        "cause": "supplier", "supplier": "Gion Kaiseki", "finding": f"{INTERNAL}: the kitchen lost the note."})
    api.ok("POST", "feedback", f"{path}/offer", json={
        "remedy": "refund", "amount": "12000", "currency": "JPY",
        "message": "非常抱歉，晚餐没有照顾到您的饮食需求。我们将退还这顿晚餐的费用。"})
    [offered] = eventually(lambda: [m for m in mails_to(stack.maildir, addresses["zh-Hans"])
                                    if "我们的解决方案" in subject(m)], message="no offer e-mail")
    text = text_of(offered)
    assert "退款 12000.00 JPY" in text and "INTERNAL" not in text
    link = re.search(r"(http://\S+/complaints/\S+)", text).group(1)
    assert page.goto(link).status == 200
    body = page.inner_text("body")
    assert written in body and "退款 12000.00 JPY" in body and "INTERNAL" not in body
    assert "Demo Travel Co." in body and "+44 20 7946 0999" in body
    assert_fits(page, folder, "complaint-offer")
    page.click("text=接受此方案")
    assert "谢谢，您已接受我们的方案" in page.inner_text("body")
    done = api.ok("GET", "feedback", path)
    assert done["status"] == "accepted" and done["timeline"][-1]["actor"] == f"client:{mei}"
    context.close()
